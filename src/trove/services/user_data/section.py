"""One section of an export: the records of one kind of thing people make.

A section writes its records (`records`) and restores one (`restore`). The sections are listed
in `sections.SECTIONS`, in the order an import needs them (people before the albums they own,
albums and notes before the links that point at them); a new kind of user data (edits,
preferred copies) is a new section there, and its records are ignored with a word in the
report by a Trove that does not know them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from trove.domain.access import LOCAL_OWNER_ID, Viewer
from trove.repositories.user_data import UserDataRepository
from trove.services.user_data.copies import CopyChoice
from trove.services.user_data.records import KEYED_KINDS, ImportReport, Record, Refs, describe

if TYPE_CHECKING:
    from trove.services.user_data.service import UserDataService


@dataclass
class ExportContext:
    repo: UserDataRepository
    refs: Refs
    writable: tuple[str, ...]
    # Share tokens and password hashes: in the file only when asked for (see the README).
    secrets: bool
    user_names: dict[str, str]

    def owner(self, user_id: str | None) -> str | None:
        return self.user_names.get(user_id or "")


@dataclass
class ImportContext:
    service: UserDataService
    report: ImportReport
    # `kind:key` in the file -> the id made or found here.
    keys: dict[str, str] = field(default_factory=dict)
    # The ids here that a record of this import became: no other record may become them too
    # (two albums of one name, two users' bookmarks of one URL stay two).
    claimed: set[str] = field(default_factory=set)
    # Records a section restores in batches, until its `flush`.
    pending: dict[str, list[Record]] = field(default_factory=dict)
    # Which copy each file REF went to: every section that names a file finds the same one.
    copies: CopyChoice = field(default_factory=CopyChoice)

    def session(self) -> Any:
        return self.service.database.session()

    def unclaimed(self, record: Record, candidates: Sequence[str]) -> str | None:
        """Which of the things here that could be a record's (oldest first) is its: the one
        whose id is the record's key (an import into the index the file was exported from),
        else the oldest that no record of this import became. None: a new one is to be made.

        Oldest first, because an import makes a record's things in the order of the file: a
        second import then finds each where the first one put it."""
        free = [c for c in candidates if c not in self.claimed]
        key = record.get("key")
        return key if key in free else next(iter(free), None)

    def became(self, record: Record, found_id: str) -> None:
        """The record is `found_id` here: what later records point at with its key, and
        taken for any other record of this import."""
        self.keys[f"{record['kind']}:{record['key']}"] = found_id
        self.claimed.add(found_id)

    def find(self, ref: Record | None) -> str | None:
        """The id here of what a REF names, or None when it is not here."""
        if not ref:
            return None
        for kind in KEYED_KINDS:
            if kind in ref:
                return self.keys.get(f"{kind}:{ref[kind]}")
        return self.find_files([ref])[0]

    def find_files(self, refs: list[Record]) -> list[str | None]:
        """`find` for many files at once (one query for their hashes)."""
        with self.session() as session:
            return self.copies.ids(UserDataRepository(session), refs)

    def describe_missing(self, ref: Record | None) -> str:
        """What `find` did not find, for the report; for a file whose content is here, why
        not (its copies went to other records: one copy never takes two records' data)."""
        if ref and self.copies.is_crowded_out(ref):
            return f"{describe(ref)} (each copy here went to another record)"
        return describe(ref)

    def owner_viewer(self, name: str | None) -> Viewer:
        """Acting as the named owner (an admin's rights), so what is made is theirs; the
        local owner when the name is unknown here."""
        return Viewer(user_id=self.owner_id(name), is_admin=True)

    def owner_id(self, name: str | None) -> str:
        """The named owner's id here; the local owner's when the name is unknown here."""
        return self.user_id(name) or LOCAL_OWNER_ID

    def user_id(self, name: str | None) -> str | None:
        if not name:
            return None
        with self.session() as session:
            return UserDataRepository(session).user_id_named(name)


class Section(Protocol):
    kinds: tuple[str, ...]

    def flush(self, ctx: ImportContext) -> None:
        """Restore what `restore` held back for a batch (called when the records of this
        section end)."""
        ...

    def records(self, ctx: ExportContext) -> Iterator[Record]:
        """Every record of this section, ready for json.dumps."""
        ...

    def restore(self, record: Record, ctx: ImportContext) -> None:
        """Put one record back (idempotent: a second import finds what the first made), and
        count it in `ctx.report` as matched or not."""
        ...


class OneByOne:
    """A section that restores each record as it comes."""

    def flush(self, ctx: ImportContext) -> None:
        return None
