"""LibraryService: what the CLI asks of a library as a whole (scan + process, status, ls)."""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trove.config import Settings
from trove.domain.access import Viewer
from trove.repositories import fast_index
from trove.services.errors import ScanStopped
from trove.services.scan_summary import ScanSummary
from trove.services.scanner import (
    RootUnavailable,
    ScanService,
    canonical_root,
    known_root_path,
    root_unavailable_reason,
)

if TYPE_CHECKING:
    from trove.db.database import Database
    from trove.domain.filters import AssetFilters
    from trove.pipeline.pool import LocalWorkers
    from trove.pipeline.service import PipelineService, PipelineSummary
    from trove.repositories.steps import FailureReason
    from trove.services.assets import AssetPage
    from trove.services.integrity import VerifyReport


log = logging.getLogger(__name__)

# Failure reasons listed per library (the most frequent first).
MAX_FAILURE_REASONS = 5


@dataclass
class ScanRun:
    scans: list[ScanSummary] = field(default_factory=list)
    pipeline: PipelineSummary | None = None


class LibraryService:
    def __init__(self, settings: Settings, *, database: Database | None = None) -> None:
        self.settings = settings
        self._database = database
        self._owns_database = database is None
        self._pipeline: PipelineService | None = None

    @property
    def database(self) -> Database:
        if self._database is None:
            from trove.db.database import Database

            self._database = Database(self.settings.resolved_database_url)
        return self._database

    def close(self) -> None:
        """Close the database connections this service opened itself (a command is done)."""
        if self._owns_database and self._database is not None:
            self._database.dispose()
            self._database = None

    def scan_and_process(
        self,
        paths: list[str],
        *,
        wait: bool,
        on_scan_progress: Callable[[ScanSummary], None] | None = None,
        on_pipeline_progress: Callable[[Any], None] | None = None,
        relocate: bool = False,
        as_new: bool = False,
        libraries_only: bool = False,
        light_pass: bool = False,
        stop: threading.Event | None = None,
    ) -> ScanRun:
        """Scan each path, then (unless told not to wait) fingerprint what is new or changed.

        `light_pass` without `wait` (the server's scans): in-process, new files still get
        their light steps as they are registered (pipeline/light.py), and the rest is left to
        the caller's processing job, so that one library's previews and transcodes do not
        hold up the scans queued behind its scan.

        A path that is not a library yet but holds the files of one whose folder is gone is
        a library that moved: RelocationOffered, unless `relocate` (it is moved there, ids
        and user data kept) or `as_new` (indexed as another library).

        `libraries_only` (the server's background scans, asked for by path): a path that is
        no library, or no longer one (relocated or removed since the scan was asked for), is
        left alone, never registered as a library nobody added.

        `stop` set (the CLI's Ctrl-C, the server's shutdown) ends the run with ScanStopped,
        a KeyboardInterrupt, at the next point where nothing is half written: between files
        of the walk, once each pipeline batch in hand stopped after its asset. Raised
        asynchronously inside a statement instead, Ctrl-C left SQLite's write lock held by a
        connection the traceback kept alive, and the pipeline's threads waited for it (90 s
        and more)."""
        from trove.db.migrate import ensure_schema

        stop = stop or threading.Event()
        scanner = ScanService(self.settings, database=lambda: self.database)
        run = ScanRun()
        # In-process, the pipeline starts on what registration has written while the walk
        # goes on (two cores busy, not one after the other).
        beside = (
            _PipelineBeside(self, on_pipeline_progress, stop=stop, pipeline=wait)
            if (wait or light_pass) and not self.settings.broker_url
            else None
        )
        scan_progress = _stopping_at(
            stop, beside.watching(on_scan_progress) if beside is not None else on_scan_progress
        )
        try:
            # One connection for the scans' reads (an unchanged rescan's only database work).
            with fast_index.reusing():
                ensure_schema(self.settings.resolved_database_url)  # before looking roots up
                for path in paths:
                    _interrupt_if(stop)
                    if libraries_only and self._is_new_root(path):
                        log.info("not scanning %s: it is no library (any more)", path)
                        continue
                    self._check_scannable(path)
                    if not as_new and self._is_new_root(path):
                        self._relocate_if_offered(path, relocate=relocate)
                    run.scans.append(
                        scanner.scan(
                            path,
                            progress=scan_progress,
                            workers=beside.local_workers if beside is not None else None,
                        )
                    )
        except BaseException:
            if beside is not None:
                beside.abandon()
            raise
        if beside is not None:
            run.pipeline = _with_processed(beside.finish(), run.scans)
        elif wait and not stop.is_set() and self._has_pending_work():
            run.pipeline = self.pipeline().run_pending(
                progress=on_pipeline_progress, stopped=stop.is_set
            )
        _interrupt_if(stop)
        if wait and (run.pipeline is not None or not all(s.wrote_nothing for s in run.scans)):
            self.reconcile_duplicates()
        return run

    def relocate(self, root: str, new_path: str, *, indexer: Any = None) -> dict[str, Any]:
        """Point library `root` (id or former path) at `new_path` after checking a sample of
        its files there (services/relocation.py); its rescan is queued when an indexer runs."""
        from trove.services.relocation import LibraryRelocation

        done = LibraryRelocation(self.settings, self.database).relocate(root, new_path)
        if indexer is not None:
            indexer.request_scan(done["new_path"])
        return done

    def relocate_requested(self, root_id: str, new_path: str, *, indexer: Any) -> dict[str, Any]:
        """A relocation asked for through the API: only to where TROVE_ALLOWED_ROOTS allows."""
        from trove.services.root_policy import check_requested_root

        return self.relocate(
            root_id, check_requested_root(new_path, self.settings), indexer=indexer
        )

    def relocation_offer_requested(self, path: str) -> dict[str, Any] | None:
        """An offer asked for through the API: only for where TROVE_ALLOWED_ROOTS allows (it
        reads files there)."""
        from trove.services.root_policy import check_requested_root

        return self.relocation_offer(check_requested_root(path, self.settings))

    def relocation_offer(self, path: str) -> dict[str, Any] | None:
        """The library whose folder is gone and whose files `path` holds, if any."""
        from trove.services.relocation import LibraryRelocation

        return LibraryRelocation(self.settings, self.database).offer_for(path)

    def _is_new_root(self, path: str) -> bool:
        try:
            with fast_index.connect(self.settings.resolved_database_url) as conn:
                return fast_index.find_root(conn, known_root_path(conn, path)) is None
        except fast_index.IndexUnavailable:
            return False  # no index yet: no library that could have moved

    def _known_path(self, path: str) -> str:
        """`known_root_path`: the path of the library at `path`, even if its folder is a link
        now (no index yet: the folder's real path)."""
        try:
            with fast_index.connect(self.settings.resolved_database_url) as conn:
                return known_root_path(conn, path)
        except fast_index.IndexUnavailable:
            return canonical_root(path)

    def _relocate_if_offered(self, path: str, *, relocate: bool) -> None:
        from trove.services.errors import RelocationOffered

        offer = self.relocation_offer(path)
        if offer is None:
            return
        if not relocate:
            raise RelocationOffered(offer)
        self.relocate(offer["id"], path)

    def verify(
        self,
        *,
        mb_per_s: float | None = None,
        max_age_days: float | None = None,
        limit: int | None = None,
        changed: bool = False,
    ) -> VerifyReport:
        """`trove verify`: the bitrot check (IntegrityService.verify). Files that `changed`
        finds overwritten in place are indexed again and processed now, as a scan would."""
        from trove.db.migrate import ensure_schema
        from trove.services.integrity import IntegrityService

        ensure_schema(self.settings.resolved_database_url)
        report = IntegrityService(self.settings, self.database).verify(
            mb_per_s=mb_per_s, max_age_days=max_age_days, limit=limit, changed=changed
        )
        if report.rewritten:
            self.pipeline().run_pending()
            self.reconcile_duplicates()
        return report

    def reconcile_duplicates(self) -> None:
        """Keep the `duplicate_of` edges in step with the hashes (after hashing or a scan)."""
        from trove.services.integrity import IntegrityService

        IntegrityService(self.settings, self.database).sync_duplicate_links()

    def pipeline(self) -> PipelineService:
        """The PipelineService, built once: collecting the processors imports the imaging
        stack, which `status` (and the API's status and jobs) should not pay per call."""
        if self._pipeline is None:
            from trove.pipeline.registry import collect_processors, plugin_modules
            from trove.pipeline.service import PipelineService
            from trove.plugins.manager import make_plugin_manager

            plugins = make_plugin_manager(extra_modules=plugin_modules(self.settings))
            processors = collect_processors(plugins, settings=self.settings)
            self._pipeline = PipelineService(self.settings, self.database, processors)
        return self._pipeline

    def run_worker(self, *, processes: int) -> int:
        """`trove worker`: pipeline worker processes for the Redis broker, until stopped."""
        from trove.db.migrate import ensure_schema
        from trove.logs import worker_logs_to_stderr
        from trove.pipeline.worker import run_worker

        worker_logs_to_stderr(self.settings)  # before the schema check logs anything
        ensure_schema(self.settings.resolved_database_url)
        return run_worker(self.settings, processes=processes, service=self.pipeline())

    def reprocess(self, step: str, *, force: bool, wait: bool) -> dict[str, Any]:
        """`trove reprocess --step NAME`: re-run one step where it is stale (or everywhere)."""
        from trove.db.migrate import ensure_schema

        ensure_schema(self.settings.resolved_database_url)
        pipeline = self.pipeline()
        queued = pipeline.reprocess(step, force=force)
        summary = pipeline.run_pending(wait=wait) if queued else None
        return {"step": step, "queued": queued, "pipeline": summary.as_dict() if summary else None}

    def jobs(self) -> dict[str, Any]:
        """Pipeline progress: queued / running / done / failed per step, and throughput."""
        from trove.db.migrate import ensure_schema

        ensure_schema(self.settings.resolved_database_url)
        return self.pipeline().jobs()

    def status(self, *, viewer: Viewer) -> dict[str, Any]:
        """The libraries the viewer is shown, counts over what they see, and the pipeline's
        progress (how busy the server is: no names, no ids)."""
        from trove.db.migrate import ensure_schema
        from trove.domain.enums import AssetStatus
        from trove.domain.progress import jobs_shown_to, library_progress
        from trove.repositories.assets import AssetRepository
        from trove.repositories.counters import CounterRepository
        from trove.repositories.integrity import IntegrityRepository
        from trove.repositories.roots import RootRepository
        from trove.repositories.steps import StepRepository
        from trove.services.integrity import status_warnings

        ensure_schema(self.settings.resolved_database_url)
        pipeline = self.pipeline()
        # PostgreSQL's counters are folded in a transaction of their own, committed at once:
        # the reading below, however slow, then holds no lock a folding writer would wait for.
        with self.database.session() as session:
            CounterRepository(session).fold()
        with self.database.session() as session:
            CounterRepository(session).only_reading()  # each counter read once, not 4 times
            jobs = jobs_shown_to(pipeline.jobs_in(session), sees_everything=viewer.sees_everything)
            roots = RootRepository(session).visible_to(viewer)
            assets = AssetRepository(session)
            step_repository = StepRepository(session)
            # Step outcomes are counted over the whole index (maintained counters): shown to
            # one who sees everything; to a member they told how many files, and of which
            # kinds, arrive in libraries they cannot open.
            steps = step_repository.counts() if viewer.sees_everything else {}
            failures = step_repository.failure_reasons(viewer=viewer, per_root=MAX_FAILURE_REASONS)
            files = assets.count_by_root_and_status(viewer=viewer)
            corrupted = IntegrityRepository(session).count_open_findings(viewer=viewer)
            return {
                "database": _redacted(self.settings.resolved_database_url)
                if viewer.is_admin
                else "",
                "roots": [_root_dict(root, failures=failures) for root in roots],
                "by_status": assets.count_by("status", viewer=viewer),
                "by_type": assets.count_by("asset_type", viewer=viewer),
                "steps": _nest(steps),
                "warnings": status_warnings(roots, corrupted=corrupted),
                "jobs": jobs,
                "progress": library_progress(
                    files=sum(sum(counts.values()) for counts in files.values()),
                    processing=sum(c.get(AssetStatus.PROCESSING, 0) for c in files.values()),
                    jobs=jobs,
                ).model_dump(),
            }

    def roots(self) -> list[dict[str, Any]]:
        """Every library with its state and last scan (no counting of assets)."""
        from trove.repositories.roots import RootRepository

        with self.database.session() as session:
            return [_root_dict(root) for root in RootRepository(session).all()]

    def list_assets(self, filters: AssetFilters) -> AssetPage:
        """`trove ls`: the API's listing, from the command line."""
        from trove.db.migrate import ensure_schema
        from trove.services.assets import AssetService

        ensure_schema(self.settings.resolved_database_url)
        return AssetService(self.settings, self.database).list(filters, viewer=Viewer.system())

    def count_libraries(self) -> int:
        """Roots the user added (the upload folder is Trove's own, not counted)."""
        from trove.repositories.roots import RootRepository

        with self.database.session() as session:
            return sum(1 for root in RootRepository(session).all() if not root.is_upload_target)

    def add_root(
        self, path: str, *, indexer: Any, offline_ok: bool = False, as_new: bool = True
    ) -> dict[str, Any]:
        """Register a folder as a library root and queue its first scan.

        `offline_ok` (`trove serve PATH`): a folder that is missing or unreadable is added
        anyway and shown offline with the reason (a NAS not mounted yet must not keep the
        server down); the watcher picks it up when it appears. Unless `as_new`, a folder
        holding the files of a library whose folder is gone is RelocationOffered instead.
        """
        import os

        from trove.services.errors import Invalid

        root_path = self._known_path(path)
        reason = root_unavailable_reason(root_path)
        if reason and offline_ok:
            log.warning("library %s is offline (%s); it is picked up when it appears", path, reason)
        elif not os.path.isdir(root_path):
            raise Invalid(f"{path}: no such folder")
        elif not os.access(root_path, os.R_OK | os.X_OK):
            raise Invalid(f"{path}: folder is not readable")
        if not as_new and self._is_new_root(root_path):
            self._relocate_if_offered(root_path, relocate=False)
        root = ScanService(self.settings, database=self.database).ensure_root(root_path)
        indexer.request_scan(root.path)
        return self._root(root.id)

    def add_server_roots(self, paths: Sequence[str], *, indexer: Any) -> None:
        """`trove serve PATH...`: each folder is added, offline ones too (`add_root`). One that
        cannot be a library (inside another, its path not UTF-8) is left out, the reason in
        the log, and the server serves the others: a traceback and no server was the answer."""
        from trove.services.errors import Conflict, Invalid

        for path in paths:
            try:
                self.add_root(path, indexer=indexer, offline_ok=True)
            except (Conflict, Invalid) as exc:
                log.error("not serving %s as a library: %s", path, exc)

    def add_requested_root(
        self, path: str, *, indexer: Any, as_new: bool = False
    ) -> dict[str, Any]:
        """A library asked for through the API: only where TROVE_ALLOWED_ROOTS allows; one
        that is a library moved elsewhere is offered for relocation (RelocationOffered)."""
        from trove.services.root_policy import check_requested_root

        return self.add_root(
            check_requested_root(path, self.settings), indexer=indexer, as_new=as_new
        )

    def root(self, root_id: str) -> dict[str, Any]:
        return self._root(root_id)

    def request_rescan(self, root_id: str, *, indexer: Any) -> dict[str, Any]:
        root = self._root(root_id)
        indexer.request_scan(root["path"])
        return root

    def _root(self, root_id: str) -> dict[str, Any]:
        from trove.repositories.roots import RootRepository
        from trove.services.errors import NotFound

        with self.database.session() as session:
            root = RootRepository(session).get(root_id)
            if root is None:
                raise NotFound(f"no library root with id {root_id!r}")
            return _root_dict(root)

    def _check_scannable(self, path: str) -> None:
        """A path that is neither a folder nor a known root is a typo, not an offline root."""
        import os

        root_path = canonical_root(path)
        if os.path.isdir(root_path):
            return
        try:
            with fast_index.connect(self.settings.resolved_database_url) as conn:
                if fast_index.find_root(conn, root_path) is not None:
                    return
        except fast_index.IndexUnavailable:
            pass
        raise RootUnavailable(f"{path}: no such folder")

    def _has_pending_work(self) -> bool:
        with fast_index.connect(self.settings.resolved_database_url) as conn:
            return fast_index.has_pending(conn)


