"""The fork server the pipeline's worker processes are forked from, and starting it ahead.

Kept apart from pool.py, whose imports (the runner, its processors, the task broker) take a
quarter of a second: a scan that will need the workers (a hundred small files registered,
pipeline/light.py) starts their server (`warm`), so that its imports run on the other core
beside the walk. Not at every first scan's start: a scan of a few dozen photos never uses the
workers, and the server's start cost it half a second of a core (2-3 % of 60 photos' run).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import signal
import threading
from collections.abc import Iterator

log = logging.getLogger(__name__)

# What a worker process needs before its first batch, imported once in the fork server.
PRELOADED = [
    "trove.pipeline.pool_process",
    "trove.pipeline.worker",
    "trove.pipeline.builtin",
    "trove.pipeline.light",
    "trove.plugins.manager",
    "magic",
]


def worker_context() -> multiprocessing.context.BaseContext:
    """Workers are forked from a fork server, a process started fresh at the first worker
    (never forked from this one: the parent's threads, a scan, the event loop, database
    connections, must not be copied into the workers mid-operation). It imports what the
    workers run once (a module that cannot be imported there is imported by each worker,
    which then fails as it would have); each worker started a fresh interpreter and imported
    it all before, ~0.35 s of a core, at a scan's start where the cores are short. The server
    keeps the environment it started with: each worker is given this process's own at its
    start (pool_process.start), as a spawned one had."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOADED)
    return context


def warm() -> None:
    """Start the fork server in the background: workers may be needed soon, and their start
    then does not wait for its imports."""
    threading.Thread(target=start_ahead, name="trove-warm", daemon=True).start()


def start_ahead() -> None:
    """The fork server started, as a worker's start (pool.py `_Worker`) would start it; a
    failure is the workers' to report when they start. The resource tracker first, outside
    `ctrl_c_held`: starting it
    unblocks SIGINT in the calling thread, and a fork server started after that in the same
    block took a Ctrl-C while it imported, printing Python's fatal error on the terminal."""
    worker_context()  # what it preloads
    try:
        multiprocessing.resource_tracker.ensure_running()
        with ctrl_c_held(), safe_path():
            multiprocessing.forkserver.ensure_running()
    except (EOFError, OSError) as exc:
        log.debug("the pipeline's fork server could not start ahead: %r", exc)


@contextlib.contextmanager
def safe_path() -> Iterator[None]:
    """PYTHONSAFEPATH=1 for the fork server, should this start it. It runs `python -c`, which
    puts the current directory first on sys.path, and it imports its preloaded modules
    before anything sets sys.path as this process has it: a `magic.py` or `json.py` where
    someone ran `trove scan .` would be run instead of the library. (A spawned worker was
    given this process's sys.path before it imported them.)"""
    with _ENVIRONMENT_CHANGE:  # threads starting workers, and one warming the server
        before = os.environ.get("PYTHONSAFEPATH")
        os.environ["PYTHONSAFEPATH"] = "1"
        try:
            yield
        finally:
            if before is None:
                del os.environ["PYTHONSAFEPATH"]
            else:
                os.environ["PYTHONSAFEPATH"] = before


_ENVIRONMENT_CHANGE = threading.Lock()


@contextlib.contextmanager
def ctrl_c_held() -> Iterator[None]:
    """SIGINT blocked in this thread while it starts a worker: the fork server, started with
    the first worker, inherits the mask through fork and exec, and each worker through its
    fork. A Ctrl-C at the terminal reaches the whole process group, and a worker still
    starting would die of it (its traceback on the terminal, and the pipeline back in threads
    as if the workers could not start). The worker ignores SIGINT before it unblocks it, so it
    never sees one; this process gets it in another thread (Python's handler runs in the main
    thread anyway)."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
