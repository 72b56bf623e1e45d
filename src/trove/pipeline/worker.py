"""`trove worker`: a thin wrapper over `taskiq worker` for the Redis broker.

    trove worker --processes 2      ≈  taskiq worker trove.pipeline.worker:make_worker_broker
                                          --workers 2 --max-async-tasks 1 --max-prefetch 0

Each worker process builds its own runner (database engine, processors, ExifTool session)
when it starts and runs one batch at a time: CPU-heavy steps get a core each, and a process
never holds messages it is not working on. The parent process is also the supervisor: it
re-sends what an earlier run left pending when it starts, and every half lease re-sends
assets whose worker died (pipeline/service.py). Settings reach the worker processes through
the `TROVE_*` environment, which the parent sets from its own settings.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

from trove.config import Settings, load_settings

if TYPE_CHECKING:  # taskiq costs ~0.5 s to import; build_runner's callers (pool.py) do without
    from taskiq import AsyncBroker, TaskiqState

log = logging.getLogger(__name__)

BROKER_FACTORY = "trove.pipeline.worker:make_worker_broker"


def make_worker_broker() -> AsyncBroker:
    """The broker of a worker process (called by `taskiq worker` in each process): the
    process's composition root, so it reads its settings from the environment here."""
    from taskiq import TaskiqEvents

    from trove.logs import worker_logs_to_stderr
    from trove.pipeline.tasks import make_broker

    settings = load_settings()
    worker_logs_to_stderr(settings)
    broker = make_broker(settings)

    @broker.on_event(TaskiqEvents.WORKER_STARTUP)
    async def start_runner(state: TaskiqState) -> None:
        from trove.services.installs import InstallService

        stop_when_orphaned()
        state.runner = build_runner(settings)
        stop_batches_on_signals(state.runner)
        state.installer = InstallService(settings, state.runner.database)

    @broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
    async def stop_runner(state: TaskiqState) -> None:
        runner = getattr(state, "runner", None)
        if runner is not None:
            runner.close()

    return broker


def stop_batches_on_signals(runner: Any) -> None:
    """SIGTERM and SIGINT (what taskiq's manager sends its processes) also stop the batch in
    hand after its current asset (`PipelineRunner.stop_soon`), then taskiq's own handler
    stops the listening. Installed from the worker's start-up, on the main thread."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)

        def handler(number: int, frame: Any, previous: Any = previous) -> None:
            runner.stop_soon()
            if callable(previous):
                previous(number, frame)

        signal.signal(signum, handler)


def stop_when_orphaned(*, interval: float = 1.0) -> None:
    """Stop this worker process (after the asset in hand, as SIGTERM does) once the `trove
    worker` that started it is gone: killed with SIGKILL (the OOM killer, an operator), it
    cannot stop its processes, which would go on taking batches unsupervised, unseen, out of
    reach of any later SIGTERM."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        log.warning("trove worker (pid %d) is gone: this process stops after its batch", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="trove-parent-watch", daemon=True).start()


def build_processors(settings: Settings) -> list[Any]:
    """The pipeline's processors, plugins' included (a plugin that fails to load fails here)."""
    from trove.pipeline.registry import collect_processors, plugin_modules
    from trove.plugins.manager import make_plugin_manager

    return collect_processors(
        make_plugin_manager(extra_modules=plugin_modules(settings)), settings=settings
    )


def build_runner(
    settings: Settings, *, processors: list[Any] | None = None, owner: str | None = None
) -> Any:
    from trove.db.database import Database
    from trove.pipeline.runner import PipelineRunner

    if processors is None:
        processors = build_processors(settings)
    database = Database(settings.resolved_database_url)
    return PipelineRunner(settings, database, processors, owner=owner)


def run_worker(settings: Settings, *, processes: int, service: Any) -> int:
    """Run worker processes until interrupted; returns taskiq's exit status."""
    from taskiq.acks import AcknowledgeType
    from taskiq.cli.worker.args import WorkerArgs
    from taskiq.cli.worker.run import run_worker as taskiq_run_worker

    if not settings.broker_url:
        from trove.services.errors import Invalid

        raise Invalid(
            "trove worker needs a shared broker: set TROVE_BROKER_URL=redis://HOST:6379 "
            "(without one, `trove scan` and `trove serve` process everything themselves)"
        )
    export_settings(settings)
    supervisor = Supervisor(service, interval=settings.pipeline_lease_seconds / 2)
    supervisor.start()
    import multiprocessing

    # spawn, not fork: the supervisor thread (and its database connections) must not be
    # copied into the workers mid-operation.
    multiprocessing.set_start_method("spawn", force=True)
    args = WorkerArgs(
        broker=BROKER_FACTORY,
        modules=[],
        workers=max(1, processes),
        max_async_tasks=1,
        max_prefetch=0,
        ack_type=AcknowledgeType.WHEN_SAVED,
        shutdown_timeout=10,
        configure_logging=False,  # worker_logs_to_stderr, in this process and in each worker
    )
    try:
        return taskiq_run_worker(args) or 0
    finally:
        supervisor.stop()


def export_settings(settings: Settings) -> None:
    """Settings given on the command line reach the worker processes as TROVE_* variables."""
    import dataclasses

    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if value is not None:
            os.environ[f"TROVE_{f.name.upper()}"] = str(value)


class Supervisor:
    """Re-sends pending work at start (a restart finds what was left) and periodically
    re-sends the assets of workers whose leases lapsed."""

    def __init__(self, service: Any, *, interval: float) -> None:
        self.service = service
        self.interval = max(interval, 0.5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trove-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        include_queued = True
        while not self._stop.is_set():
            try:
                sent = self.service.kick_pending(include_queued=include_queued)
                if sent:
                    log.info("sent %d pending assets to the workers", sent)
                include_queued = False
                # The workers grow the step, lease and counter tables: keep their planner
                # statistics current (PostgreSQL; a no-op on SQLite).
                self.service.refresh_statistics()
            except Exception as exc:
                log.warning("could not re-send pending work: %s", exc, exc_info=not _is_outage(exc))
            self._stop.wait(self.interval)


def _is_outage(exc: Exception) -> bool:
    """Redis or the database away for a while: an operator's matter, told in one line each
    time, not a traceback."""
    from trove.errors import is_broker_unreachable, is_database_unreachable

    return is_broker_unreachable(exc) or is_database_unreachable(exc)