# How often the pipeline beside a scan looks for a file to do, until it finds one, besides
# at each of the scan's progress reports.
LOOK_EVERY_S = 1.0


class _PipelineBeside:
    """The in-process pipeline in a thread of its own, started once a scan has registered
    something (an unchanged rescan never starts it, nor imports it), working on what is
    written until the scans are done and nothing is left. It waits for a file to do before
    it starts its broker: when every new file finished in the light steps, it never does.
    Its worker processes, once started, also do the light steps of the scans' new files
    (pipeline/light.py)."""

    def __init__(
        self,
        library: LibraryService,
        progress: Callable[[Any], None] | None,
        *,
        stop: threading.Event,
        pipeline: bool = True,
    ) -> None:
        self.library = library
        self.progress = progress
        # False: only the light lane's worker processes, no pipeline (the server's scans).
        self.pipeline = pipeline
        self.started = False
        self._scanning = threading.Event()
        self._scanning.set()
        # Set when the pipeline may find more: at each progress report of a scan, at its end.
        self._woken = threading.Event()
        self._stop = stop
        # Set when the scan failed. Not `stop`: that is the caller's (the server's indexer
        # runs its later jobs under it), and a failed scan must not stop them all.
        self._abandoned = threading.Event()
        self._thread: threading.Thread | None = None
        self._result: PipelineSummary | None = None
        self._error: BaseException | None = None
        self._workers: LocalWorkers | None = None

    def local_workers(self) -> LocalWorkers:
        """The run's worker processes (none started until one is asked for work)."""
        if self._workers is None:
            from trove.pipeline.pool import LocalWorkers

            self._workers = LocalWorkers(self.library.settings, self.library.database)
        return self._workers

    def watching(
        self, on_progress: Callable[[ScanSummary], None] | None
    ) -> Callable[[ScanSummary], None]:
        def progress(summary: ScanSummary) -> None:
            if (
                self.pipeline
                and not self.started
                and (summary.new or summary.changed or summary.returned)
            ):
                self._start()
            self._woken.set()
            if on_progress is not None:
                on_progress(summary)

        return progress

    def _start(self) -> None:
        pipeline = self.library.pipeline()  # built here: its imports are not the thread's
        workers = self.local_workers()
        self.started = True

        def work() -> None:
            try:
                if not self._work_pending():
                    return
                self._result = pipeline.run_pending(
                    progress=self.progress,
                    more_coming=self._scanning.is_set,
                    woken=self._woken,
                    stopped=self._stopped,
                    workers=workers,
                )
            except BaseException as exc:  # handed to the caller by finish()
                self._error = exc

        self._thread = threading.Thread(target=work, name="trove-pipeline", daemon=True)
        self._thread.start()

    def _work_pending(self) -> bool:
        """Whether the index holds a file for the pipeline, asked at each progress report and
        at least once a second until it does or the scans end. A scan whose new files all
        finish in the light steps leaves none, and the pipeline's broker is then never
        started nor imported (TaskIQ: 0.6 s of a core)."""
        while not self._stopped():
            # Read before the index: the scans' last writes happen before `_scanning` is
            # cleared, so a look after it is cleared sees them all.
            scanning = self._scanning.is_set()
            if self.library._has_pending_work():
                return True
            if not scanning:
                return False
            self._woken.wait(LOOK_EVERY_S)
            self._woken.clear()
        return False

    def finish(self) -> PipelineSummary | None:
        """What the pipeline did once nothing the scans left is pending (run here and now when
        no scan's progress started it: a scan of a few files, or one whose new files all went
        through the light steps)."""
        try:
            if not self.started:
                if not self.pipeline or self._stopped() or not self.library._has_pending_work():
                    return None
                return self.library.pipeline().run_pending(
                    progress=self.progress, stopped=self._stopped, workers=self._workers
                )
            self._scanning.clear()
            self._woken.set()
            assert self._thread is not None
            self._thread.join()
            if self._error is not None:
                raise self._error
            return self._result
        finally:
            self._close_workers()

    def abandon(self) -> None:
        """The scan failed: the batches in hand end, nothing more is started."""
        self._abandoned.set()
        self._scanning.clear()
        self._woken.set()
        if self._thread is not None:
            self._thread.join()
        self._close_workers()

    def _stopped(self) -> bool:
        return self._stop.is_set() or self._abandoned.is_set()

    def _close_workers(self) -> None:
        if self._workers is not None:
            self._workers.close()


