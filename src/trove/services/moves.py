"""Recognising a moved file: the same asset found at a new path keeps its identity.

A file or folder that appears where the index has nothing is first matched against the
entries that vanished (missing ones, and, during a scan, those the walk did not see):

1. same device and inode, size and mtime: a rename or a move within the file system;
2. same device and inode and the same file name, other size or mtime: moved, then edited;
3. same size and the same SHA-256: a copy-and-delete move, or a move across file systems.

Only step 3 reads the file, and only when its size equals a vanished file's (whose hash is
known): an unchanged rescan, or a new file of a size nothing lost, hashes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import NamedTuple

from trove.repositories import fast_index
from trove.repositories.fast_index import MoveCandidate
from trove.storage.hashing import sha256_file
from trove.storage.originals import OriginalUnavailable


class Match(NamedTuple):
    candidate: MoveCandidate
    content_changed: bool
    how: str  # "inode", "inode+name" or "sha256"


class MovePool:
    """Vanished entries, indexed for the three kinds of match; each is adopted at most once."""

    def __init__(
        self,
        candidates: Iterable[MoveCandidate],
        *,
        hashes: Callable[[list[str]], dict[str, str]],
    ) -> None:
        self._hashes = hashes
        self._known_hashes: dict[str, str] = {}
        self._looked_up: set[str] = set()
        self.taken: set[str] = set()
        self.by_inode: dict[tuple[int, int], list[MoveCandidate]] = {}
        self.by_size: dict[int, list[MoveCandidate]] = {}
        self.hashed_files = 0
        for candidate in candidates:
            self.add(candidate)

    def add(self, candidate: MoveCandidate) -> None:
        if candidate.inode is not None and candidate.device is not None:
            key = (candidate.device, candidate.inode)
            self.by_inode.setdefault(key, []).append(candidate)
        if not candidate.is_folder and candidate.size:
            self.by_size.setdefault(candidate.size, []).append(candidate)

    def __bool__(self) -> bool:
        return bool(self.by_inode or self.by_size)

    def match_folder(self, path: str, st: os.stat_result, *, url: str) -> MoveCandidate | None:
        """A vanished folder with this one's device and inode that held some of what this
        one holds. File systems reuse a freed inode at once: after `rm -rf import; mkdir
        import2` the new folder may have the old one's, and taken for it moved, it would
        carry off the old folder's id and its files' records."""
        for candidate in self.by_inode.get((st.st_dev, st.st_ino), ()):
            if (
                candidate.is_folder
                and candidate.id not in self.taken
                and _holds_what_it_held(path, candidate, url=url)
            ):
                self.taken.add(candidate.id)
                return candidate
        return None

    def match_file(self, path: str, rel_path: str, st: os.stat_result) -> Match | None:
        match = self._by_inode(rel_path, st) or self._by_content(path, rel_path, st)
        if match is not None:
            self.taken.add(match.candidate.id)
        return match

    def _by_inode(self, rel_path: str, st: os.stat_result) -> Match | None:
        name = rel_path.rpartition("/")[2]
        weak: MoveCandidate | None = None
        for c in self.by_inode.get((st.st_dev, st.st_ino), ()):
            if c.is_folder or c.id in self.taken:
                continue
            if (c.size, c.mtime_ns) == (st.st_size, st.st_mtime_ns):
                return Match(c, False, "inode")
            if c.rel_path.rpartition("/")[2] == name:
                weak = c
        # An inode alone is weak evidence (file systems reuse freed inodes at once); with the
        # same name too it is a file edited after being moved.
        return Match(weak, True, "inode+name") if weak is not None else None

    def _by_content(self, path: str, rel_path: str, st: os.stat_result) -> Match | None:
        pending = [c for c in self.by_size.get(st.st_size, ()) if c.id not in self.taken]
        if not pending:
            return None
        self._load_hashes([c.id for c in pending if c.id not in self._looked_up])
        hashed = [c for c in pending if c.id in self._known_hashes]
        if not hashed:
            return None
        try:
            digest, size, mtime_ns = sha256_file(path)
        except OriginalUnavailable:
            return None
        self.hashed_files += 1
        if (size, mtime_ns) != (st.st_size, st.st_mtime_ns):
            return None  # still being written: it will be looked at again
        same = [c for c in hashed if self._known_hashes[c.id] == digest]
        if not same:
            return None
        # Several vanished copies of the same bytes: prefer the one with the same name.
        name = rel_path.rpartition("/")[2]
        same.sort(key=lambda c: (c.rel_path.rpartition("/")[2] != name, c.id))
        return Match(same[0], False, "sha256")

    def _load_hashes(self, ids: list[str]) -> None:
        if ids:
            self._known_hashes.update(self._hashes(ids))
            self._looked_up.update(ids)


def _holds_what_it_held(path: str, candidate: MoveCandidate, *, url: str) -> bool:
    """The folder at `path` holds an entry the candidate held right below it, or the
    candidate held nothing. A folder that cannot be listed has only its inode to go by."""
    try:
        names = os.listdir(path)
    except OSError:
        return True
    with fast_index.connect(url) as conn:
        return fast_index.held_nothing_or_any_of(conn, candidate.root_id, candidate.rel_path, names)


def hashes_from(url: str) -> Callable[[list[str]], dict[str, str]]:
    """A hash lookup for MovePool over the bare driver."""

    def lookup(ids: list[str]) -> dict[str, str]:
        with fast_index.connect(url) as conn:
            return fast_index.hashes_of(conn, ids)

    return lookup
