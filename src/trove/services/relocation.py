"""Relocating a library: its folder is mounted somewhere else now (a NAS share renamed, a disk
moved to another machine), and every id, tag, album, link, region and preview must stay.

Before the switch a sample of its files (up to SAMPLE files spread over the library, hashed
when indexed) is looked for at the new place: same relative path, same size, same SHA-256.
At least MIN_MATCHING of the sample must match and none may be present with other content,
or the relocation is refused with the files that did not match named: pointing a library at
the wrong folder would mark everything missing. Then the root's path and every asset's URN
change in one transaction (ids, user data and the hash-keyed previews are untouched) and a
rescan settles what changed while the library was away.

A library that reappears elsewhere is offered for relocation instead of being indexed as
new: when a folder that is not a library yet is added (`trove scan`, the libraries page),
each library whose folder is gone is sampled at the new place the same way, and a match is
an offer (`RelocationOffered`), which the caller turns into a question (CLI prompt,
`--relocate` / `--as-new`; a banner with a Relocate button in the UI). A folder is gone when
it is missing or unreadable, or when it holds nothing while the index holds its files: the
scanner's rule for an offline library, since a mount point is most often left behind as an
empty folder. Cheap when nothing is offline: the first entry of each library's folder looked
at, no library sampled, no file read.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.db.models import Root
from trove.domain.paths import from_stored
from trove.repositories.fast_index import RootRow
from trove.repositories.library_admin import LibraryAdminRepository
from trove.repositories.links import LinkRepository
from trove.repositories.roots import RootRepository
from trove.services.errors import Conflict, Invalid, NotFound, RelocationOffered
from trove.services.root_policy import own_upload_folder, refuse_nested
from trove.services.scanner import (
    ScanService,
    canonical_root,
    holds_nothing_to_index,
    library_unavailable_reason,
    root_unavailable_reason,
)
from trove.storage.hashing import sha256_file
from trove.storage.originals import OriginalUnavailable

SAMPLE = 24
MIN_MATCHING = 0.9
MAX_NAMED = 5


class Found(enum.Enum):
    """What is at a sampled file's path in the new place."""

    SAME = "same"
    ABSENT = "absent"
    DIFFERENT = "different"
    UNREADABLE = "unreadable"


@dataclass
class SampleCheck:
    sampled: int = 0
    matched: int = 0
    absent: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    # Present but not a file that can be read as an original (a symlink, a FIFO, no read
    # permission, changing while read): no evidence either way, so it counts like an absent one.
    unreadable: list[str] = field(default_factory=list)

    def record(self, shown: str, found: Found) -> None:
        self.sampled += 1
        if found is Found.SAME:
            self.matched += 1
        elif found is Found.DIFFERENT:
            self.different.append(shown)
        elif found is Found.ABSENT:
            self.absent.append(shown)
        else:
            self.unreadable.append(shown)

    @property
    def passes(self) -> bool:
        enough = self.sampled > 0 and self.matched >= MIN_MATCHING * self.sampled
        return enough and not self.different

    def problem(self) -> str:
        if not self.sampled:
            return "the library has no fingerprinted files to compare"
        named = [f"{p} (other content)" for p in self.different[:MAX_NAMED]]
        named += [f"{p} (absent)" for p in self.absent[: MAX_NAMED - len(named)]]
        named += [f"{p} (unreadable)" for p in self.unreadable[: MAX_NAMED - len(named)]]
        return (
            f"only {self.matched} of {self.sampled} sampled files are there with the same "
            f"content: {', '.join(named)}"
        )


