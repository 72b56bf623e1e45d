"""What runs inside the worker processes of an in-process run (pipeline/pool.py).

A module of its own, importing little: a process that only does a scan's light steps
(pipeline/light.py) never needs the database, and its start-up was two thirds database layer
(SQLAlchemy, the repositories: ~0.65 s of a core of ~1 s). The processors are built at
start-up, so that a plugin that fails to load fails there (the parent goes on in threads);
the runner, with its database, at the first pipeline batch.
"""

from __future__ import annotations

import logging
import os
import signal
from multiprocessing.util import Finalize
from typing import Any

from trove.config import Settings

log = logging.getLogger(__name__)


class RunnerUnavailable(Exception):
    """The runner could not be built at the first batch: the parent goes on in threads."""


# A worker yields the cores to the process it works for (a scan registering and writing what
# the workers finished, a server answering requests): a scan that fell behind writing the
# workers' outcomes was left writing a backlog alone once they were done (20,000 text files:
# ~1,000 rows, 0.15-0.2 s of one core).
NICENESS = 5
# How the parent asks a worker to stop its batch after the asset in hand (the run is stopping:
# a server shutting down, a scan interrupted).
STOP_SIGNAL = signal.SIGUSR1

_settings: Settings | None = None
_processors: list[Any] = []
_owner = ""
_runner: Any = None
_stopping = False


def start(settings: Settings, environ: dict[str, str]) -> None:
    """The process's composition root, in the parent's environment of now (`environ`: the
    fork server it was forked from has the parent's of when it started). Ctrl-C in a terminal
    reaches the whole process group: the parent decides (it lets the batches in flight
    finish, as its threads would), not each worker."""
    from trove.collector import collect_less_often
    from trove.logs import warnings_to_log_file

    collect_less_often()
    os.nice(NICENESS)
    os.environ.clear()
    os.environ.update(environ)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(STOP_SIGNAL, _stop_soon)
    signal.siginterrupt(STOP_SIGNAL, False)  # a C library's read in hand is not cut by it
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # fork_server.ctrl_c_held
    warnings_to_log_file(settings)
    global _settings, _processors, _owner
    try:
        from trove.domain.ids import new_lease_owner
        from trove.pipeline.worker import build_processors

        _settings, _processors, _owner = settings, build_processors(settings), new_lease_owner()
    except BaseException:
        # Said in the log file, not as a traceback on the terminal; the parent goes on in
        # threads (pool.CannotStart).
        log.exception("a pipeline worker process cannot start")
        os._exit(70)
    Finalize(None, _close, exitpriority=10)


def owner() -> str:
    """The name this process's leases carry (and, done, the sign that it has started)."""
    return _owner


def build_runner(_: None) -> None:
    """The runner, built now (the parent asks before the first batch)."""
    _the_runner()


def run_batch(asset_ids: list[str]) -> dict[str, Any]:
    return dict(_the_runner().run_batch(asset_ids))


def light_pass(items: list[Any]) -> list[Any]:
    from trove.pipeline.light import light_pass

    return light_pass(_processors, items)


def _the_runner() -> Any:
    """The runner, built at the first batch."""
    global _runner
    if _runner is None:
        from trove.pipeline.worker import build_runner

        assert _settings is not None, "start() runs first"
        try:
            _runner = build_runner(_settings, processors=_processors, owner=_owner)
        except BaseException as exc:
            log.exception("a pipeline worker process cannot build its runner")
            raise RunnerUnavailable(repr(exc)) from None
        if _stopping:  # asked before it had a runner (it had done light steps only)
            _runner.stop_soon()
    return _runner


def _stop_soon(_signum: int, _frame: Any) -> None:
    global _stopping
    _stopping = True
    if _runner is not None:
        _runner.stop_soon()


def _close() -> None:
    """When the pool ends the process: the runner closes the processors with its own."""
    if _runner is not None:
        _runner.close()
        return
    from trove.pipeline.processor import close_processors

    close_processors(_processors)
