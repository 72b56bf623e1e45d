"""Ctrl-C during `trove scan`: the scan stops promptly, keeps what it committed, says so in one
line, and the next scan finishes the job; the originals are untouched. Ctrl-C to `trove serve`
while its pipeline works: the server stops as promptly, without a traceback. A stop after the
walk, while files that may have moved are hashed, is taken between them.

A terminal's Ctrl-C reaches the whole process group, so the test signals the group, worker
processes included. It once landed inside a statement of the scan's writer: the connection the
traceback kept alive held SQLite's write lock, and the pipeline's threads waited 90 s and more
for it; and workers still importing died of it, with their tracebacks on the terminal."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, trove_env
from tests.test_workers import trove_command
from tests.watching import free_port
from trove.config import Settings
from trove.db.database import Database
from trove.db.models import Asset
from trove.services.errors import ScanStopped
from trove.services.library import LibraryService
from trove.services.scan_summary import ScanSummary

pytestmark = pytest.mark.slow

# More than light.OPEN_AFTER_FILES: the last files of each scan go through the light pass.
FILES = 1_500
# How soon after Ctrl-C each must have exited. The batches in flight end first (0.7-4 s here,
# quiet); the scan's hang was 60-120 s, and the server's shutdown waited 10 s for its indexer.
SCAN_STOPS_S = 20
SERVER_STOPS_S = 9.5


def _library(root: Path) -> dict[str, str]:
    """FILES more small text files (in 20 folders); the checksums of all."""
    start = len(_checksums(root))
    for n in range(start, start + FILES):
        folder = root / f"folder-{n % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"note-{n:05d}.txt").write_text(f"note {n} " * 20)
    return _checksums(root)


def _checksums(root: Path, *, pattern: str = "*.txt") -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob(pattern))
    }


def _scan(settings: Settings, root: Path) -> subprocess.Popen[str]:
    return _trove(settings, "scan", str(root))


def _trove(settings: Settings, *args: str, **env: str) -> subprocess.Popen[str]:
    """`trove ARGS` with worker processes for its pipeline, in a process group of its own (as
    a terminal's job is); its stderr kept."""
    return subprocess.Popen(
        [*trove_command(), *args],
        env=trove_env(
            settings,
            TROVE_PIPELINE_PROCESSES="on",
            PYTHONPATH=os.pathsep.join((str(REPO / "src"), str(REPO))),
            **env,
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _statuses(database: Database) -> list[str]:
    """The files' statuses (not their folders')."""
    with database.session() as session:
        files = session.query(Asset.status).filter(
            Asset.rel_path.is_not(None), Asset.asset_type != "collection"
        )
        return [s for (s,) in files]


def _interrupt_once(
    trove: subprocess.Popen[str], underway: Callable[[], bool], *, within: float = SCAN_STOPS_S
) -> tuple[int, str]:
    """Ctrl-C to `trove`'s process group once `underway()`; its exit code and stderr."""
    deadline = time.monotonic() + 60
    while not underway() and trove.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(trove.pid, signal.SIGINT)
    try:
        _, err = trove.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        os.killpg(trove.pid, signal.SIGKILL)
        trove.communicate()
        pytest.fail(f"it did not stop within {within} s of Ctrl-C")
    return trove.returncode, err


# On SQLite: the hang was SQLite's write lock; the rest (signals, workers, the scan's
# bookkeeping) is the same code on PostgreSQL, which the pipeline and worker tests cover.
@pytest.mark.databases("sqlite")
def test_ctrl_c_stops_a_scan_promptly_and_the_next_scan_finishes(
    settings: Settings, tmp_path: Path
) -> None:
    root = tmp_path / "library"
    root.mkdir()
    database = Database(settings.resolved_database_url)
    try:
        # As the pipeline's worker processes start (registration writes meanwhile), then
        # while the pipeline works (more files are ready than when the scan started).
        for moment in (_workers_starting, _files_being_processed):
            before = _library(root)  # new files each time: the scan has work to stop
            ready_before = _safe(lambda: _statuses(database).count("ready"), otherwise=0)()
            scan = _scan(settings, root)
            code, err = _interrupt_once(scan, _safe(moment(scan, database, ready_before)))
            assert code == 130, err
            assert "Traceback" not in err, err
            assert err.strip().splitlines()[-1] == "trove: interrupted", err

        finished = _scan(settings, root)
        _, err = finished.communicate(timeout=180)
        assert finished.returncode == 0, err
        statuses = _statuses(database)
        assert len(statuses) == 2 * FILES and set(statuses) == {"ready"}
    finally:
        database.dispose()
    assert _checksums(root) == before


@pytest.mark.databases("sqlite")
def test_ctrl_c_stops_the_batches_in_hand_after_their_asset_in_hand(
    settings: Settings, tmp_path: Path
) -> None:
    """The batches in flight used to run to their end after Ctrl-C: with slow steps (a batch
    of transcodes) that was minutes. Each worker process now stops after the asset in hand
    and hands the rest of its batch back; the next scan does it, and nothing twice."""
    root = tmp_path / "library"
    for n in range(16):
        (root / f"folder-{n % 2}").mkdir(parents=True, exist_ok=True)
        (root / f"folder-{n % 2}" / f"note-{n:02d}.txt").write_text(f"note {n}")
    before = _checksums(root)
    executions = tmp_path / "executions.log"
    counting = {
        "TROVE_PLUGINS": "tests.pipeline_counting_plugin",
        "TROVE_TEST_COUNT_LOG": str(executions),
        "TROVE_TEST_COUNT_DELAY": "1.0",
        "TROVE_PIPELINE_BATCH_SIZE": "4",
    }

    def ran() -> int:
        return len(executions.read_text().splitlines()) if executions.exists() else 0

    scan = _trove(settings, "scan", str(root), **counting)
    code, err = _interrupt_once(scan, lambda: ran() > 0)
    assert code == 130, err
    assert "Traceback" not in err, err
    # Two workers, each in the first asset of a batch of 4: before, both batches ran out.
    assert ran() <= 3
    finished = _trove(settings, "scan", str(root), **counting)
    _, err = finished.communicate(timeout=180)
    assert finished.returncode == 0, err
    database = Database(settings.resolved_database_url)
    try:
        assert _statuses(database) == ["ready"] * 16
    finally:
        database.dispose()
    asset_ids = [line.split()[0] for line in executions.read_text().splitlines()]
    assert len(asset_ids) == len(set(asset_ids)) == 16
    assert _checksums(root) == before


@pytest.mark.databases("sqlite")
def test_ctrl_c_stops_a_server_whose_pipeline_is_working(
    settings: Settings, tmp_path: Path
) -> None:
    """The server's indexer used to run its pipeline on, past the shutdown: uvicorn's exit
    waited 10 s for it, then the interpreter's exit broke the batches still in flight
    ("cannot schedule new futures after shutdown", twice, on the terminal)."""
    root = tmp_path / "library"
    root.mkdir()
    before = _library(root)
    database = Database(settings.resolved_database_url)
    try:
        server = _trove(
            settings,
            *("serve", str(root), "--port", str(free_port())),
            # 50 ms a file: ~25 s of pipeline, in batches of 10 (0.5 s each)
            TROVE_PLUGINS="tests.pipeline_counting_plugin",
            TROVE_TEST_COUNT_LOG=str(tmp_path / "executions.log"),
            TROVE_TEST_COUNT_DELAY="0.05",
            TROVE_PIPELINE_BATCH_SIZE="10",
        )
        started = time.monotonic()
        code, err = _interrupt_once(
            server, _safe(_files_being_processed(server, database, 0)), within=SERVER_STOPS_S
        )
        assert time.monotonic() - started < 60, "the pipeline never started"
        assert code == 130, err
        assert "Traceback" not in err, err
    finally:
        database.dispose()
    assert _checksums(root) == before


@pytest.mark.databases("sqlite")
def test_a_stop_while_moved_files_are_hashed_is_taken_between_them(
    settings: Settings, tmp_path: Path
) -> None:
    """Files copied elsewhere and deleted (new inodes) are told from new ones by their SHA-256
    after the walk: seconds each for large files, so the stop is asked for between them. The
    files not settled are not written (neither new nor gone), and the next scan settles them."""
    root = tmp_path / "library"
    (root / "before").mkdir(parents=True)
    for n in range(6):
        (root / "before" / f"clip-{n}.bin").write_bytes(os.urandom(64_000 + n))
    library = LibraryService(settings)
    try:
        library.scan_and_process([str(root)], wait=True)
        ids = _ids_by_path(library.database)
        shutil.copytree(root / "before", root / "after")
        shutil.rmtree(root / "before")
        checksums = _checksums(root, pattern="*.bin")
        stop = threading.Event()
        called: list[int] = []

        def ctrl_c_at_first_report(summary: ScanSummary) -> None:
            called.append(summary.seen)  # 6 files: the walk itself reports none (every 1,000)
            stop.set()

        with pytest.raises(ScanStopped):
            library.scan_and_process(
                [str(root)], wait=False, on_scan_progress=ctrl_c_at_first_report, stop=stop
            )
        assert called == [6]  # taken before the second file was hashed
        assert _ids_by_path(library.database) == ids  # nothing written: not new, not missing

        run = library.scan_and_process([str(root)], wait=False)
        assert (run.scans[0].moved, run.scans[0].new, run.scans[0].gone) == (6, 0, 0)
        moved_ids = {p.replace("before/", "after/"): i for p, i in ids.items()}
        assert _ids_by_path(library.database) == moved_ids
    finally:
        library.close()
    assert _checksums(root, pattern="*.bin") == checksums


def _ids_by_path(database: Database) -> dict[str, str]:
    """The files the index holds (not missing): their ids by path."""
    with database.session() as session:
        rows = session.query(Asset.rel_path, Asset.id).filter(
            Asset.asset_type != "collection", Asset.status != "missing"
        )
        return {str(rel_path): asset_id for rel_path, asset_id in rows}


def _workers_starting(
    scan: subprocess.Popen[str], _database: Database, _ready_before: int
) -> Callable[[], bool]:
    return lambda: len(_children(scan.pid)) >= 2  # the resource tracker, then a worker


def _files_being_processed(
    _scan: subprocess.Popen[str], database: Database, ready_before: int
) -> Callable[[], bool]:
    return lambda: _statuses(database).count("ready") > ready_before


def _children(pid: int) -> list[str]:
    """The processes `pid` started (the resource tracker and the pipeline's workers)."""
    found: list[str] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += (task / "children").read_text().split()
    return found


def _safe(check: Callable[[], Any], *, otherwise: Any = False) -> Callable[[], Any]:
    """`check`, or `otherwise` while the scan has not made the schema yet."""

    def checked() -> Any:
        try:
            return check()
        except Exception:
            return otherwise

    return checked
