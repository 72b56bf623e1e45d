"""An in-process pipeline's batches, run by worker processes of its own.

In one process the pipeline's threads share one interpreter lock: of a small file's ~0.8 ms
of work, libmagic (~0.45 ms) runs beside the other thread, but claims, records and search
documents do not, and two threads kept ~1.35 cores of 2 busy. Worker processes each get a
core. They are started only for many files (PROCESSES_FROM_FILES), where their start-up pays
off, so a scan of a few files, a few hundred photos, or a test still runs in threads; once
started, they serve the rest of the run.

A worker process (pipeline/pool_process.py) builds its runner the way a `trove worker` does
(pipeline/worker.py), at its first batch, and writes to the index itself: the writers of all
processes queue on the database's write gate (db/engine.py). Each worker is a pool of one
process, serving one of the broker's threads at a time, so a worker that dies (a decoder
crashing on a hostile file) takes only its own batch. Its leases are handed back at once and
the batch is done again one asset at a time, each asset claimed anew, so the culprit alone
dies again, until MAX_ATTEMPTS puts it in `error`. Workers that cannot start at all say why in
the log file, and the threads go on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.pipeline import fork_server, pool_process
from trove.pipeline.runner import MAX_ATTEMPTS, PipelineRunner
from trove.repositories.pipeline import PipelineRepository

log = logging.getLogger(__name__)

# Files waiting for their pass when an in-process pipeline starts worker processes
# (`pipeline_processes=auto`; a scan registers them faster than threads process them). What
# processes win is the per-file work under the interpreter lock (claims, records, search
# documents: ~0.4 ms a file); what they cost is their start-up (~1.5 s of one core each, with
# ExifTool and the places index). Pictures' decoding and encoding release the lock, so threads
# already keep two cores busy on them: 60 photos took 8.2 s in threads and 10 s in processes;
# 20,000 small text files 16.5 s and 14.2-14.4 s.
PROCESSES_FROM_FILES = 5_000


class LocalWorkers:
    """The worker processes of one in-process run, started at most once and shared: the
    pipeline's batches (InProcessRunner) and a scan's light steps (pipeline/light.py) take
    whichever worker is idle, so the two never start processes of their own on the same cores."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.processes = max(1, settings.pipeline_threads)
        self._pool: ProcessRunner | None = None
        self._lock = threading.Lock()
        # They could not start, or the run closed them: none are started again.
        self._ended = False
        self._unable: list[ProcessRunner] = []

    @property
    def pool(self) -> ProcessRunner | None:
        """The processes, once started (until they turned out unable to start, or closed)."""
        return self._pool

    def start(self) -> ProcessRunner | None:
        """The processes, started now if need be; None once they could not start or were
        closed."""
        with self._lock:
            if self._pool is None and not self._ended:
                try:
                    self._pool = ProcessRunner(
                        self.settings, self.database, processes=self.processes
                    )
                except CannotStart:
                    log.error(
                        "pipeline worker processes cannot start; the pipeline goes on in threads"
                    )
                    self._ended = True
            return self._pool

    def may_open_for_light(self) -> bool:
        """Whether a scan's light steps could go to the processes (none are started)."""
        return self.settings.pipeline_processes != "off" and not self._ended

    def warm(self) -> None:
        """Start the fork server the processes will be forked from, in the background: they
        may be needed soon (`start` does not wait for its imports then)."""
        if self.may_open_for_light() and self._pool is None:
            fork_server.warm()

    def light_pass(self, items: list[Any]) -> list[Any]:
        pool = self.start()
        if pool is None:
            raise CannotStart
        try:
            return pool.light_pass(items)
        except CannotStart:
            self.stopped_starting(pool)
            raise

    def stopped_starting(self, pool: ProcessRunner) -> None:
        """These processes cannot start: nothing is sent to them any more. They are closed
        with the run (`close`), not now: other threads may be about to hand them a batch,
        which then turns out to be one they cannot take either."""
        with self._lock:
            if self._pool is pool:
                log.error("pipeline worker processes cannot start; the pipeline goes on in threads")
                self._pool = None
                self._ended = True
                self._unable.append(pool)

    def close(self) -> None:
        with self._lock:
            pools = [p for p in (self._pool, *self._unable) if p is not None]
            self._pool, self._unable, self._ended = None, [], True
        for pool in pools:
            pool.close()