class LibraryRelocation:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database

    def relocate(self, root: str, new_path: str) -> dict[str, Any]:
        """Point the library `root` (its id or its former path) at `new_path`, after the
        sample check; what was done. The caller rescans the library afterwards."""
        new = self._usable_folder(new_path)
        with self.database.session() as session:
            repo = RootRepository(session)
            found = repo.get(root) or repo.by_path(canonical_root(root)) or repo.by_path(root)
            if found is None:
                raise NotFound(f"no library {root!r} (give its id or its former path)")
            if found.path == new:
                raise Invalid(f"library {found.name!r} is already at {new}")
            self._refuse_taken(repo, found.id, new)  # before the files are compared
            check = self._check(session, found.id, new)
            if not check.passes:
                raise Invalid(f"not relocated: {new}: {check.problem()}")
            repo.hold_libraries()
            occupant = self._refuse_taken(repo, found.id, new)  # a library added meanwhile
            if occupant is not None:  # added a moment ago and never indexed: it gives way
                _forget_empty(session, occupant.id)
            old_path, old_name = found.path, found.name
            default_name = old_name == (os.path.basename(old_path) or old_path)
            name = (os.path.basename(new) or new) if default_name else old_name
            updated = repo.relocate(found.id, path=new, name=name)
            return {
                "id": found.id,
                "name": name,
                "old_path": old_path,
                "new_path": new,
                "sampled": check.sampled,
                "matched": check.matched,
                "assets": updated,
            }

    def _refuse_taken(self, repo: RootRepository, root_id: str, new: str) -> Root | None:
        """Conflict when `new` is a library with indexed files, or inside one or holding one;
        else the library at `new` added a moment ago and never indexed, if any."""
        occupant = repo.by_path(new)
        if occupant is not None and repo.count_files(occupant.id):
            raise Conflict(
                f"{new} is already the library {occupant.name!r} with indexed files; "
                "remove that library first to relocate this one there"
            )
        others = [r for r in repo.all() if r.id != root_id]
        refuse_nested(new, others, upload_folder=own_upload_folder(self.settings))
        return occupant

    def offer_for(self, new_path: str) -> dict[str, Any] | None:
        """The library whose folder is gone (`_is_gone`) and whose files `new_path` holds, if
        any."""
        new = canonical_root(new_path)
        with self.database.session() as session:
            repo = RootRepository(session)
            occupant = repo.by_path(new)
            if occupant is not None and repo.count_files(occupant.id):
                return None
            for root in repo.all():
                if root.path == new or not self._is_gone(repo, root):
                    continue
                check = self._check(session, root.id, new)
                if check.passes:
                    return {
                        "id": root.id,
                        "name": root.name,
                        "old_path": root.path,
                        "new_path": new,
                        "sampled": check.sampled,
                        "matched": check.matched,
                    }
        return None

    def refuse_if_offered(self, new_path: str) -> None:
        """For a folder about to be added as a new library: RelocationOffered if it is a
        library that moved."""
        offer = self.offer_for(new_path)
        if offer is not None:
            raise RelocationOffered(offer)

    def _is_gone(self, repo: RootRepository, root: Root) -> bool:
        """Its folder is missing, unreadable or on another disk without its files, or holds
        nothing while the index holds its files (offline by the scanner's rules, whether or
        not a scan has said so yet; a folder marked offline that holds files again is back,
        not gone)."""
        row = RootRow.of(root)
        if library_unavailable_reason(self.settings.resolved_database_url, row) is not None:
            return True
        rules = ScanService(self.settings).walk_rules(row)
        return holds_nothing_to_index(root.path, rules) and repo.holds_present_files(root.id)

    def _usable_folder(self, new_path: str) -> str:
        if "\x00" in new_path:
            raise Invalid("path: contains a NUL byte")
        new = canonical_root(new_path)
        reason = root_unavailable_reason(new)
        if reason:
            raise Invalid(f"{new_path}: {reason}")
        return new

    def _check(self, session: Any, root_id: str, new: str) -> SampleCheck:
        check = SampleCheck()
        for rel, escaped, size, digest in RootRepository(session).sample_files(
            root_id, limit=SAMPLE
        ):
            shown = from_stored(rel, escaped=escaped)
            check.record(shown, _compare(os.path.join(new, shown), size=size, digest=digest))
        return check


def _compare(path: str, *, size: int, digest: str) -> Found:
    """How the file at `path` compares with the indexed one. A symlink, a FIFO, a file that
    cannot be read or changes while read is UNREADABLE: sha256_file refuses it with
    OriginalUnavailable, which is no OSError."""
    try:
        if os.stat(path).st_size != size:
            return Found.DIFFERENT
        found = sha256_file(path)[0]
    except OSError:
        return Found.ABSENT
    except OriginalUnavailable:
        return Found.UNREADABLE
    return Found.SAME if found == digest else Found.DIFFERENT


def _forget_empty(session: Any, root_id: str) -> None:
    """A library with no file indexed yet (its folder asset only) goes."""
    admin = LibraryAdminRepository(session)
    ids = admin.asset_ids(root_id, limit=10)
    LinkRepository(session).delete_touching(ids)
    admin.delete_assets(ids)
    admin.delete_root(root_id)
    session.flush()
