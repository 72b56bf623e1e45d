"""The write side of a scan: registration of new entries and bookkeeping of changes.

Imported only when a scan finds something to write (see scanner.py for why).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from trove.db.database import Database
from trove.db.models import OWNER_ID
from trove.domain.enums import AssetCategory, AssetStatus, AssetType, Relation
from trove.domain.ids import new_id
from trove.domain.paths import display, from_stored, parent_of, storage_urn, to_stored
from trove.domain.timeline import place
from trove.pipeline.light import BATCH as LIGHT_BATCH
from trove.pipeline.light import apply_outcome
from trove.pipeline.recording import outcome_row
from trove.repositories import fast_index
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository
from trove.repositories.bulk_inserts import bulk_inserted
from trove.repositories.integrity import IntegrityRepository
from trove.repositories.links import LinkRepository, edge
from trove.repositories.roots import RootRepository
from trove.repositories.statistics import StatisticsKeeper
from trove.repositories.steps import StepRepository
from trove.repositories.sync import SyncRepository
from trove.services import search
from trove.services.root_policy import refuse_nested
from trove.storage.originals import MimeDetector, OriginalUnavailable
from trove.storage.walk import Entry
from trove.sync.mounts import folder_device

if TYPE_CHECKING:
    from trove.pipeline.light import LightLane, LightOutcome

_EPOCH = datetime(1970, 1, 1)


def register_root(
    database: Database, root_path: str, *, upload_folder: str, is_upload_target: bool = False
) -> fast_index.RootRow:
    """Add a root and the folder asset that stands for it in the graph (or, when another
    caller registered the same folder first, return that root). Conflict for a folder
    inside a library or holding one (root_policy.refuse_nested)."""
    name = os.path.basename(root_path) or root_path
    with database.session() as session:
        roots = RootRepository(session)
        roots.hold_libraries()
        refuse_nested(root_path, roots.all(), upload_folder=upload_folder)
        root, created = roots.add_if_new(
            path=root_path,
            name=name,
            device=folder_device(root_path),
            is_upload_target=is_upload_target,
        )
        if created:
            now = utcnow()
            AssetRepository(session).insert_many([_folder_row(root.id, root_path, "", now=now)])
        return fast_index.RootRow.of(root)


def mark_root_offline(database: Database, root_id: str, *, reason: str) -> None:
    with database.session() as session:
        RootRepository(session).set_offline(root_id, reason=reason)


class _Clock:
    """`utcnow()` to the tenth of a second. The rows a scan registers in the same moment
    share one timestamp object, which the driver's parameters format once for a run of them
    (_sql._processed) instead of once a row: 20,000 new files made 120,000 timestamps to
    format, for their rows, links and step records."""

    TICK_S = 0.1

    def __init__(self) -> None:
        self._at = time.monotonic()
        self._now = utcnow()

    def __call__(self) -> datetime:
        tick = time.monotonic()
        if tick - self._at >= self.TICK_S:
            self._at, self._now = tick, utcnow()
        return self._now


class ScanWriter:
    """Buffers what a scan registers or changes and writes it in committed batches."""

    def __init__(
        self,
        database: Database,
        root: fast_index.RootRow,
        folder_ids: dict[str, str],
        *,
        batch_size: int,
        classify: Callable[[str | None, str], AssetType],
        light: LightLane | None = None,
    ) -> None:
        """`classify(mime, filename)`: a file's type (AssetDriverManager.classify). `light`:
        where new files get their light steps before they are written (pipeline/light.py)."""
        self.classify = classify
        self.light = light
        self.database = database
        self.root = root
        self.folder_ids = folder_ids
        self.batch_size = batch_size
        self.mime = MimeDetector()
        self.session = database.new_session()
        self.assets = AssetRepository(self.session)
        self.new_rows: list[dict[str, Any]] = []
        self.new_links: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.forget: list[str] = []
        # Moved entries whose `contains` edge must follow them: (asset id, new relative path).
        self.rehomed: list[tuple[str, str]] = []
        # Changed files: a bitrot finding about their earlier bytes no longer applies.
        self.replaced: list[str] = []
        self.unreadable_files = 0  # registered with status error: the scan summary counts them
        # Entries the database refused, as (shown path, reason): each costs only itself.
        self.failed: list[tuple[str, str]] = []
        # Entries whose path another takes in this batch (a swap, a rename chain): their path
        # is cleared first, in the same transaction, so no two rows ever hold one path.
        self.vacating: list[str] = []
        # Files renamed onto an indexed file: (its id, the renamed file's id, the path).
        self.renamed_onto: list[tuple[str, str, str]] = []
        # The light steps' outcomes of new files in the batch, and the rows of those finished.
        self.outcomes: list[dict[str, Any]] = []
        self.finished: list[dict[str, Any]] = []
        # New files whose whole pass was done as they were registered, and their steps.
        self.processed = 0
        self.processed_steps: Counter[tuple[str, str]] = Counter()
        self._holding = False
        self._now = _Clock()
        self.statistics = StatisticsKeeper(database.url)

    # --- what the diff reports -------------------------------------------------------------

    def register_file(self, entry: Entry) -> str:
        row = self._file_row(entry)
        if self.light is None or self._holding:
            self._add_new(entry.rel_path, row)
            return str(row["id"])
        if not self.light.take(entry.rel_path, row):
            self._add_new(entry.rel_path, row)
        self._collect_light(wait=False)  # what came back is written with the next batch
        return str(row["id"])

    def drain(self) -> None:
        """Write everything, the new files still in their light steps too."""
        self._collect_light(wait=True)
        self.flush()

    def register_folder(self, entry: Entry, st: os.stat_result | None = None) -> str:
        """`st` (when known) records the folder's inode, so a later move can be recognised."""
        row = _folder_row(self.root.id, self.root.path, entry.rel_path, now=utcnow(), st=st)
        self.folder_ids[entry.rel_path] = row["id"]
        self._add_new(entry.rel_path, row)
        return str(row["id"])

    def changed_file(self, row: fast_index.IndexRow, entry: Entry) -> None:
        fresh = self._file_row(entry)
        keep = (
            "id",
            "owner_id",
            "root_id",
            "rel_path",
            "path_escaped",
            "filename",
            "storage_urn",
            "created_at",
            "visibility",
            "thumbnails",
            "meta",
            "version",
        )
        update = {k: v for k, v in fresh.items() if k not in keep}
        update.update(id=row.id, hash=None, category=AssetCategory.PHYSICAL)
        self._add_update(update)
        self.forget.append(row.id)
        self.replaced.append(row.id)

    def replaced_by_rename(
        self, row: fast_index.IndexRow, entry: Entry, *, renamed_id: str
    ) -> None:
        """A file renamed onto an indexed file (an editor's `s.png.part` -> `s.png`) is an
        edit of that file: `row` keeps its id, tags and title; the record of the file that
        was renamed goes (it is kept, missing, if someone tagged, titled or linked it)."""
        self.changed_file(row, entry)
        self.renamed_onto.append((row.id, renamed_id, entry.rel_path))

    def vacate(self, asset_ids: list[str]) -> None:
        """These entries lose their path (missing, until a move in this batch gives them
        another): the path is taken by another entry."""
        self.vacating += asset_ids

    @contextlib.contextmanager
    def one_transaction(self) -> Iterator[None]:
        """What is written inside is committed together (a swap is never half done)."""
        self.flush()
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        self.flush()

    def moved(
        self, candidate: fast_index.MoveCandidate, entry: Entry, *, content_changed: bool
    ) -> None:
        """A file found at a new path is an indexed asset that moved: it keeps its id, tags,
        albums and links; only where it lives (and, if its bytes changed, its hash) changes."""
        st = entry.stat
        assert st is not None
        done = candidate.has_hash and not content_changed
        update: dict[str, Any] = {
            "id": candidate.id,
            **self._location(entry.rel_path),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns,
            "inode": st.st_ino,
            "device": st.st_dev,
            "status": AssetStatus.READY if done else AssetStatus.PROCESSING,
            "error_message": None,
            "updated_at": utcnow(),
        }
        if content_changed:
            update["hash"] = None
            self.forget.append(candidate.id)
            self.replaced.append(candidate.id)
        self._add_update(update)
        self.rehomed.append((candidate.id, entry.rel_path))

    def _location(self, rel_path: str) -> dict[str, Any]:
        """Where an asset lives in this root, as the columns that say it."""
        stored, escaped = to_stored(rel_path)
        return {
            "root_id": self.root.id,
            "rel_path": stored,
            "path_escaped": escaped,
            "filename": stored.rpartition("/")[2],
            "storage_urn": storage_urn(self.root.path, stored),
        }

    def moved_folder(
        self, candidate: fast_index.MoveCandidate, entry: Entry, st: os.stat_result
    ) -> None:
        """A new folder that is an indexed one moved (same device and inode): the folder asset
        keeps its id; what it contains is matched file by file as the walk reaches it."""
        self.folder_ids[entry.rel_path] = candidate.id
        self._add_update(
            {
                "id": candidate.id,
                **self._location(entry.rel_path),
                "inode": st.st_ino,
                "device": st.st_dev,
                "status": AssetStatus.READY,
                "error_message": None,
                "updated_at": utcnow(),
            }
        )
        self.rehomed.append((candidate.id, entry.rel_path))

    def file_became_folder(self, row: fast_index.IndexRow, entry: Entry) -> None:
        self.folder_ids[entry.rel_path] = row.id
        self._add_update(
            {
                "id": row.id,
                "asset_type": AssetType.COLLECTION,
                "category": AssetCategory.COMPOSITE,
                "size": None,
                "mime_type": None,
                "hash": None,
                "status": AssetStatus.READY,
                "error_message": None,
                "updated_at": utcnow(),
            }
        )
        self.forget.append(row.id)

    def returned(self, row: fast_index.IndexRow) -> None:
        done = row.is_folder or row.has_hash
        status = AssetStatus.READY if done else AssetStatus.PROCESSING
        self._add_update(
            {"id": row.id, "status": status, "error_message": None, "updated_at": utcnow()}
        )

    def folder_unreadable(self, entry: Entry, *, reason: str) -> None:
        self.flush()
        folder_id = self.folder_ids.get(entry.rel_path)
        if folder_id:
            self.assets.set_status([folder_id], AssetStatus.ERROR, message=reason)
            # Committed now: the scan must never wait for the light pass's workers while it
            # holds the write lock that their pipeline batches wait for.
            self.session.commit()

    def mark_missing(self, asset_ids: list[str]) -> None:
        self.flush()
        for start in range(0, len(asset_ids), 1000):
            self.assets.set_status(asset_ids[start : start + 1000], AssetStatus.MISSING)
        self.session.commit()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.session.close()

    def discard(self) -> None:
        """Drop what is buffered; closing the session rolls its transaction back (an
        interrupted scan keeps the batches it committed). The session first: the light pass's
        workers may wait for the write lock it holds."""
        self.session.close()
        if self.light is not None:
            self.light.close()

    def finish(
        self, *, scan_at: datetime, summary: dict[str, Any], device: int | None = None
    ) -> None:
        try:
            self.drain()
            if self.light is not None:
                self.light.close()
            RootRepository(self.session).record_scan(
                self.root.id, at=scan_at, summary=summary, device=device
            )
            self.session.commit()
        finally:
            self.session.close()
        self.statistics.tick(force=True)

    # --- batching --------------------------------------------------------------------------

    def _collect_light(self, *, wait: bool) -> None:
        """Queue for writing the new files back from their light steps. With `wait` (the walk
        is over), all of them, written while the workers do the rest (`_drain_flush_due`):
        only the last batch is left to write alone (a batch of `batch_size` rows was up to a
        second of this process alone at the end)."""
        if self.light is None:
            return
        for rel_path, row, outcome in self.light.finished(wait=wait):
            if outcome is not None:
                self._with_light_outcome(row, outcome)
            self._add_new(rel_path, row)
            if wait and self._drain_flush_due():
                self.flush()

    def _drain_flush_due(self) -> bool:
        """While the workers finish: write what came back once a batch is gathered and the
        next is not back yet. A backlog is written in one go: each write has a fixed cost
        (~20 statements and a commit), and 200 rows at a time fell behind the workers,
        leaving a second of writing alone at the end."""
        assert self.light is not None
        return (
            len(self.new_rows) >= LIGHT_BATCH and not self._holding and not self.light.next_ready()
        )

    def _with_light_outcome(self, row: dict[str, Any], outcome: LightOutcome) -> None:
        now = self._now()
        apply_outcome(row, outcome)
        row["updated_at"] = now
        steps, finished = outcome
        for step, version, status, message, _updates, _metadata, elapsed_ms in steps:
            self.outcomes.append(
                outcome_row(
                    row["id"],
                    step=step,
                    version=version,
                    status=status,
                    message=message,
                    elapsed_ms=elapsed_ms,
                    now=now,
                )
            )
            self.processed_steps[(step, status)] += 1
        if finished:
            self.finished.append(row)
            self.processed += 1

    def _add_new(self, rel_path: str, row: dict[str, Any]) -> None:
        self.new_rows.append(row)
        parent_id = self.folder_ids.get(parent_of(rel_path))
        if parent_id:
            self.new_links.append(edge(parent_id, row["id"], Relation.CONTAINS, at=self._now()))
        if len(self.new_rows) >= self.batch_size and not self._holding:
            self.flush()

    def _add_update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)
        if len(self.updates) >= self.batch_size and not self._holding:
            self.flush()

    def flush(self) -> None:
        """Write the buffered batch and commit, so an interrupted scan keeps what it did.

        A batch the database refuses is written again entry by entry, so that the one entry
        it refuses is recorded as failed and the others are indexed. A refusal that is not
        about an entry (disk full, connection lost) stops the scan as before.
        """
        if not (self.new_rows or self.updates or self.forget or self.vacating):
            return
        from sqlalchemy.exc import DBAPIError

        try:
            self._vacate()
            with bulk_inserted(self.session, [row["id"] for row in self.new_rows]):
                self._write(self.new_rows, self.new_links, self.updates)
                self._write_bookkeeping(set())
            self.session.commit()
        except DBAPIError as exc:
            self.session.rollback()
            if not _about_an_entry(exc):
                raise
            self._vacate()
            self.session.commit()
            self._write_entry_by_entry()
        self.new_rows, self.new_links, self.updates, self.forget = [], [], [], []
        self.rehomed, self.replaced, self.vacating, self.renamed_onto = [], [], [], []
        self.outcomes, self.finished = [], []
        self.statistics.tick()

    def _write(
        self, rows: list[dict[str, Any]], links: list[dict[str, Any]], updates: list[dict[str, Any]]
    ) -> None:
        self.assets.insert_many(rows)
        LinkRepository(self.session).add_many(links)
        self.assets.update_many(updates)

    def _write_bookkeeping(self, skip: set[str]) -> None:
        outcomes = [o for o in self.outcomes if o["asset_id"] not in skip]
        if outcomes:
            StepRepository(self.session).record(outcomes)
        finished = [row for row in self.finished if row["id"] not in skip]
        if finished:
            search.index_new_files(self.session, finished)  # the pipeline's finish would too
        self.assets.forget_steps([i for i in self.forget if i not in skip])
        rehomed = [(i, rel) for i, rel in self.rehomed if i not in skip]
        if rehomed:
            SyncRepository(self.session).rehome(
                [(i, self.folder_ids.get(parent_of(rel))) for i, rel in rehomed]
            )
            search.reindex(self.session, [i for i, _rel in rehomed])  # new name and folders
        replaced = [i for i in self.replaced if i not in skip]
        if replaced:
            IntegrityRepository(self.session).resolve(replaced)
        for kept_id, renamed_id, rel_path in self.renamed_onto:
            if kept_id not in skip:
                SyncRepository(self.session).retire(
                    renamed_id, reason=f"renamed onto {rel_path!r}, which kept its own record"
                )

    def _vacate(self) -> None:
        SyncRepository(self.session).vacate(
            self.vacating, reason="replaced on disk by another file"
        )

    def _write_entry_by_entry(self) -> None:
        links_to: dict[str, list[dict[str, Any]]] = {}
        for link in self.new_links:
            links_to.setdefault(link["target_id"], []).append(link)
        failed_ids: set[str] = set()
        for row in self.new_rows:
            if not self._write_one(row, [row], links_to.get(row["id"], []), []):
                failed_ids.add(row["id"])
                if row["asset_type"] == AssetType.COLLECTION:  # its files go in unlinked
                    self.folder_ids.pop(_shown_rel(row), None)
        for update in self.updates:
            if not self._write_one(update, [], [], [update]):
                failed_ids.add(update["id"])
        self._write_bookkeeping(failed_ids)
        self.session.commit()

    def _write_one(
        self,
        entry: dict[str, Any],
        rows: list[dict[str, Any]],
        links: list[dict[str, Any]],
        updates: list[dict[str, Any]],
    ) -> bool:
        from sqlalchemy.exc import DBAPIError

        try:
            self._write(rows, links, updates)
            self.session.commit()
        except DBAPIError as exc:
            self.session.rollback()
            if not _about_an_entry(exc):
                raise
            where = display(_shown_rel(entry)) if "rel_path" in entry else f"asset {entry['id']}"
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            self.failed.append((where, f"the database refused it: {reason}"))
            return False
        return True

    def _file_row(self, entry: Entry) -> dict[str, Any]:
        st = entry.stat
        assert st is not None
        now = self._now()
        mime, status, message = self._detect(entry.rel_path)
        return {
            "id": new_id(),
            "owner_id": OWNER_ID,
            **self._location(entry.rel_path),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns,
            "inode": st.st_ino,
            "device": st.st_dev,
            "mime_type": mime,
            "asset_type": self.classify(mime, entry.rel_path),
            "category": AssetCategory.PHYSICAL,
            "status": status,
            "error_message": message,
            "is_virtual": False,
            "visibility": "private",
            "thumbnails": {},
            "meta": {},
            "version": 1,
            **_timeline(entry.rel_path, st.st_mtime_ns, now=now),
            "created_at": now,
            "updated_at": now,
        }

    def _detect(self, rel_path: str) -> tuple[str | None, str, str | None]:
        try:
            mime = self.mime.from_path(os.path.join(self.root.path, rel_path))
        except OriginalUnavailable as exc:
            self.unreadable_files += 1
            return None, AssetStatus.ERROR, f"cannot read file: {exc}"
        return mime, AssetStatus.PROCESSING, None