def _with_processed(
    pipeline: PipelineSummary | None, scans: Sequence[ScanSummary]
) -> PipelineSummary | None:
    """The pipeline's summary with the new files the scans processed as they registered them
    (pipeline/light.py): to the user, all of it is the files' pass."""
    steps: dict[str, Counter[str]] = defaultdict(Counter)
    for scan in scans:
        for (step, status), n in scan.processed_steps.items():
            steps[step][status] += n
    if not steps:
        return pipeline
    if pipeline is None:  # every file was done as it was registered: in the scans' time
        from trove.pipeline.service import PipelineSummary

        pipeline = PipelineSummary(elapsed_s=sum(s.elapsed_s for s in scans))
    pipeline.add({"ready": sum(s.processed for s in scans), "steps": steps})
    return pipeline


def _stopping_at(
    stop: threading.Event, progress: Callable[[ScanSummary], None] | None
) -> Callable[[ScanSummary], None]:
    """The scan's progress callback, which the walk calls between files: where a stop is
    taken (the batch being gathered is dropped, the ones written are kept)."""

    def checked(summary: ScanSummary) -> None:
        _interrupt_if(stop)
        if progress is not None:
            progress(summary)

    return checked


def _interrupt_if(stop: threading.Event) -> None:
    if stop.is_set():
        raise ScanStopped


def _root_dict(root: Any, *, failures: Sequence[FailureReason] = ()) -> dict[str, Any]:
    """A root as the API shows it; `failures`: why its files failed (others' are ignored)."""
    from trove.domain.serialize import iso_utc  # here: it pulls pydantic; a scan does without

    return {
        "failures": [
            {"step": f.step, "message": f.message, "count": f.count, "example": f.example}
            for f in failures
            if f.root_id == root.id
        ],
        "id": root.id,
        "path": root.path,
        "name": root.name,
        "status": root.status,
        "status_message": root.status_message,
        "watch_status": root.watch_status,
        "is_upload_target": root.is_upload_target,
        "include_globs": list(root.include_globs),
        "exclude_globs": list(root.exclude_globs),
        "last_scan_at": iso_utc(root.last_scan_at),
        "last_scan": root.last_scan,
    }


def _nest(counts: dict[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    nested: dict[str, dict[str, int]] = {}
    for (step, status), n in counts.items():
        nested.setdefault(step, {})[status] = n
    return nested


def _redacted(url: str) -> str:
    """Never print a database password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url