class InProcessRunner:
    """The in-process broker's runner: batches in this process's threads, `pipeline_threads`
    at a time, until enough files wait for worker processes to pay (or a scan's light steps
    started them); from then on, in those. A batch waiting for a thread then goes to them
    instead: the broker has threads for both (tasks.py), so the workers need not wait for the
    batches still in threads, and no new batch starts in a thread beside them on the cores
    they start on."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        runner: PipelineRunner,
        *,
        workers: LocalWorkers | None = None,
    ) -> None:
        """`workers`: processes shared with the caller (who closes them); else its own."""
        self.settings = settings
        self.database = database
        self.runner = runner
        self._own_workers = workers is None
        self.workers = workers if workers is not None else LocalWorkers(settings, database)
        self._in_threads = 0
        self._changed = threading.Condition()
        # Batches in threads run on these, not on whichever of the broker's threads took
        # them: each thread that decodes photos keeps a malloc arena of its own (the broker's
        # four instead of two: ~100 MB more at the peak of 60 photos).
        self._threads = ThreadPoolExecutor(
            max(1, settings.pipeline_threads), thread_name_prefix="trove-pipeline"
        )
        if settings.pipeline_processes == "on":
            self._start()

    def see(self, pending: Callable[[], int]) -> None:
        """More work was found: worker processes are started once `pending()` files wait."""
        if (
            self.workers.pool is None
            and self.settings.pipeline_processes == "auto"
            and pending() >= PROCESSES_FROM_FILES
        ):
            self._start()

    def run_batch(self, asset_ids: list[str]) -> dict[str, Any]:
        threads = max(1, self.settings.pipeline_threads)
        with self._changed:
            self._changed.wait_for(
                lambda: self.workers.pool is not None or self._in_threads < threads
            )
            pool = self.workers.pool
            if pool is None:
                self._in_threads += 1
        if pool is not None:
            try:
                return pool.run_batch(asset_ids)
            except CannotStart:
                self.workers.stopped_starting(pool)
                return self.run_batch(asset_ids)
        try:
            return self._threads.submit(self.runner.run_batch, asset_ids).result()
        finally:
            with self._changed:
                self._in_threads -= 1
                self._changed.notify_all()

    def stop_soon(self) -> None:
        """The run is stopping: its batches in hand stop after their asset in hand, in the
        threads and in the worker processes (PipelineRunner.stop_soon)."""
        self.runner.stop_soon()
        pool = self.workers.pool
        if pool is not None:
            pool.stop_soon()

    def close(self) -> None:
        if self._own_workers:
            self.workers.close()
        self._threads.shutdown(wait=True)
        self.runner.close()

    def _start(self) -> None:
        self.workers.start()
        with self._changed:
            self._changed.notify_all()


class ProcessRunner:
    """PipelineRunner's `run_batch`, done by one of `processes` worker processes (called from
    the in-process broker's threads, as many as there are workers)."""

    def __init__(self, settings: Settings, database: Database, *, processes: int) -> None:
        self.database = database
        self._workers: list[_Worker] = []
        try:
            for _ in range(max(1, processes)):
                self._workers.append(_Worker(settings))
        except CannotStart:
            self.close()
            raise
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        for worker in self._workers:
            self._idle.put(worker)

    def run_batch(self, asset_ids: list[str]) -> dict[str, Any]:
        worker = self._idle.get()
        try:
            try:
                return worker.run(asset_ids)
            except _Lost as lost:
                if lost.owner is None:  # it died starting: nothing of the batch ran
                    raise CannotStart from None
                self._hand_back(lost.owner)
            log.error("a pipeline worker process died; its batch is done again asset by asset")
            return _merged([self._alone(worker, asset_id) for asset_id in asset_ids])
        except pool_process.RunnerUnavailable:  # nothing of the batch ran either
            raise CannotStart from None
        finally:
            self._idle.put(worker)

    def light_pass(self, items: list[Any]) -> list[Any]:
        """pipeline/light.py's light steps for these new files; a worker that dies on them
        gives them all back (None), for the pipeline and its handling of such files."""
        worker = self._idle.get()
        try:
            return worker.call(pool_process.light_pass, items)
        except _Lost as lost:
            if lost.owner is None:
                raise CannotStart from None
            return [None] * len(items)
        finally:
            self._idle.put(worker)

    def stop_soon(self) -> None:
        for worker in self._workers:
            worker.stop_soon()

    def close(self) -> None:
        for worker in self._workers:
            worker.close()

    def _alone(self, worker: _Worker, asset_id: str) -> dict[str, Any]:
        """One asset in a batch of its own, its worker restarted each time it dies on it (the
        claim counts the attempts and gives up after MAX_ATTEMPTS)."""
        for _ in range(MAX_ATTEMPTS + 1):
            try:
                return worker.run([asset_id])
            except _Lost as lost:
                self._hand_back(lost.owner)
        return {"requested": 1, "claimed": 0}

    def _hand_back(self, owner: str | None) -> None:
        if owner is not None:
            with self.database.session() as session:
                PipelineRepository(session).requeue_owner(owner)