def _folder_row(
    root_id: str,
    root_path: str,
    rel_path: str,
    *,
    now: datetime,
    st: os.stat_result | None = None,
) -> dict[str, Any]:
    stored, escaped = to_stored(rel_path)
    name = stored.rpartition("/")[2] if stored else (os.path.basename(root_path) or root_path)
    return {
        "inode": st.st_ino if st else None,
        "device": st.st_dev if st else None,
        "id": new_id(),
        "owner_id": OWNER_ID,
        "root_id": root_id,
        "rel_path": stored,
        "path_escaped": escaped,
        "filename": name,
        "size": None,
        "mime_type": None,
        "asset_type": AssetType.COLLECTION,
        "category": AssetCategory.COMPOSITE,
        "status": AssetStatus.READY,
        "storage_urn": storage_urn(root_path, stored),
        "is_virtual": False,
        "visibility": "private",
        "thumbnails": {},
        "meta": {"folder": {"root": rel_path == ""}},
        "version": 1,
        "timeline_at": now,
        "created_at": now,
        "updated_at": now,
    }


def _about_an_entry(exc: Exception) -> bool:
    """A constraint or a value the database refused (this entry's), not a failing database."""
    from sqlalchemy.exc import OperationalError

    return not isinstance(exc, OperationalError)


def _shown_rel(row: dict[str, Any]) -> str:
    """The relative path a row stands for (paths.py: undecodable bytes as surrogates)."""
    return from_stored(row["rel_path"], escaped=bool(row.get("path_escaped")))


def _timeline(rel_path: str, mtime_ns: int, *, now: datetime) -> dict[str, Any]:
    """Until the metadata step finds a capture time: a date in the path, else the mtime."""
    placed = place(rel_path, mtime=_timestamp(mtime_ns), seen_at=now)
    return {"timeline_at": placed.at, "timeline_source": placed.source}


def _timestamp(mtime_ns: int) -> datetime:
    """File mtimes can be anything (year 1601, year 30000): clamp what datetime cannot hold."""
    try:
        return datetime.fromtimestamp(mtime_ns / 1e9, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        return _EPOCH
