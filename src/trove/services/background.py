"""Background indexing for a running server: scans and pipeline runs, one at a time.

One worker thread drains a queue, so requests never wait on a scan and SQLite sees one writer.
Repeated requests for the same job while it is queued are merged.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trove.domain.enums import RootStatus
from trove.errors import is_broker_unreachable, is_disk_full
from trove.services.errors import ScanStopped
from trove.services.library import LibraryService
from trove.services.scan_summary import ScanSummary

if TYPE_CHECKING:
    from trove.pipeline.service import PipelineSummary

log = logging.getLogger(__name__)

_PROCESS = ("process", "")
MAX_ERROR_SHOWN = 300
# How long an in-process processing job runs before it makes way for a job queued behind it
# (a library just added, a rescan, the watcher's syncs): long enough that a stream of syncs
# does not restart its workers over and over, short against hours of previews.
PROCESSING_YIELDS_AFTER_S = 10.0


@dataclass
class IndexerState:
    running: str | None = None
    queued: list[str] = field(default_factory=list)
    last_scans: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_pipeline: dict[str, Any] | None = None
    last_error: str | None = None
    # Set while the data directory's (or the database's) disk is full; cleared once every job
    # it stopped has succeeded.
    disk_full: str | None = None


class BackgroundIndexer:
    def __init__(self, library: LibraryService) -> None:
        self.library = library
        # Called after each pipeline run, on this thread (album collages of new previews).
        self.after_processing: list[Callable[[], Any]] = []
        self.state = IndexerState()
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._pending: set[tuple[str, str]] = set()
        # Jobs a full disk stopped: the warning stays until each of them has gone through.
        self._waiting_for_space: set[tuple[str, str]] = set()
        self._retries: list[threading.Timer] = []
        # What a processing job that made way for other jobs had done before it did.
        self._job_so_far: PipelineSummary | None = None
        self._calls: dict[str, Callable[[], Any]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        # Set by stop(): the scan or pipeline run in hand ends at its next safe point (each
        # batch in hand stopped after its asset) instead of running on past the shutdown.
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trove-indexer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, *, timeout: float = 10.0) -> None:
        self._stopping.set()
        for retry in self._retries:
            retry.cancel()
        self._queue.put(None)
        self._thread.join(timeout)

    def request_scan(self, path: str) -> None:
        self._enqueue(("scan", path))

    def request_processing(self) -> None:
        self._enqueue(_PROCESS)

    def submit(self, label: str, work: Callable[[], Any]) -> None:
        """Run `work` on this thread, in turn with scans and pipeline runs (the FileWatcher's
        syncs: SQLite sees one writer). A queued job with the same label gets the newer work."""
        with self._lock:
            self._calls[label] = work
        self._enqueue(("call", label))

    def wait_idle(self, timeout: float) -> bool:
        """For tests and shutdown: block until nothing is queued or running."""
        return self._idle.wait(timeout)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "running": self.state.running,
                "queued": list(self.state.queued),
                "last_scans": dict(self.state.last_scans),
                "last_pipeline": self.state.last_pipeline,
                "last_error": self.state.last_error,
                "disk_full": self.state.disk_full,
            }

    def _enqueue(self, job: tuple[str, str]) -> None:
        with self._lock:
            if job in self._pending:
                return
            self._pending.add(job)
            self.state.queued.append(_label(job))
            self._idle.clear()
        self._queue.put(job)

    def _run(self) -> None:
        while (job := self._queue.get()) is not None and not self._stopping.is_set():
            with self._lock:
                self._pending.discard(job)
                self.state.queued.remove(_label(job))
                self.state.running = _label(job)
            try:
                self._execute(job)
            except ScanStopped:
                return  # stop() asked for it
            except Exception as exc:  # keep serving; say what failed
                self._failed(job, exc)
            else:
                with self._lock:
                    self._waiting_for_space.discard(job)
                    if not self._waiting_for_space:
                        self.state.disk_full = None
            finally:
                with self._lock:
                    self.state.running = None
                    if not self._pending:
                        self._idle.set()

    def _failed(self, job: tuple[str, str], exc: Exception) -> None:
        if not is_disk_full(exc):
            if is_broker_unreachable(exc):  # the workers' supervisors send it once Redis is back
                log.warning("background job %s failed: Redis is away (%s)", _label(job), exc)
            else:
                log.exception("background job %s failed", _label(job))
            with self._lock:
                self.state.last_error = f"{_label(job)}: {_first_line(exc)}"
                self._waiting_for_space.discard(job)  # it no longer waits for space
                if not self._waiting_for_space:
                    self.state.disk_full = None
            return
        # Nothing can be written until space is freed: say so, and try the job again later
        # (it succeeds once there is room, and clears the warning).
        wait = self.library.settings.disk_full_retry_interval
        log.error("background job %s stopped, disk full; retrying in %g s", _label(job), wait)
        with self._lock:
            self._waiting_for_space.add(job)
            self.state.disk_full = (
                f"the disk holding Trove's index is full ({str(exc).splitlines()[0][:200]}):"
                f" scans and processing are paused and retried every {wait:g} s until space"
                " is freed"
            )
        retry = threading.Timer(wait, self._enqueue, args=(job,))
        retry.daemon = True
        self._retries = [r for r in self._retries if r.is_alive()] + [retry]
        retry.start()

    def _forget_call(self, label: str, work: Callable[[], Any]) -> None:
        """A call is dropped once it is done, unless newer work came for its label meanwhile
        (that is queued again, and runs next)."""
        with self._lock:
            if self._calls.get(label) is work:
                del self._calls[label]

    def warnings(self) -> list[str]:
        with self._lock:
            return [self.state.disk_full] if self.state.disk_full else []

    def _execute(self, job: tuple[str, str]) -> None:
        kind, path = job
        if kind == "call":
            with self._lock:
                work = self._calls[path]
            try:
                work()
            except Exception as exc:
                if not is_disk_full(exc):
                    self._forget_call(path, work)
                raise  # a full disk: kept, for the retry
            self._forget_call(path, work)
        elif kind == "scan":
            # Every scan queued here is of a library (the watcher's, the periodic rescans, a
            # root just added); by the time it runs that library may have moved elsewhere.
            # In-process, new small files get their light steps while they are registered
            # (pipeline/light.py) instead of in a second pass over the index; the processing
            # job queued next does the rest, after the scans queued before it. With Redis it
            # sends all of it to the workers.
            run = self.library.scan_and_process(
                [path], wait=False, light_pass=True, libraries_only=True, stop=self._stopping
            )
            with self._lock:
                for summary in run.scans:
                    self.state.last_scans[summary.path] = summary.as_dict()
            for summary in run.scans:
                log.info("%s", _scan_line(summary))
            if run.pipeline is not None:
                self._record_processing(run.pipeline)
            self.request_processing()
        else:
            # In-process this thread is the worker; with Redis it only sends the work to
            # `trove worker`s and does not hold up the scans queued behind it.
            way = _MakeWay(stopping=self._stopping, others_waiting=self._others_waiting)
            so_far, self._job_so_far = self._job_so_far, None  # a failed run drops it
            result = self.library.pipeline().run_pending(wait=False, stopped=way)
            if so_far is not None:  # the job made way before: told as one run
                result = so_far.followed_by(result)
            if way.made:
                self._job_so_far = result
            self._record_processing(result)
            if way.made and not self._stopping.is_set():
                self.request_processing()  # the rest, after the jobs it made way for
                return
            self.library.reconcile_duplicates()
            for follow_up in self.after_processing:
                follow_up()

    def _others_waiting(self) -> bool:
        with self._lock:
            return any(job != _PROCESS for job in self._pending)

    def _record_processing(self, result: PipelineSummary) -> None:
        """The status's `last_pipeline` and the log's line, for a run that processed something:
        the processing job after a scan that processed its own files finds nothing, and must
        not hide what the scan did."""
        if not result.assets:
            return
        with self._lock:
            self.state.last_pipeline = result.as_dict()
        log.info(
            "processed %d assets in %.2f s: %d ready, %d with errors",
            result.assets,
            result.elapsed_s,
            result.ready,
            result.errors,
        )


class _MakeWay:
    """A processing run's `stopped()`: true at shutdown, or once the run has gone on for
    PROCESSING_YIELDS_AFTER_S while another job waits (its batches in hand then end after
    their asset in hand, and the rest stays pending). Without it, a library added during
    hours of previews waited for all of them."""

    def __init__(self, *, stopping: threading.Event, others_waiting: Callable[[], bool]) -> None:
        self.stopping = stopping
        self.others_waiting = others_waiting
        self.started = time.monotonic()
        self.made = False  # it stopped the run for another job

    def __call__(self) -> bool:
        if self.stopping.is_set():
            return True
        ran = time.monotonic() - self.started
        if ran >= PROCESSING_YIELDS_AFTER_S and self.others_waiting():
            self.made = True
        return self.made


def _scan_line(s: ScanSummary) -> str:
    if s.status != RootStatus.ONLINE:
        return f"scanned {s.path}: OFFLINE ({s.status_message}); nothing was changed"
    return (
        f"scanned {s.path}: {s.seen} files ({s.new} new, {s.changed} changed, {s.gone} gone,"
        f" {s.moved} moved, {s.errors} errors) in {s.elapsed_s:.2f} s"
    )


def _first_line(exc: Exception) -> str:
    """What the Libraries page shows of an error: an SQL error's statement and parameters
    (hundreds of lines) stay in the log, written with the traceback."""
    return (str(exc).splitlines() or [type(exc).__name__])[0][:MAX_ERROR_SHOWN]


def _label(job: tuple[str, str]) -> str:
    kind, path = job
    return f"{kind} {path}".strip()
