"""Scan a root: walk + stat, diff against the index, write only what changed.

The diff is streamed: each entry is compared with the index as the walk yields it, and new or
changed entries are registered in batches. The index is read over the bare driver
(fast_index) and the ORM writer is created only when the first change turns up, so an
unchanged rescan costs one stat per file and no SQLAlchemy import.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from trove.config import Settings
from trove.domain.enums import AssetStatus
from trove.repositories import fast_index
from trove.repositories.fast_index import IndexRow
from trove.services.root_policy import is_other_spelling, own_upload_folder
from trove.services.scan_summary import ScanSummary
from trove.services.sidecar_sync import SKIP_REASON, SidecarBook
from trove.storage.walk import Entry, Kind, WalkRules, walk
from trove.sync.mounts import folder_device

if TYPE_CHECKING:
    from trove.db.database import Database
    from trove.drivers.manager import AssetDriverManager
    from trove.pipeline.light import LightLane
    from trove.pipeline.pool import LocalWorkers
    from trove.services.moves import Match, MovePool
    from trove.services.scan_writer import ScanWriter

Progress = Callable[[ScanSummary], None]
PROGRESS_EVERY = 1000
# Files looked for when a library's folder is on another file system than it was: as many of
# those present on its disk (fast_index.sample_files), and of its missing ones, with which a
# library marked missing before its device was known comes back.
DEVICE_SAMPLE = 20
ANOTHER_DISK = (
    "the folder is on another disk than before and none of its files are there"
    " (the disk is not mounted?)"
)
UNMOUNTED_WHILE_SCANNED = (
    "the folder went to another disk while it was scanned (unmounted?); no file was marked missing"
)


class RootUnavailable(Exception):
    """The path given to scan is not a folder Trove can index; the message says why."""


class _DiskChanged(Exception):
    """The library's folder is on another file system than when its scan began."""


class ScanService:
    def __init__(
        self,
        settings: Settings,
        *,
        database: Database | Callable[[], Database] | None = None,
        drivers: AssetDriverManager | None = None,
    ) -> None:
        """`database` may be a callable, so the ORM is set up only if a scan writes.
        `drivers` classify new files (loaded from the settings when a scan first needs them)."""
        self.settings = settings
        self.url = settings.resolved_database_url
        self._database = database
        if drivers is not None:
            self.__dict__["drivers"] = drivers

    @functools.cached_property
    def drivers(self) -> AssetDriverManager:
        from trove.drivers.manager import AssetDriverManager

        return AssetDriverManager.load(self.settings)

    @property
    def database(self) -> Database:
        if self._database is None:
            from trove.db.database import Database

            self._database = Database(self.url)
        elif callable(self._database):
            self._database = self._database()
        return self._database

    def scan(
        self,
        path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
        workers: Callable[[], LocalWorkers] | None = None,
    ) -> ScanSummary:
        """Index one root folder (registering it on first sight) and return what was found.

        `workers`: an in-process run's worker processes (asked for once the scan writes),
        which do the light steps of new files before they are written (pipeline/light.py)."""
        from trove.db.migrate import ensure_schema

        ensure_schema(self.url)
        with fast_index.connect(self.url) as conn:
            root_path = known_root_path(conn, path)
            root = fast_index.find_root(conn, root_path)
        summary = ScanSummary(path=root_path)
        if root is None:
            root = self._register_root(root_path)
        summary.root_id = root.id
        offline_reason = library_unavailable_reason(self.url, root)
        if offline_reason:
            return self._mark_offline(root, summary, offline_reason)
        with fast_index.connect(self.url) as conn:
            signatures = fast_index.load_signatures(conn, root.id)
        # Counted without a Python-level loop (a file's signature is a tuple, see fast_index).
        summary.expected = sum(map(isinstance, signatures.values(), itertools.repeat(tuple)))
        _RootDiff(self, root, signatures, summary, progress, workers=workers).run()
        return summary.finish()

    def ensure_root(
        self, path: str | os.PathLike[str], *, is_upload_target: bool = False
    ) -> fast_index.RootRow:
        """The root for `path`, registered now if Trove has not seen it before."""
        from trove.db.migrate import ensure_schema
        from trove.services.scan_writer import register_root

        ensure_schema(self.url)
        with fast_index.connect(self.url) as conn:
            root_path = known_root_path(conn, path)
            root = fast_index.find_root(conn, root_path)
        if root is None:
            root = register_root(
                self.database,
                root_path,
                upload_folder=own_upload_folder(self.settings),
                is_upload_target=is_upload_target,
            )
        return root

    def _register_root(self, root_path: str) -> fast_index.RootRow:
        from trove.services.scan_writer import register_root

        return register_root(
            self.database, root_path, upload_folder=own_upload_folder(self.settings)
        )

    def _mark_offline(
        self, root: fast_index.RootRow, summary: ScanSummary, reason: str
    ) -> ScanSummary:
        from trove.services.scan_writer import mark_root_offline

        mark_root_offline(self.database, root.id, reason=reason)
        summary.status = "offline"
        summary.status_message = reason
        return summary.finish()

    def walk_rules(self, root: fast_index.RootRow) -> WalkRules:
        # Real paths: the walk compares them with real paths below the (real) root, and a
        # relative or symlinked TROVE_DATA_DIR inside a library must still be left out; so
        # must exports and backups kept elsewhere (share links, password hashes), and the
        # upload folder, a library of its own (a file belongs to one library).
        prune = {
            os.path.realpath(self.settings.data_dir),
            os.path.realpath(self.settings.resolved_cache_dir),
            os.path.realpath(self.settings.resolved_export_dir),
            os.path.realpath(self.settings.resolved_backup_dir),
            own_upload_folder(self.settings),
        }
        return WalkRules(
            include_globs=tuple(root.include_globs),
            exclude_globs=tuple(root.exclude_globs),
            include_hidden=root.include_hidden or self.settings.include_hidden,
            prune_dirs=frozenset(prune),
        )


