"""Which file here a REF of an import names, when several files have its content.

Identical copies (a backup folder, the same photo in two albums' folders) share a hash, so the
hash alone cannot tell them apart: each REF is given the copy with the best evidence that it
is the same file, and no copy is given to two REFs (their records would overwrite each other).
The copy at the very place a REF names is that REF's even when another REF of that content
comes first in the file (every REF is read before any record is applied): a copy moved since
the export never takes the data of one that stayed. The choice is remembered for the whole
import, so an album member, a link or a preferred copy that names a file lands on the copy its
own record went to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from trove.repositories.user_data import UserDataRepository
from trove.services.user_data.records import Record

# (hash, root, path) of a REF: how an import tells one file's references from another's.
RefKey = tuple[str | None, str | None, str | None]
# (id, root path, relative path) of a file here.
Copy = tuple[str, str, str | None]
Evidence = Callable[[Record, Copy], bool]


def _same_place(ref: Record, copy: Copy) -> bool:
    return (copy[1], copy[2]) == (ref.get("root"), ref.get("path"))


def _same_path_in_another_root(ref: Record, copy: Copy) -> bool:
    """A library mounted elsewhere: each file keeps its place under the new root."""
    return copy[2] == ref.get("path")


def _same_file_name(ref: Record, copy: Copy) -> bool:
    return _file_name(copy[2]) == _file_name(ref.get("path"))


def _any_copy(ref: Record, copy: Copy) -> bool:
    return True


# Strongest first: a REF takes a copy on weaker evidence only when no stronger match is left.
EVIDENCE: tuple[Evidence, ...] = (
    _same_place,
    _same_path_in_another_root,
    _same_file_name,
    _any_copy,
)


@dataclass
class CopyChoice:
    """The copy chosen for each REF met so far in one import, and the copies taken."""

    chosen: dict[RefKey, str | None] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)
    # REFs whose content is here, in copies all taken by other records.
    crowded_out: set[RefKey] = field(default_factory=set)
    # Every file REF of the import (`files_named`): the copy at the place one of them names
    # is kept for it, even when another REF of that content is met first.
    named: set[int] = field(default_factory=set)

    def ids(self, repo: UserDataRepository, refs: list[Record]) -> list[str | None]:
        """The id of the file each REF names, or None when none is left for it."""
        new = {key_of(ref): ref for ref in refs if key_of(ref) not in self.chosen}
        copies = repo.live_ids_with_hashes([r["hash"] for r in new.values() if r.get("hash")])
        by_content = {k: r for k, r in new.items() if copies.get(r.get("hash") or "")}
        self._match_by_content(by_content, copies)
        for key, ref in new.items():
            if key not in by_content:
                self._claim(key, _id_at_place(repo, ref))
        return [self.chosen[key_of(ref)] for ref in refs]

    def _match_by_content(self, refs: dict[RefKey, Record], copies: dict[str, list[Copy]]) -> None:
        """The strongest evidence of the whole batch first, so that one record's weak match
        never takes the copy that sits where another record of the batch was. A REF met
        later (the next batch of files, an album member with no record of its own) can still
        find that copy taken: the data already restored on it is not moved again."""
        for evidence in EVIDENCE:
            for key, ref in refs.items():
                if key not in self.chosen:
                    self._claim_by(evidence, ref, copies[ref["hash"]])
        for key in refs.keys() - self.chosen.keys():
            self._crowd_out(key)

    def is_crowded_out(self, ref: Record) -> bool:
        """REF's file is here, in copies that all went to other REFs."""
        return key_of(ref) in self.crowded_out

    def _claim_by(self, evidence: Evidence, ref: Record, copies: list[Copy]) -> None:
        """The first unclaimed copy, by path, that EVIDENCE says is REF's."""
        for copy in sorted(copies, key=lambda c: (c[1], c[2] or "")):
            if copy[0] in self.claimed or self._kept_for_another(ref, copy):
                continue
            if evidence(ref, copy):
                self._claim(key_of(ref), copy[0])
                return

    def _kept_for_another(self, ref: Record, copy: Copy) -> bool:
        """COPY sits where another REF of the import had this content: that REF's, by the
        strongest evidence there is, however late its record comes."""
        where = (ref.get("hash"), copy[1], copy[2])
        return not _same_place(ref, copy) and hash(where) in self.named

    def _claim(self, key: RefKey, asset_id: str | None) -> None:
        """ASSET_ID for the REF of KEY, unless another REF has it."""
        if asset_id in self.claimed:
            self._crowd_out(key)
            return
        self.chosen[key] = asset_id
        if asset_id is not None:
            self.claimed.add(asset_id)

    def _crowd_out(self, key: RefKey) -> None:
        self.chosen[key] = None
        self.crowded_out.add(key)


def files_named(records: Iterable[Record]) -> set[int]:
    """The key of every file REF in these records, wherever a record holds one (an asset's,
    a region's picture, an album's members, a link's ends, ...), as its Python hash: the keys
    themselves (a SHA-256 and a path each) would hold ~400 MB for an export of a million
    files. Two keys that hash alike only keep a weak match off a copy that is not REF's."""
    return {
        hash(key_of(ref)) for record in records for ref in _file_refs(record) if ref.get("hash")
    }


def _file_refs(value: Any) -> Iterator[Record]:
    if isinstance(value, dict):
        if {"hash", "root", "path"} <= value.keys():
            yield value
            return
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            yield from _file_refs(item)


def key_of(ref: Record) -> RefKey:
    return (ref.get("hash"), ref.get("root"), ref.get("path"))


def _id_at_place(repo: UserDataRepository, ref: Record) -> str | None:
    """A folder, or a file whose content changed since the export: found by its place."""
    if ref.get("root") is None or ref.get("path") is None:
        return None
    return repo.id_at_path(ref["root"], ref["path"])


def _file_name(path: str | None) -> str | None:
    return path.rsplit("/", 1)[-1] if path else None
