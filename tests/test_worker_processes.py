"""How Trove's processes start: a scan and the pipeline's worker processes collect cyclic
garbage every YOUNG_THRESHOLD allocations, not CPython's 700 (trove/collector.py: the
collector was a fifth of a scan's CPU); worker processes are forked from a fork server that
imported their modules once (fork_server.py `worker_context`), each in the environment this process
had when it started them, as a spawned one was, and at a lower priority than this process."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from trove.cli_support import run_scan
from trove.collector import YOUNG_THRESHOLD
from trove.config import Settings
from trove.pipeline.pool import _Worker
from trove.pipeline.pool_process import NICENESS


def _thresholds(_: None) -> tuple[int, int, int]:
    return gc.get_threshold()


def _niceness(_: None) -> int:
    return os.nice(0)


def _probe(name: str) -> tuple[str | None, int]:
    """An environment variable as the worker sees it, and the worker's parent."""
    return os.environ.get(name), os.getppid()


@pytest.fixture
def default_collector() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[_Worker]]:
    workers: list[_Worker] = []
    yield workers
    for worker in workers:
        worker.close()


def _worker(started: list[_Worker], tmp_path: Path) -> _Worker:
    started.append(_Worker(Settings(data_dir=tmp_path / "data", auth=False)))
    return started[-1]


def test_a_scan_collects_less_often(
    default_collector: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "note.txt").write_text("a note")
    run_scan(paths=[library], no_wait=False, as_json=True, data_dir=tmp_path / "data")
    assert json.loads(capsys.readouterr().out)["scans"][0]["new"] == 1
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)


def test_a_pipeline_worker_process_collects_less_often(
    started: list[_Worker], tmp_path: Path
) -> None:
    assert _worker(started, tmp_path).call(_thresholds, None) == (YOUNG_THRESHOLD, 10, 10)


def test_each_worker_process_has_the_environment_of_its_start_not_the_fork_servers(
    started: list[_Worker], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TROVE_TEST_PROBE", "first")
    first = _worker(started, tmp_path)
    monkeypatch.setenv("TROVE_TEST_PROBE", "second")
    second = _worker(started, tmp_path)

    assert first.call(_probe, "TROVE_TEST_PROBE")[0] == "first"
    value, parent = second.call(_probe, "TROVE_TEST_PROBE")
    assert value == "second"
    # Forked from the fork server (started with the first worker), not from this process.
    assert parent != os.getpid()
    assert first.call(_probe, "TROVE_TEST_PROBE")[1] == parent


def test_a_worker_process_yields_the_cores_to_the_process_it_works_for(
    started: list[_Worker], tmp_path: Path
) -> None:
    worker = _worker(started, tmp_path)
    assert worker.call(_niceness, None) == os.nice(0) + NICENESS


def _run_python(code: str, *, cwd: Path, pythonpath: Path | None = None) -> str:
    """`code` in a Python process of its own (so with its own fork server), run from a file
    outside `cwd`: only the fork server it starts could import from `cwd`. (Not `python -P`,
    which the fork server would inherit as a flag.)"""
    script = cwd.parent / f"run-{cwd.name}.py"
    body = "".join(f"    {line}\n" for line in code.strip().splitlines())
    script.write_text(f"if __name__ == '__main__':\n{body}")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSAFEPATH", "PYTHONPATH")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_fork_server_does_not_import_modules_from_the_current_folder(tmp_path: Path) -> None:
    """Someone runs `trove scan .` in a folder of Python code that holds a `magic.py`."""
    project = tmp_path / "project"
    project.mkdir()
    marker = tmp_path / "ran"
    (project / "magic.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    code = f"""
from pathlib import Path
from trove.config import Settings
from trove.pipeline.pool import _Worker
worker = _Worker(Settings(data_dir=Path({str(tmp_path / "data")!r}), auth=False))
print(worker.call(len, "four"))
worker.close()
"""
    assert _run_python(code, cwd=project) == "4"
    assert not marker.exists()


def test_workers_whose_fork_server_cannot_start_leave_the_work_to_threads(
    tmp_path: Path,
) -> None:
    """Only an ImportError is passed over by the fork server; anything else a preloaded
    module raises ends it, and the run goes on in threads as when a worker cannot start."""
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "unloadable.py").write_text("raise OSError('cannot load libfoo.so')\n")
    code = f"""
from pathlib import Path
from trove.config import Settings
from trove.db.database import Database
from trove.pipeline import fork_server, pool
fork_server.PRELOADED.append("unloadable")
settings = Settings(data_dir=Path({str(tmp_path / "data")!r}), auth=False)
workers = pool.LocalWorkers(settings, Database("sqlite://"))
print(workers.start(), workers.may_open_for_light())
"""
    assert _run_python(code, cwd=tmp_path, pythonpath=modules).splitlines()[-1] == "None False"


def test_a_fork_server_started_ahead_cannot_be_killed_by_ctrl_c_while_it_starts(
    tmp_path: Path,
) -> None:
    """A Ctrl-C at the terminal reaches the whole process group. The fork server started
    ahead of the workers (fork_server.py `start_ahead`) must have SIGINT blocked from its
    birth, as the workers' own start gives it: caught while it imported, it printed Python's
    fatal error on the terminal. Starting the resource tracker unblocks SIGINT in the thread
    that starts it, so the tracker must be running before SIGINT is blocked."""
    code = """
import multiprocessing.forkserver as forkserver
from trove.pipeline import fork_server
fork_server.start_ahead()
with open(f"/proc/{forkserver._forkserver._forkserver_pid}/status") as status:
    blocked = next(int(l.split()[1], 16) for l in status if l.startswith("SigBlk:"))
print(bool(blocked & (1 << 1)))  # bit 1: SIGINT (2)
"""
    assert _run_python(code, cwd=tmp_path).splitlines()[-1] == "True"
