"""Bring a few paths of the index in line with the disk: what the FileWatcher's events ask.

Every operation looks at the disk as it is *now*, not at the event that named the path, so
events may be merged, repeated or seen late without harm: "sync X" means "whatever X is now,
index that". Moves are the one thing the disk cannot tell afterwards (which asset went where),
so a move event is applied to the index directly, subtree and all, keeping every id.
"""

from __future__ import annotations

import os
import stat
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trove.domain.enums import AssetStatus, RootStatus
from trove.domain.paths import parent_of, to_stored
from trove.repositories import fast_index
from trove.services.moves import MovePool, hashes_from
from trove.services.scanner import (
    RootUnavailable,
    ScanService,
    canonical_root,
    library_unavailable_reason,
)
from trove.services.sidecar_sync import SidecarBook
from trove.storage.walk import MAX_REL_PATH_BYTES, Entry, Kind, WalkRules

if TYPE_CHECKING:
    from trove.services.scan_writer import ScanWriter

# New files remembered by their (device, inode) after they were registered: the old path of a
# move whose new path was synced first (the two events in different batches) is recognised
# when it vanishes this soon after, and the file keeps its identity (`_RootSync._adopted`).
RECENT_FOR_S = 600.0
RECENT_AT_MOST = 10_000


@dataclass
class SyncResult:
    registered: int = 0
    changed: int = 0
    moved: int = 0
    missing: int = 0
    returned: int = 0
    offline_roots: list[str] = field(default_factory=list)
    rescanned_roots: list[str] = field(default_factory=list)  # offline roots back with files
    ids: dict[str, str] = field(default_factory=dict)  # absolute path -> asset id

    @property
    def wrote(self) -> bool:
        counts = self.registered or self.changed or self.moved or self.missing or self.returned
        return bool(counts or self.rescanned_roots)

    def add(self, other: SyncResult) -> None:
        for name in ("registered", "changed", "moved", "missing", "returned"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.offline_roots += other.offline_roots
        self.rescanned_roots += other.rescanned_roots
        self.ids.update(other.ids)


class PathSync:
    def __init__(self, scanner: ScanService) -> None:
        self.scanner = scanner
        self.url = scanner.url
        # (device, inode) -> (asset id, root id, path relative to it, when), oldest first.
        self.recent: OrderedDict[tuple[int, int], tuple[str, str, str, float]] = OrderedDict()

    def remember_new(self, st: os.stat_result, asset_id: str, root_id: str, rel: str) -> None:
        now = time.monotonic()
        self.recent[(st.st_dev, st.st_ino)] = (asset_id, root_id, rel, now)
        self.recent.move_to_end((st.st_dev, st.st_ino))
        while self.recent and (
            len(self.recent) > RECENT_AT_MOST
            or next(iter(self.recent.values()))[3] < now - RECENT_FOR_S
        ):
            self.recent.popitem(last=False)

    # --- entry points ----------------------------------------------------------------------

    def register_path(self, path: str | os.PathLike[str]) -> str:
        """Index one file now (seed 4.1.1 `register_path`): an upload.

        Returns the asset id; the file's parent folders are registered too when new, and a
        file that is a missing asset moved here takes that asset's identity (moves.py).
        """
        real = canonical_root(path)
        st = os.lstat(real)
        if not stat.S_ISREG(st.st_mode):
            raise RootUnavailable(f"{path}: not a regular file")
        result = self.sync([real])
        if real not in result.ids:
            raise RootUnavailable(f"{real}: not inside any library root, or not indexable")
        return result.ids[real]

    def sync(self, paths: Iterable[str | os.PathLike[str]]) -> SyncResult:
        """Index each path as it is now: new, changed, returned, moved here, or gone."""
        result = SyncResult()
        by_root: dict[str, list[tuple[str, str]]] = {}
        roots = self._roots()
        for path in paths:
            located = _locate(roots, _absolute(path))
            if located is not None:
                root, rel = located
                by_root.setdefault(root.id, []).append((_absolute(path), rel))
        for root in roots:
            if root.id in by_root:
                result.add(_RootSync(self, root).run(by_root[root.id]))
        return result

    def move(self, src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> SyncResult:
        """A rename seen by the watcher: the asset at `src` (a folder with its whole subtree)
        now lives at `dest`, with the same ids. Anything unclear falls back to `sync`."""
        roots = self._roots()
        src_abs, dest_abs = _absolute(src), _absolute(dest)
        source, target = _locate(roots, src_abs), _locate(roots, dest_abs)
        if source is None or target is None or source[0].id != target[0].id:
            return self.sync([src_abs, dest_abs])
        root, src_rel = source
        dest_rel = target[1]
        result = _RootSync(self, root).move(src_rel, dest_rel)
        if result is None:
            return self.sync([src_abs, dest_abs])
        result.add(self.sync([dest_abs]))  # moved and edited, or back from missing
        return result

    def root_sync(self, root_id: str) -> _RootSync | None:
        """A sync of library `root_id` (None when it is gone), for a move into it."""
        root = next((r for r in self._roots() if r.id == root_id), None)
        return _RootSync(self, root) if root is not None else None

    def _roots(self) -> list[fast_index.RootRow]:
        with fast_index.connect(self.url) as conn:
            return fast_index.all_roots(conn)


class _RootSync:
    """The paths of one root, written through one ScanWriter."""

    def __init__(self, owner: PathSync, root: fast_index.RootRow) -> None:
        self.owner = owner
        self.scanner = owner.scanner
        self.root = root
        self.rules = self.scanner.walk_rules(root)
        self.result = SyncResult()
        self._writer: ScanWriter | None = None
        self._known: dict[str, fast_index.IndexRow] = {}
        self._vanished: list[tuple[str, fast_index.IndexRow]] = []
        # Entries already brought in line by this sync (below a moved folder): not twice.
        self._settled: set[str] = set()
        self._pools: dict[int, MovePool] = {}  # missing files, by size
        self._folders: MovePool | None = None  # missing folders
        self._others: dict[str, _RootSync | None] = {}  # libraries files moved into
        self.sidecars = SidecarBook(
            owner.url, root.id, root.path, database=lambda: owner.scanner.database
        )

    # --- sync ------------------------------------------------------------------------------

    def run(self, items: list[tuple[str, str]]) -> SyncResult:
        wanted = [
            (path, rel)
            for path, rel in items
            if rel and _indexable(self.rules, root=self.root.path, rel=rel)
        ]
        if not wanted:
            return self.result
        present, blocked = _look_at(wanted, root=self.root.path)
        vanished = any(st is None for st in present.values())
        if "" in blocked or self._disk_away() or (vanished and self._root_looks_empty()):
            # A root that is gone, on another disk without its files (an app writing into
            # the mount point), or empty while a file vanished: a dropped mount, not
            # deletions, and not new files of the library.
            self.scanner.scan(self.root.path)
            self.result.offline_roots.append(self.root.path)
            return self.result
        if self.root.status == RootStatus.OFFLINE and any(present.values()):
            # Files are back in a root taken offline: reconcile all of it now.
            self.scanner.scan(self.root.path)
            self.result.rescanned_roots.append(self.root.path)
            self._ids_as_scanned(wanted, present)
            return self.result
        wanted = [(path, rel) for path, rel in wanted if path in present]
        self._load_known([rel for _path, rel in wanted] + sorted(blocked))
        if any(self._listable_again(path, rel) for path, rel in wanted):
            # What changed below it while it could not be listed was not seen: rescanned.
            self.scanner.scan(self.root.path)
            self.result.rescanned_roots.append(self.root.path)
            return self.result
        try:
            for folder in sorted(blocked):
                self._unsearchable(folder)
            # What vanished first: a file that reappears elsewhere in the same batch (a move
            # between roots, seen as delete + create) is then recognised as moved.
            for path, rel in wanted:
                if present[path] is None:
                    self._sync_one(path, rel, None)
            self._mark_gone()
            for path, rel in _folders_first(wanted, present):
                self._sync_one(path, rel, present[path])
        finally:
            for sync in (self, *filter(None, self._others.values())):
                if sync._writer is not None:
                    sync._writer.close()
        self.result.changed += self.sidecars.settle(whole_root=False)
        return self.result

    def _ids_as_scanned(
        self, wanted: list[tuple[str, str]], present: dict[str, os.stat_result | None]
    ) -> None:
        """The ids a rescan gave the paths asked for (an upload's: its asset id)."""
        self._load_known([rel for path, rel in wanted if present.get(path) is not None])
        for path, rel in wanted:
            row = self._known.get(rel)
            if present.get(path) is not None and row is not None:
                self.result.ids[path] = row.id

    def _sync_one(self, path: str, rel: str, st: os.stat_result | None) -> None:
        if rel in self._settled:
            return
        row = self._known.get(rel)
        if row is None and (self.sidecars.gone(rel) if st is None else self.sidecars.saw(rel, st)):
            return  # a sidecar: read into its picture, not an asset
        if st is None:
            if row is not None and row.status != AssetStatus.MISSING and not self._adopted(row):
                self._gone(rel, row)
        elif stat.S_ISREG(st.st_mode):
            if _is_excluded_file(self.rules, rel):
                return
            self._file(path, rel, st, row)
        elif stat.S_ISDIR(st.st_mode) and not self.rules.is_excluded(rel):
            self._folder(path, rel, st, row)

    def _file(
        self, path: str, rel: str, st: os.stat_result, row: fast_index.IndexRow | None
    ) -> None:
        entry = Entry(rel, Kind.FILE, st)
        if row is None:
            self._ensure_parents(rel)
            match = self._pool(st).match_file(path, rel, st) if self._pool_for(st) else None
            if match is None:
                self.result.ids[path] = self.writer.register_file(entry)
                self.owner.remember_new(st, self.result.ids[path], self.root.id, rel)
                self.result.registered += 1
            else:
                self.writer.moved(match.candidate, entry, content_changed=match.content_changed)
                self.result.ids[path] = match.candidate.id
                self.result.moved += 1
            return
        self.result.ids[path] = row.id
        same = (row.size, row.mtime_ns, row.inode) == (st.st_size, st.st_mtime_ns, st.st_ino)
        if same and row.status in (AssetStatus.READY, AssetStatus.PROCESSING):
            return
        if same and row.status == AssetStatus.MISSING:
            self.writer.returned(row)
            self.result.returned += 1
        elif row.is_folder:
            return  # a folder replaced by a file: the next scan sorts out the subtree
        else:
            self.writer.changed_file(row, entry)
            self.result.changed += 1

    def _folder(
        self, path: str, rel: str, st: os.stat_result, row: fast_index.IndexRow | None
    ) -> None:
        if row is not None:
            self.result.ids[path] = row.id
            if row.status == AssetStatus.MISSING:
                self.writer.returned(row)
                self.result.returned += 1
            return
        self._ensure_parents(rel)
        moved = self._folder_pool().match_folder(path, st, url=self.owner.url)
        if moved is None:
            self.result.ids[path] = self.writer.register_folder(Entry(rel, Kind.DIR), st)
            self.result.registered += 1
            return
        # A folder that went missing is back under another name: it and its subtree move
        # here in the index, then are back (`_back_below`).
        self.writer.flush()
        self._move_subtree(moved.id, moved.root_id, moved.rel_path, rel)
        self.writer.folder_ids[rel] = moved.id
        self.result.ids[path] = moved.id
        self.result.moved += 1
        self._back_below(path, rel)

    def _back_below(self, path: str, rel: str) -> None:
        """A moved folder and what it holds, looked at now: they were marked missing when
        its old path vanished, and no event need come for its contents (a folder move seen
        as a deletion and a creation; a sync asked for by hand). A folder below it that
        cannot be listed is an error, as a scan records it: what it holds stays missing
        until it can be read, and the user is told why."""

        def rel_of(folder: str) -> str:
            inner = os.path.relpath(folder, path)
            return rel if inner == "." else f"{rel}/{inner}"

        below = [(path, rel)]
        unlisted: list[OSError] = []
        for folder, names, files in os.walk(path, onerror=lambda exc: unlisted.append(exc)):
            folder_rel = rel_of(folder)
            names[:] = [n for n in names if self._indexable(f"{folder_rel}/{n}")]  # pruned
            below += [
                (os.path.join(folder, name), f"{folder_rel}/{name}")
                for name in sorted(names) + sorted(files)
                if self._indexable(f"{folder_rel}/{name}")
            ]
        present, blocked = _look_at(below, root=self.root.path)  # listed, not searchable
        self._load_moved(rel)
        here = [(p, r) for p, r in below if present.get(p) is not None]
        # Its own entries first, written before anything new below it is matched against
        # what is missing: else a copy that sorts first ("IMG_1 copy.jpg") would match the
        # original's record, still missing, by its SHA-256 and take it.
        for entry_path, entry_rel in here:
            if entry_rel in self._known:
                self._sync_one(entry_path, entry_rel, present[entry_path])
                self._settled.add(entry_rel)
        self.writer.flush()
        self._pools.clear()
        self._folders = None
        for entry_path, entry_rel in here:
            if entry_rel not in self._known:
                self._sync_one(entry_path, entry_rel, present[entry_path])
                self._settled.add(entry_rel)
        blocked |= {
            rel_of(exc.filename)
            for exc in unlisted
            if isinstance(exc, PermissionError) and exc.filename
        }
        for folder in sorted(blocked):
            self._unsearchable(folder)

    def _load_moved(self, rel: str) -> None:
        """The rows of a folder just moved to `rel` and of everything below it, as they are
        now (ids of folders registered there before the move was seen are stale)."""
        with fast_index.connect(self.owner.url) as conn:
            moved = fast_index.load_subtree(conn, self.root.id, rel)
        self._known.update(moved)
        self.writer.folder_ids.update({r: row.id for r, row in moved.items() if row.is_folder})

    def _indexable(self, rel: str) -> bool:
        return _indexable(self.rules, root=self.root.path, rel=rel)

    def _listable_again(self, path: str, rel: str) -> bool:
        row = self._known.get(rel)
        if row is None or not row.is_folder or row.status != AssetStatus.ERROR:
            return False
        try:  # listed, and what it holds can be looked at (read without search is not)
            with os.scandir(path) as entries:
                for entry in entries:
                    entry.stat(follow_symlinks=False)
                    break
        except OSError:
            return False
        return True

    def _unsearchable(self, folder: str) -> None:
        """A folder whose entries cannot be looked at (its permissions changed): an error,
        as a scan records it, and what the index knew below it stays as it was."""
        row = self._known.get(folder)
        if row is not None and row.is_folder and row.status != AssetStatus.ERROR:
            reason = "cannot list folder: permission denied"
            self.writer.folder_unreadable(Entry(folder, Kind.DIR), reason=reason)

    def _adopted(self, row: fast_index.IndexRow) -> bool:
        """A vanished file whose inode, size and time a file registered a moment ago has,
        still there: one move, seen new path first, within this library or into another on
        the same disk. The file at the new path takes the vanished one's identity (tags,
        albums, links); the record made for it goes (`retire`)."""
        if row.is_folder or row.inode is None or row.device is None:
            return False
        recent = self.owner.recent.get((row.device, row.inode))
        if recent is None or recent[0] == row.id:
            return False
        new_id, root_id, new_rel, _at = recent
        if root_id == self.root.id:
            taken = self._take_identity(row, new_id, new_rel)
            where = self.root.path
        else:
            other = self._other_library(root_id)
            if other is None:
                return False
            self.writer.flush()  # its write lock is free for the other library's writer
            taken = other._take_identity(row, new_id, new_rel)
            if taken:
                other.writer.flush()  # and the other's for this one's
            where = other.root.path
        if not taken:
            return False
        del self.owner.recent[(row.device, row.inode)]
        self.result.ids[os.path.join(where, new_rel)] = row.id
        self.result.moved += 1
        return True

    def _other_library(self, root_id: str) -> _RootSync | None:
        """The sync of another library files moved into, one per run (`run` closes it)."""
        if root_id not in self._others:
            self._others[root_id] = self.owner.root_sync(root_id)
        return self._others[root_id]

    def _take_identity(self, row: fast_index.IndexRow, new_id: str, new_rel: str) -> bool:
        """The vanished `row` becomes the file at `new_rel` in this library, registered a
        moment ago as `new_id`, if that file is still there with the row's inode, size and
        time."""
        from trove.repositories.sync import SyncRepository

        try:
            st = os.lstat(os.path.join(self.root.path, new_rel))
        except OSError:
            return False
        same = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) == (
            row.device, row.inode, row.size, row.mtime_ns
        )  # fmt: skip
        if not (same and stat.S_ISREG(st.st_mode)):
            return False  # a freed inode taken by another file has its own size and time
        writer = self.writer
        self._load_known([new_rel])  # its folder, for the `contains` edge
        writer.flush()
        SyncRepository(writer.session).retire(new_id, reason=f"{new_rel} is a file moved there")
        candidate = fast_index.MoveCandidate(
            row.id, self.root.id, new_rel, row.size, row.mtime_ns, row.inode, row.device,
            is_folder=False, status=row.status, has_hash=row.has_hash,
        )  # fmt: skip
        writer.moved(candidate, Entry(new_rel, Kind.FILE, st), content_changed=False)
        return True

    def _gone(self, rel: str, row: fast_index.IndexRow) -> None:
        """Marked missing at the end of the batch, all in one go (`rm -rf` of a big folder)."""
        self._vanished.append((rel, row))
        self.result.missing += 1

    def _mark_gone(self) -> None:
        from trove.repositories.sync import SyncRepository

        if not self._vanished:
            return
        writer = self.writer
        writer.flush()
        repo = SyncRepository(writer.session)
        for rel, row in self._vanished:
            if row.is_folder:
                repo.mark_subtree_missing(self.root.id, to_stored(rel)[0])
        files = [row.id for _rel, row in self._vanished if not row.is_folder]
        for start in range(0, len(files), 500):
            writer.assets.set_status(files[start : start + 500], AssetStatus.MISSING)
        writer.session.commit()
        self._vanished = []

    # --- move ------------------------------------------------------------------------------

    def move(self, src_rel: str, dest_rel: str) -> SyncResult | None:
        """None when the move cannot be applied as such (then both paths are synced)."""
        if not (src_rel and dest_rel):
            return None
        src_ok = _indexable(self.rules, root=self.root.path, rel=src_rel)
        dest_ok = _indexable(self.rules, root=self.root.path, rel=dest_rel)
        if not (src_ok and dest_ok):
            return None
        self._load_known([src_rel, dest_rel])
        row = self._known.get(src_rel)
        if row is None:
            return None
        occupant = self._known.get(dest_rel)
        if _is_present_file(row) and occupant is not None and _is_present_file(occupant):
            return self._renamed_onto(row, occupant, dest_rel)
        try:
            self._ensure_parents(dest_rel)
            self.writer.flush()
            self._move_subtree(row.id, self.root.id, src_rel, dest_rel)
        finally:
            self.writer.close()
        self.result.moved += 1
        return self.result

    def _renamed_onto(
        self, row: fast_index.IndexRow, occupant: fast_index.IndexRow, dest_rel: str
    ) -> SyncResult | None:
        """A file renamed onto an indexed one (an editor's `s.png.part` -> `s.png`): the
        indexed file was edited, so it keeps its id, tags and title; the record of the
        renamed file goes (see ScanWriter.replaced_by_rename)."""
        try:
            st = _indexable_stat(os.path.join(self.root.path, dest_rel))
        except PermissionError:
            return None  # both paths are synced, as what can be seen of them
        if st is None or not stat.S_ISREG(st.st_mode):
            return None  # gone again already: both paths are synced as they are now
        try:
            self.writer.replaced_by_rename(
                occupant, Entry(dest_rel, Kind.FILE, st), renamed_id=row.id
            )
        finally:
            self.writer.close()
        self.result.changed += 1
        return self.result

    def _move_subtree(self, asset_id: str, old_root_id: str, old_rel: str, new_rel: str) -> None:
        from trove.repositories.search import SearchRepository
        from trove.repositories.sync import SyncRepository
        from trove.services import search

        writer = self.writer
        repo = SyncRepository(writer.session)
        new_stored, new_escaped = to_stored(new_rel)
        old_stored, _ = to_stored(old_rel)
        repo.displace(
            self.root.id,
            new_stored,
            keep_id=asset_id,
            reason=f"replaced on disk by {new_rel!r}, moved there from {old_rel!r}",
        )
        repo.move_subtree(
            asset_id=asset_id,
            old_root_id=old_root_id,
            old_rel=old_stored,
            new_root_id=self.root.id,
            new_root_path=self.root.path,
            new_rel=new_stored,
            new_escaped=new_escaped,
        )
        repo.rehome([(asset_id, writer.folder_ids.get(parent_of(new_rel)))])
        # The moved entry and the folders below it hold the path in their documents; the files
        # below are found through their folders.
        below = SearchRepository(writer.session).folders_under(self.root.id, new_stored)
        search.reindex(writer.session, [asset_id, *below])
        writer.session.commit()

    # --- helpers ---------------------------------------------------------------------------

    @property
    def writer(self) -> ScanWriter:
        if self._writer is None:
            from trove.services.scan_writer import ScanWriter

            self._writer = ScanWriter(
                self.scanner.database,
                self.root,
                {rel: row.id for rel, row in self._known.items() if row.is_folder},
                batch_size=self.scanner.settings.scan_batch_size,
                classify=self.scanner.drivers.classify,
            )
        return self._writer

    def _load_known(self, rels: list[str]) -> None:
        wanted = {a for rel in rels for a in _ancestors(rel)} | set(rels)
        wanted -= set(self._known)
        with fast_index.connect(self.owner.url) as conn:
            self._known.update(fast_index.find_entries(conn, self.root.id, sorted(wanted)))
        if self._writer is not None:
            for rel, row in self._known.items():
                if row.is_folder:
                    self._writer.folder_ids.setdefault(rel, row.id)

    def _ensure_parents(self, rel: str) -> None:
        """Parent folders the index does not have yet are registered (outermost first)."""
        for folder in _ancestors(rel):
            known = self._known.get(folder)
            if known is not None and known.is_folder and known.status == AssetStatus.MISSING:
                self.writer.returned(known)
                self._known[folder] = known._replace(status=AssetStatus.READY)
            if folder in self.writer.folder_ids:
                continue
            try:
                st = os.lstat(os.path.join(self.root.path, folder))
            except OSError:
                st = None
            self.writer.register_folder(Entry(folder, Kind.DIR), st)
            self.result.registered += 1

    def _pool_for(self, st: os.stat_result) -> bool:
        """Is there any missing file this one could be? (One indexed query by size.)"""
        if st.st_size not in self._pools:
            with fast_index.connect(self.owner.url) as conn:
                candidates = fast_index.missing_entries(conn, size=st.st_size)
            self._pools[st.st_size] = MovePool(candidates, hashes=hashes_from(self.owner.url))
        return bool(self._pools[st.st_size])

    def _pool(self, st: os.stat_result) -> MovePool:
        return self._pools[st.st_size]

    def _folder_pool(self) -> MovePool:
        if self._folders is None:
            with fast_index.connect(self.owner.url) as conn:
                folders = [c for c in fast_index.missing_entries(conn) if c.is_folder]
            self._folders = MovePool(folders, hashes=hashes_from(self.owner.url))
        return self._folders

    def _disk_away(self) -> bool:
        return library_unavailable_reason(self.owner.url, self.root) is not None

    def _root_looks_empty(self) -> bool:
        try:
            with os.scandir(self.root.path) as entries:
                return not any(not self.rules.is_hidden(e.name) for e in entries)
        except OSError:
            return True


def _folders_first(
    items: list[tuple[str, str]], present: dict[str, os.stat_result | None]
) -> list[tuple[str, str]]:
    """The paths that are there, folders first and the outermost first: a moved folder is
    recognised (and what it holds brought back) before a file in it is taken for new, or a
    copy in it for its original."""
    here = [(path, rel, st) for path, rel in items if (st := present[path]) is not None]
    here.sort(key=lambda item: (not stat.S_ISDIR(item[2].st_mode), item[1].count("/")))
    return [(path, rel) for path, rel, _st in here]


def _indexable(rules: WalkRules, *, root: str, rel: str) -> bool:
    """Would the walk index this path (given that it exists)? Hidden names, pruned or
    excluded folders and over-long paths are left out, as a scan leaves them out."""
    too_long = len(rel) > MAX_REL_PATH_BYTES // 4
    if too_long and len(to_stored(rel)[0].encode()) > MAX_REL_PATH_BYTES:
        return False
    parts = rel.split("/")
    for i, name in enumerate(parts):
        if rules.is_hidden(name) or name in ("", ".", ".."):
            return False
        prefix = "/".join(parts[: i + 1])
        if i < len(parts) - 1 and rules.is_excluded(prefix):
            return False
        if rules.prune_dirs and os.path.join(root, prefix) in rules.prune_dirs:
            return False
    return True


def _is_excluded_file(rules: WalkRules, rel: str) -> bool:
    return rules.is_excluded(rel) or not rules.is_included(rel)


def _locate(roots: list[fast_index.RootRow], path: str) -> tuple[fast_index.RootRow, str] | None:
    """The innermost root holding `path`, and the path relative to it."""
    inside = [r for r in roots if path.startswith(r.path.rstrip("/") + "/")]
    if not inside:
        return None
    root = max(inside, key=lambda r: len(r.path))
    return root, path[len(root.path.rstrip("/")) + 1 :]


def _absolute(path: str | os.PathLike[str]) -> str:
    """The real path of the folder holding `path`, plus its name (which may no longer exist)."""
    text = os.path.abspath(os.fspath(path))
    head, name = os.path.split(text)
    return os.path.join(canonical_root(head), name) if name else canonical_root(text)


def _look_at(
    items: list[tuple[str, str]], *, root: str
) -> tuple[dict[str, os.stat_result | None], set[str]]:
    """What each path is now (`_indexable_stat`), and the folders that hide some of them:
    a path below a folder that lost its search permission says nothing about its file, which
    is left out instead of taken for deleted."""
    present: dict[str, os.stat_result | None] = {}
    blocked: set[str] = set()
    for path, rel in items:
        try:
            present[path] = _indexable_stat(path)
        except PermissionError:
            folder = _unsearchable_folder(root, rel)
            if folder is None:  # the permission came back meanwhile: look again
                try:
                    present[path] = _indexable_stat(path)
                    continue
                except PermissionError:
                    folder = parent_of(rel)
            blocked.add(folder)
    return present, blocked


def _unsearchable_folder(root: str, rel: str) -> str | None:
    """The outermost folder ("" for the root) whose entries on the way to `rel` cannot be
    looked at; None when they all can now."""
    parts = rel.split("/")
    for i in range(1, len(parts) + 1):
        try:
            os.lstat(os.path.join(root, *parts[:i]))
        except PermissionError:
            return "/".join(parts[: i - 1])
        except OSError:
            return None
    return None


def _indexable_stat(path: str) -> os.stat_result | None:
    """The path's lstat when it is a file or a folder; a symlink (say, a folder replaced by
    one), a FIFO or a device is not indexed, so the entry that was there is gone.
    PermissionError when a folder above it cannot be searched: nothing is known of it."""
    try:
        st = os.lstat(path)
    except PermissionError:
        raise
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) else None


def _is_present_file(row: fast_index.IndexRow) -> bool:
    return not row.is_folder and row.status != AssetStatus.MISSING


def _ancestors(rel_path: str) -> list[str]:
    parts = rel_path.split("/")[:-1]
    return ["", *("/".join(parts[: i + 1]) for i in range(len(parts)))]