def canonical_root(path: str | os.PathLike[str]) -> str:
    """A root is known by its real absolute path (a symlinked library folder is resolved).
    Files below a library may have names of any bytes (domain/paths.py keeps them), but the
    library's own path is stored as text: one that is not UTF-8 is refused in words."""
    real = os.path.realpath(os.path.abspath(os.fspath(path)))
    try:
        real.encode("utf-8")
    except UnicodeEncodeError:
        from trove.services.errors import Invalid

        shown = real.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise Invalid(
            f"{shown}: a library's folder path must be valid UTF-8; add a folder above it "
            "(names below a library may be anything)"
        ) from None
    return real


def known_root_path(conn: fast_index.Connection, path: str | os.PathLike[str]) -> str:
    """The path a library is known by: its real path, except for a library whose folder (or
    one above it) was replaced by a link, its files moved: it is still that library, shown
    offline, not a new library at the link's target (which is offered for relocation). On a
    disk that ignores letter case, `/media/PHOTOS` is the library `/media/Photos`."""
    literal = os.path.abspath(os.fspath(path))
    if os.path.realpath(literal) != literal and fast_index.find_root(conn, literal) is not None:
        return literal
    real = canonical_root(path)
    if fast_index.find_root(conn, real) is not None:
        return real
    # The folder of a library, spelled with other letter case on a disk that ignores it.
    return next(
        (r.path for r in fast_index.all_roots(conn) if is_other_spelling(real, r.path)), real
    )


def root_unavailable_reason(root_path: str) -> str | None:
    """Why a library's folder (stored as its real path) cannot be scanned now, if it cannot."""
    target = os.path.realpath(root_path)
    if target != root_path:  # the folder, or one above it, was replaced by a link
        return f"the folder is now a link to {target} (moved? relocate the library there)"
    if not os.path.exists(root_path):
        return "folder is missing (unmounted or moved away?)"
    if not os.path.isdir(root_path):
        return "not a folder"
    if not os.access(root_path, os.R_OK | os.X_OK):
        return "folder is not readable"
    return None


def library_unavailable_reason(url: str, root: fast_index.RootRow) -> str | None:
    """Why a library cannot be scanned now, if it cannot: what `root_unavailable_reason`
    says of its folder, or the folder is on another file system than when its files were last
    found there and none of a sample of them is there. That is the mount point of a disk that
    is away, an app having written into it: a scan would index the app's files and mark every
    file of the library missing. Every path that scans or syncs a library asks this."""
    reason = root_unavailable_reason(root.path)
    if reason is None and _on_another_disk_without_its_files(url, root):
        return ANOTHER_DISK
    return reason