class CannotStart(Exception):
    """A worker process dies before it can take a batch (a plugin that fails to load there)."""


class _Lost(Exception):
    def __init__(self, owner: str | None) -> None:
        super().__init__(owner)
        self.owner = owner


class _Worker:
    """One worker process in a pool of its own, started again after it died."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._has_runner = False
        self._start()

    def run(self, asset_ids: list[str]) -> dict[str, Any]:
        if not self._has_runner:
            # Built on its own first: a process that dies building it (or cannot) had taken
            # no batch, and is one that cannot start, not one a file killed.
            try:
                self.call(pool_process.build_runner, None)
            except _Lost:
                raise _Lost(None) from None
            self._has_runner = True
        return self.call(pool_process.run_batch, list(asset_ids))

    def call(self, function: Callable[[Any], Any], argument: Any) -> Any:
        """`function(argument)` in the process (started again, and _Lost, when it died)."""
        try:
            return self.pool.submit(function, argument).result()
        except BrokenProcessPool:
            owner = None if self.owner.exception() else self.owner.result()
            self.pool.shutdown(wait=False, cancel_futures=True)
            self._start()
            raise _Lost(owner) from None

    def stop_soon(self) -> None:
        if self.pid.done() and not self.pid.exception():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid.result(), pool_process.STOP_SIGNAL)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _start(self) -> None:
        """Start the process; CannotStart when the fork server cannot (it died importing what
        it preloads: only an ImportError is passed over there)."""
        self.pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=fork_server.worker_context(),
            initializer=pool_process.start,
            initargs=(self.settings, dict(os.environ)),
        )
        try:
            with fork_server.ctrl_c_held(), fork_server.safe_path():
                self.owner: Future[str] = self.pool.submit(pool_process.owner)  # starts it
                self.pid: Future[int] = self.pool.submit(os.getpid)
        except (EOFError, OSError) as exc:
            self.pool.shutdown(wait=False, cancel_futures=True)
            log.error("the pipeline's fork server cannot start: %r", exc)
            raise CannotStart from exc
        self._has_runner = False


def _merged(reports: list[dict[str, Any]]) -> dict[str, Any]:
    total: Counter[str] = Counter()
    steps: dict[str, Counter[str]] = {}
    for report in reports:
        total.update({k: v for k, v in report.items() if isinstance(v, int)})
        for step, counts in report.get("steps", {}).items():
            steps.setdefault(step, Counter()).update(counts)
    return {**total, "steps": {step: dict(counts) for step, counts in steps.items()}}
