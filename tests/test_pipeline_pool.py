"""The in-process pipeline's worker processes (pipeline/pool.py): `trove scan` hands its
batches to processes of its own, every asset is processed once and by them, and a worker that
dies on a file costs that file (in `error` once MAX_ATTEMPTS is spent), not the scan."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, trove_env
from tests.test_workers import trove_command
from trove.config import Settings
from trove.db.database import Database
from trove.db.models import Asset

# Its subject is worker processes (start, death, stop): their SQL is the in-process runner's,
# run on both databases by tests/test_pipeline.py.
pytestmark = [pytest.mark.slow, pytest.mark.databases("sqlite")]


def _library(root: Path, *, names: list[str]) -> dict[str, str]:
    root.mkdir(parents=True)
    for n, name in enumerate(names):
        (root / name).write_text(f"note {n}: " + "words of a small file " * (n + 1))
    return _checksums(root)


def _checksums(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir())}


def _scan(settings: Settings, root: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*trove_command(), "scan", str(root), "--json"],
        env=trove_env(
            settings,
            TROVE_PIPELINE_PROCESSES="on",
            PYTHONPATH=os.pathsep.join((str(REPO / "src"), str(REPO))),
            **env,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _statuses(settings: Settings) -> dict[str, tuple[str, str | None]]:
    database = Database(settings.resolved_database_url)
    try:
        with database.session() as session:
            return {
                a.filename: (a.status, a.error_message)
                for a in session.query(Asset).filter(Asset.rel_path.is_not(None))
            }
    finally:
        database.dispose()


def test_a_scan_processes_every_asset_once_in_worker_processes(
    settings: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "library"
    before = _library(root, names=[f"note-{n:02d}.txt" for n in range(24)])
    executions = tmp_path / "executions.log"
    scan = _scan(
        settings,
        root,
        TROVE_PLUGINS="tests.pipeline_counting_plugin",
        TROVE_TEST_COUNT_LOG=str(executions),
        TROVE_TEST_COUNT_DELAY="0",
        TROVE_PIPELINE_BATCH_SIZE="4",
    )
    _, err = scan.communicate(timeout=120)

    assert scan.returncode == 0, err
    assert set(_statuses(settings).values()) == {("ready", None)}
    lines = [line.split() for line in executions.read_text().splitlines()]
    assert len(lines) == 24 and len({asset_id for asset_id, _ in lines}) == 24
    workers = {int(pid) for _, pid in lines}
    assert scan.pid not in workers  # the scan's own threads processed nothing
    assert _checksums(root) == before


def test_a_worker_process_dying_on_a_file_costs_that_file_not_the_scan(
    settings: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "library"
    before = _library(root, names=[*(f"note-{n}.txt" for n in range(6)), "crash.txt"])
    scan = _scan(
        settings,
        root,
        TROVE_PLUGINS="tests.pipeline_crash_plugin",
        TROVE_PIPELINE_LEASE_SECONDS="1.5",
        TROVE_PIPELINE_BATCH_SIZE="2",
    )
    _, err = scan.communicate(timeout=180)

    assert scan.returncode == 0, err
    assert "Traceback" not in err
    statuses = _statuses(settings)
    status, message = statuses.pop("crash.txt")
    assert status == "error" and "stopped its worker" in (message or "")
    assert set(statuses.values()) == {("ready", None)}
    assert _checksums(root) == before


def test_worker_processes_that_cannot_start_leave_the_work_to_threads(
    settings: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "library"
    before = _library(root, names=[f"note-{n}.txt" for n in range(6)])
    scan = _scan(settings, root, TROVE_PLUGINS="tests.pipeline_refusing_plugin")
    _, err = scan.communicate(timeout=120)

    assert scan.returncode == 0, err
    assert "Traceback" not in err
    assert set(_statuses(settings).values()) == {("ready", None)}
    assert _checksums(root) == before


def test_a_worker_process_that_cannot_build_its_runner_counts_as_one_that_cannot_start(
    settings: Settings, tmp_path: Path
) -> None:
    """The runner (the database layer) is built at the first batch, not at start-up: a
    process that cannot build it has taken no batch, and the run goes on in threads."""
    import dataclasses

    from trove.logs import LOG_FILE
    from trove.pipeline.pool import CannotStart, ProcessRunner

    unreachable = dataclasses.replace(settings, database_url="nosuchdialect://nowhere/trove")
    database = Database(settings.resolved_database_url)
    workers = ProcessRunner(unreachable, database, processes=1)
    try:
        with pytest.raises(CannotStart):
            workers.run_batch(["01a23bff-0000-7000-8000-000000000000"])
    finally:
        workers.close()
        database.dispose()
    said = (settings.data_dir / LOG_FILE).read_text(encoding="utf-8")
    assert "cannot build its runner" in said and "cannot start" not in said


def test_worker_processes_that_cannot_start_are_ended_not_kept(
    settings: Settings, tmp_path: Path
) -> None:
    """The run goes on in threads; the processes that could not take a batch used to be
    left out of its closing, alive until their pool happened to be garbage-collected."""
    import dataclasses

    import psutil

    from trove.pipeline.pool import CannotStart, LocalWorkers

    unreachable = dataclasses.replace(
        settings, database_url="nosuchdialect://nowhere/trove", pipeline_threads=2
    )
    database = Database(settings.resolved_database_url)
    workers = LocalWorkers(unreachable, database)
    try:
        pool = workers.start()
        assert pool is not None
        processes = [psutil.Process(w.pid.result(timeout=30)) for w in pool._workers]
        assert len(processes) == 2
        with pytest.raises(CannotStart):
            pool.run_batch(["01a23bff-0000-7000-8000-000000000000"])
        workers.stopped_starting(pool)
        assert workers.pool is None and workers.start() is None
        workers.close()
        _, alive = psutil.wait_procs(processes, timeout=20)
        assert not alive, "worker processes that cannot start outlived their run"
    finally:
        workers.close()
        database.dispose()


def test_a_worker_process_asked_to_stop_before_its_first_batch_still_stops(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker process that had done only a scan's light steps had no runner yet, and the
    stop it was sent was dropped: the batch it got next (one still in flight when Ctrl-C
    came) ran whole."""
    import dataclasses
    import time

    from trove.pipeline.pool import LocalWorkers
    from trove.repositories._sql import utcnow
    from trove.repositories.pipeline import PipelineRepository
    from trove.services.library import LibraryService

    root = tmp_path / "library"
    _library(root, names=[f"note-{n}.txt" for n in range(4)])
    executions = tmp_path / "executions.log"
    monkeypatch.setenv("TROVE_TEST_COUNT_LOG", str(executions))
    monkeypatch.setenv("TROVE_TEST_COUNT_DELAY", "0.5")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join((str(REPO / "src"), str(REPO))))
    settings = dataclasses.replace(
        settings, pipeline_threads=1, plugins="tests.pipeline_counting_plugin"
    )
    library = LibraryService(settings)
    library.scan_and_process([str(root)], wait=False)
    with library.database.session() as session:
        ids = PipelineRepository(session).ids_to_kick(now=utcnow(), limit=10, include_queued=True)
    workers = LocalWorkers(settings, library.database)
    try:
        pool = workers.start()
        assert pool is not None
        pool._workers[0].pid.result(timeout=30)
        pool.stop_soon()
        time.sleep(0.5)  # the signal has landed
        report = pool.run_batch(ids)
    finally:
        workers.close()
        library.close()
    assert report["handed_back"] == len(ids) and report["ready"] == 0
    assert not executions.exists()