def _on_another_disk_without_its_files(url: str, root: fast_index.RootRow) -> bool:
    """Another device with the files there is the same library (an NFS share mounted again
    under a new device number, a disk replaced by its copy): it is scanned as usual."""
    if root.device is None or folder_device(root.path) in (root.device, None):
        return False
    with fast_index.connect(url) as conn:
        sample = fast_index.sample_files(conn, root.id, device=root.device, limit=DEVICE_SAMPLE)
    return bool(sample) and not any(os.path.lexists(os.path.join(root.path, rel)) for rel in sample)


def holds_nothing_to_index(root_path: str, rules: WalkRules) -> bool:
    """Not one file or folder a scan would index (clutter such as .DS_Store or @eaDir does not
    count). With files in the index, a scan takes this for a mount point left empty, not a
    mass deletion (`_RootDiff._looks_unmounted`). Stops at the first entry found."""
    return not any(entry.kind in (Kind.FILE, Kind.DIR) for entry in walk(root_path, rules))


class _RootDiff:
    """One pass over a root: classify each entry, hand changes to the writer in batches.

    Unchanged files are recognised by comparing a stat signature with the index's; the full
    index rows (ids, statuses) are loaded only once something differs.
    """

    def __init__(
        self,
        service: ScanService,
        root: fast_index.RootRow,
        signatures: dict[str, fast_index.Signature],
        summary: ScanSummary,
        progress: Progress | None,
        *,
        workers: Callable[[], LocalWorkers] | None = None,
    ) -> None:
        self.service = service
        self.workers = workers
        self.root = root
        self.signatures = signatures
        self.summary = summary
        self.progress = progress
        self.unreadable_dirs: list[str] = []
        # Folders indexed in error, seen again: settled once the walk tries to list them.
        self.still_unreadable: set[str] = set()
        self._index: dict[str, IndexRow] | None = None
        self._writer: ScanWriter | None = None
        # New files that may be moved ones, decided once the walk has shown what vanished.
        self.deferred: list[Entry] = []
        # The indexed files whose paths now hold another inode (deferred too), by path.
        self.occupants: dict[str, IndexRow] = {}
        self._pool_sizes: set[int] | None = None
        self._pool_inodes: set[tuple[int | None, int]] = set()
        # The disk the walk began on: a folder it cannot list, or the walk's end, on another
        # one means the disk went away while it was scanned (`_DiskChanged`).
        self.device = folder_device(root.path)
        self._folder_pool: MovePool | None = None
        self._missing_elsewhere: list[fast_index.MoveCandidate] | None = None
        self.sidecars = SidecarBook(
            service.url, root.id, root.path, database=lambda: service.database
        )

    @property
    def index(self) -> dict[str, IndexRow]:
        if self._index is None:
            with fast_index.connect(self.service.url) as conn:
                self._index = fast_index.load_root_index(conn, self.root.id)
        return self._index

    @property
    def writer(self) -> ScanWriter:
        if self._writer is None:
            from trove.services.scan_writer import ScanWriter

            folder_ids = {rel: row.id for rel, row in self.index.items() if row.is_folder}
            self._writer = ScanWriter(
                self.service.database,
                self.root,
                folder_ids,
                batch_size=self.service.settings.scan_batch_size,
                classify=self.service.drivers.classify,
                light=self._light_lane(),
            )
        return self._writer

    def _light_lane(self) -> LightLane | None:
        if self.workers is None:
            return None
        from trove.pipeline.light import LightLane

        return LightLane(self.workers(), root_path=self.root.path)

    def run(self) -> None:
        try:
            self._run()
        except BaseException:
            # Interrupted (Ctrl-C) or failed: the batch not written yet is dropped and the
            # database's write lock given back now, not when the writer is collected; the
            # pipeline beside the scan, which the caller waits for, needs it to finish.
            if self._writer is not None:
                self._writer.discard()
            raise

    def _run(self) -> None:
        try:
            self._walk_and_compare(walk(self.root.path, self.service.walk_rules(self.root)))
            self._settle_folders_that_were_unreadable()
            self.signatures.pop("", None)  # the root folder itself
            if self._looks_unmounted():
                self._abandon_as_offline("the folder is empty but the index holds its files")
                return
            self._settle_deferred()  # checks the disk before it writes
            self._check_disk()  # before anything is marked missing
        except _DiskChanged:
            self._abandon_on_another_disk()
            return
        self._mark_gone()
        self._finish()
        self.sidecars.settle(whole_root=True, blocked=self.unreadable_dirs)

    def _walk_and_compare(self, entries: Iterable[Entry]) -> None:
        """The hot loop: one dict lookup and one tuple comparison per unchanged file."""
        summary = self.summary
        pop = self.signatures.pop
        progress = self.progress
        file_kind = Kind.FILE
        seen = unchanged = 0
        for entry in entries:
            rel_path, kind, st, _reason = entry
            if kind is not file_kind:
                self._visit(entry)
                continue
            seen += 1
            known = pop(rel_path, None)
            # A FILE entry always carries its stat; no check in the per-file hot loop.
            if known == (rel_path, st.st_size, st.st_mtime_ns, st.st_ino):  # type: ignore[union-attr]
                unchanged += 1
            else:
                self._visit_file(entry, known)
            if progress is not None and seen % PROGRESS_EVERY == 0:
                summary.seen, summary.unchanged = seen, unchanged
                progress(summary)
        summary.seen, summary.unchanged = seen, unchanged

    def _visit(self, entry: Entry) -> None:
        kind = entry.kind
        summary = self.summary
        if kind is Kind.DIR:
            summary.folders += 1
            known = self.signatures.pop(entry.rel_path, None)
            if known != fast_index.FOLDER_SIGNATURE:
                self._visit_folder(entry, known)
        elif kind is Kind.SKIPPED:
            summary.skipped[entry.reason or "skipped"] += 1
        elif entry.rel_path:  # UNREADABLE_DIR below the root (the root: _looks_unmounted)
            self._check_disk()
            self.unreadable_dirs.append(entry.rel_path)
            summary.errors += 1
            if entry.rel_path in self.still_unreadable:  # already recorded: nothing to write
                self.still_unreadable.discard(entry.rel_path)
                return
            self.writer.folder_unreadable(entry, reason=entry.reason or "cannot list folder")

    def _visit_file(self, entry: Entry, known: fast_index.Signature | None) -> None:
        """A file that is new, changed, back from missing, or was in error."""
        summary = self.summary
        if known is None:
            if self.sidecars.saw(entry.rel_path, entry.stat):
                summary.skipped[SKIP_REASON] += 1  # read into its picture, not an asset
                return
            if self._may_be_moved(entry):
                self.deferred.append(entry)
                return
            summary.new += 1
            self.writer.register_file(entry)
            return
        # A FILE entry always carries its stat (Entry types it optional for the others).
        if known == fast_index.error_signature(entry.stat):  # type: ignore[arg-type]
            summary.errors += 1  # still failing, and nothing about it changed
            return
        row = self.index[entry.rel_path]
        if row.status == AssetStatus.MISSING and _same_stat(row, entry):
            summary.returned += 1
            self.writer.returned(row)
        elif _other_inode(row, entry):
            # Another file now sits at this path: a swap, a rename chain or an editor's
            # replace-by-rename. Decided once the walk has shown where each inode went.
            self.occupants[entry.rel_path] = row
            self.deferred.append(entry)
        else:
            summary.changed += 1
            self.writer.changed_file(row, entry)

    def _visit_folder(self, entry: Entry, known: fast_index.Signature | None) -> None:
        if known is None:
            self._new_folder(entry)
            return
        if known == fast_index.FOLDER_ERROR_SIGNATURE:
            # Readable again, or still not: known when the walk reaches its contents.
            self.still_unreadable.add(entry.rel_path)
            return
        row = self.index[entry.rel_path]
        if not row.is_folder:
            self.summary.changed += 1
            self.writer.file_became_folder(row, entry)
        else:
            self.writer.returned(row)

    # --- moves: new entries matched against what vanished (services/moves.py) --------------

    def _may_be_moved(self, entry: Entry) -> bool:
        """Could this new file be one that vanished? Set lookups only: no I/O, no hashing."""
        if self._pool_sizes is None:
            vanished = self._vanished_files()
            self._pool_sizes = {c.size for c in vanished if c.size}
            self._pool_inodes = {(c.device, c.inode) for c in vanished if c.inode is not None}
        st = entry.stat
        assert st is not None
        return st.st_size in self._pool_sizes or (st.st_dev, st.st_ino) in self._pool_inodes

    def _vanished_files(self) -> list[fast_index.MoveCandidate]:
        """Files missing anywhere, files of this root the walk has not seen (yet), and those
        whose path now holds another inode (theirs may have moved on)."""
        here = [
            self._candidate(rel, row)
            for rel, row in self.index.items()
            if not row.is_folder
            and (
                row.status == AssetStatus.MISSING or rel in self.signatures or rel in self.occupants
            )
        ]
        return here + [c for c in self._missing_in_other_roots() if not c.is_folder]

    def _missing_in_other_roots(self) -> list[fast_index.MoveCandidate]:
        if self._missing_elsewhere is None:
            with fast_index.connect(self.service.url) as conn:
                missing = fast_index.missing_entries(conn)
            self._missing_elsewhere = [c for c in missing if c.root_id != self.root.id]
        return self._missing_elsewhere

    def _candidate(self, rel: str, row: IndexRow) -> fast_index.MoveCandidate:
        return fast_index.MoveCandidate(
            row.id,
            self.root.id,
            rel,
            row.size,
            row.mtime_ns,
            row.inode,
            row.device,
            row.is_folder,
            row.status,
            row.has_hash,
        )

    def _new_folder(self, entry: Entry) -> None:
        """A folder the index does not have here: a moved one (same inode) or a new one."""
        path = os.path.join(self.root.path, entry.rel_path)
        try:
            st = os.lstat(path)
        except OSError:
            st = None
        moved = None if st is None else self._folders().match_folder(path, st, url=self.service.url)
        if moved is None:
            self.writer.register_folder(entry, st)
            return
        assert st is not None
        self.summary.moved += 1
        if moved.root_id == self.root.id:
            self.signatures.pop(moved.rel_path, None)  # not gone: it is here
        self.writer.moved_folder(moved, entry, st)

    def _folders(self) -> MovePool:
        if self._folder_pool is None:
            from trove.services.moves import MovePool, hashes_from

            folders = [
                self._candidate(rel, row)
                for rel, row in self.index.items()
                if row.is_folder
                and rel
                and row.inode is not None
                and (row.status == AssetStatus.MISSING or rel in self.signatures)
            ]
            folders += [c for c in self._missing_in_other_roots() if c.is_folder]
            self._folder_pool = MovePool(folders, hashes=hashes_from(self.service.url))
        return self._folder_pool

    def _settle_deferred(self) -> None:
        """Each deferred file is a vanished one moved here (identity kept), an edit of the
        file indexed at its path, or new. Every file is matched first, so that the indexed
        file at a path counts as gone from it only when its inode turned up elsewhere."""
        if not self.deferred:
            return
        from trove.services.moves import MovePool, hashes_from

        pool = MovePool(self._vanished_files(), hashes=hashes_from(self.service.url))
        matches = []
        for entry in self.deferred:
            # Between files hashed (a large one takes seconds): where a stop is taken, as
            # in the walk. Nothing of the deferred files is written yet; the next scan
            # defers them again.
            self._report_progress()
            stat = entry.stat
            assert stat is not None  # only FILE entries are deferred, and they carry their stat
            matches.append((entry, pool.match_file(self._abs(entry), entry.rel_path, stat)))
        # A file that could not be hashed because the disk went would be written as new.
        self._check_disk()
        moved_on = {m.candidate.id for _entry, m in matches if m is not None}
        vacated = [row.id for row in self.occupants.values() if row.id in moved_on]
        # A swap or a chain is written in one transaction; plain moves in batches as usual.
        with self.writer.one_transaction() if vacated else contextlib.nullcontext():
            self.writer.vacate(vacated)
            for entry, match in matches:
                self._settle(entry, match, moved_on)
        self.summary.hashed_for_moves = pool.hashed_files
        self.deferred, self.occupants = [], {}

    def _report_progress(self) -> None:
        if self.progress is not None:
            self.progress(self.summary)

    def _settle(self, entry: Entry, match: Match | None, moved_on: set[str]) -> None:
        occupant = self.occupants.get(entry.rel_path)
        if occupant is not None and occupant.id in moved_on:
            occupant = None  # its file moved on (vacated): the path is free
        if match is None:
            if occupant is None:
                self.summary.new += 1
                self.writer.register_file(entry)
            else:  # rewritten by an editor's save-to-temp-and-rename: the same asset
                self.summary.changed += 1
                self.writer.changed_file(occupant, entry)
            return
        candidate = match.candidate
        if candidate.root_id == self.root.id:
            self.signatures.pop(candidate.rel_path, None)  # not gone: it is here
        if occupant is not None and occupant.status != AssetStatus.MISSING:
            # Renamed onto a file that was there: an edit of that file, which keeps its id.
            self.summary.changed += 1
            if candidate.status == AssetStatus.MISSING:  # long gone, not the renamed file
                self.writer.changed_file(occupant, entry)
            else:
                self.writer.replaced_by_rename(occupant, entry, renamed_id=candidate.id)
            return
        self.summary.moved += 1
        if occupant is not None:
            self.writer.vacate([occupant.id])  # missing already; its path is taken
        self.writer.moved(candidate, entry, content_changed=match.content_changed)

    def _abs(self, entry: Entry) -> str:
        return os.path.join(self.root.path, entry.rel_path)

    def _settle_folders_that_were_unreadable(self) -> None:
        """Folders in error whose contents the walk could list this time are ready again."""
        for rel_path in self.still_unreadable:
            self.writer.returned(self.index[rel_path])
        self.still_unreadable.clear()

    def _looks_unmounted(self) -> bool:
        """Nothing found where the index holds files: a dropped mount, not a mass deletion."""
        # Skipped entries do not count: a .DS_Store or @eaDir left behind is still "empty".
        found_anything = self.summary.seen or self.summary.folders
        return not found_anything and any(map(fast_index.is_present, self.signatures.values()))

    def _check_disk(self) -> None:
        if folder_device(self.root.path) != self.device:
            raise _DiskChanged

    def _abandon_on_another_disk(self) -> None:
        """Whatever the walk saw since the disk went is not the library's: the batch not
        written yet is dropped (the next scan sees its files again), nothing is marked
        missing, and the disk's device stays the library's."""
        if self._writer is not None:
            self._writer.discard()
            self._writer = None
        self._abandon_as_offline(UNMOUNTED_WHILE_SCANNED)

    def _abandon_as_offline(self, reason: str) -> None:
        from trove.services.scan_writer import mark_root_offline

        mark_root_offline(self.service.database, self.root.id, reason=reason)
        self.summary.status = "offline"
        self.summary.status_message = reason

    def _mark_gone(self) -> None:
        """What the walk did not see is missing, except below folders it could not read."""
        blocked = tuple(d + "/" for d in self.unreadable_dirs)
        gone = [
            rel
            for rel, signature in self.signatures.items()
            if fast_index.is_present(signature) and not (blocked and rel.startswith(blocked))
        ]
        if gone:
            rows = [self.index[rel] for rel in gone]
            self.summary.gone = sum(1 for row in rows if not row.is_folder)
            self.writer.mark_missing([row.id for row in rows])

    def _finish(self) -> None:
        now = datetime.now(UTC).replace(tzinfo=None)
        if self._writer is not None:
            self._writer.drain()  # the last batch's failures count in this scan's record
            self.summary.errors += self._writer.unreadable_files + len(self._writer.failed)
            self.summary.processed = self._writer.processed
            self.summary.processed_steps = self._writer.processed_steps
            self.summary.failed_entries = [f"{p}: {why}" for p, why in self._writer.failed]
        record = self.summary.finish().as_dict()
        device = self.device if self._found_its_files() else None
        if self._writer is not None:
            self._writer.finish(scan_at=now, summary=record, device=device)
            return
        with fast_index.connect(self.service.url) as conn:
            fast_index.record_scan(conn, self.root.id, at=now, summary=record, device=device)

    def _found_its_files(self) -> bool:
        """Some file the index held was seen, present or back from missing (or it held none):
        the folder's file system is then the library's, kept for `library_unavailable_reason`.
        A scan of a mount point whose disk is away, made before any was kept, keeps none."""
        unseen = sum(map(isinstance, self.signatures.values(), itertools.repeat(tuple)))
        expected = self.summary.expected
        return bool(self.summary.returned) or unseen < expected or not expected


def _other_inode(row: IndexRow, entry: Entry) -> bool:
    st = entry.stat
    assert st is not None
    if row.is_folder or row.inode is None:
        return False
    return row.inode != st.st_ino or (row.device is not None and row.device != st.st_dev)


def _same_stat(row: IndexRow, entry: Entry) -> bool:
    st = entry.stat
    assert st is not None
    return row.size == st.st_size and row.mtime_ns == st.st_mtime_ns and row.inode == st.st_ino
