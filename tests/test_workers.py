"""The pipeline through Redis with `trove worker` processes.

The same results as in-process on SQLite and PostgreSQL; workers killed, stopped or left
without Redis on PostgreSQL, the database of a deployment whose workers run on several
machines; a server or scan whose Redis is away on SQLite (it stores what any scan does).

Redis runs on 127.0.0.1:6379 on this project's machines (`.ci/run` starts it). Each test uses
its own stream (TROVE_BROKER_QUEUE), so test runs sharing the server do not meet.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import REPO, TROVE
from tests.pipeline_media import camera_exif, photo, text_pdf, video, write_photo
from tests.watching import free_port
from trove.config import Settings
from trove.db.database import Database
from trove.db.migrate import ensure_schema
from trove.db.models import Asset, AssetStep, Link, PipelineLease
from trove.services.library import LibraryService

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("TROVE_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required under CI and unreachable: {exc}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def redis_settings(settings: Settings, redis_url: str) -> Settings:
    ensure_schema(settings.resolved_database_url)
    return replace(
        settings,
        broker_url=redis_url,
        broker_queue=f"trove-test-{uuid.uuid4().hex[:10]}",
        pipeline_lease_seconds=3.0,
    )


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    env.update(
        TROVE_DATA_DIR=str(settings.data_dir),
        TROVE_DATABASE_URL=settings.resolved_database_url,
        TROVE_BROKER_URL=settings.broker_url or "",
        TROVE_BROKER_QUEUE=settings.broker_queue,
        TROVE_PIPELINE_LEASE_SECONDS=str(settings.pipeline_lease_seconds),
        TROVE_PIPELINE_BATCH_SIZE=str(settings.pipeline_batch_size),
        # This checkout's code (not whichever the installed `trove` points at), and the
        # repository itself for the tests' plugin modules.
        PYTHONPATH=os.pathsep.join((str(REPO / "src"), str(REPO))),
        **extra,
    )
    return env


def trove_command() -> list[str]:
    return [str(TROVE)] if TROVE.exists() else [sys.executable, "-m", "trove"]


class Workers:
    """`trove worker` processes, each in its own process group so it can be killed whole."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, *, processes: int = 1) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"worker-{len(self.running)}.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen(
            [*trove_command(), "worker", "--processes", str(processes)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen[bytes]) -> None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)

    def stop_all(self) -> None:
        for worker in self.running:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for worker in self.running:
            try:
                worker.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(5)


@pytest.fixture
def workers(redis_settings, tmp_path):
    pool = Workers(environment(redis_settings), tmp_path)
    yield pool
    pool.stop_all()


def make_media(root: Path) -> Path:
    original = photo((1200, 900), seed=21)
    write_photo(root / "a/original.jpg", image=original, exif=camera_exif())
    write_photo(root / "a/copy.jpg", image=original.resize((600, 450)), quality=55)
    for i in range(6):
        write_photo(root / f"b/photo-{i}.jpg", size=(800, 600), seed=100 + i)
    video(root / "c/clip.mov", size=(320, 240), seconds=1)
    text_pdf(root / "d/doc.pdf", ["Redis and workers agree"])
    return root


def snapshot(database_url: str) -> dict[str, object]:
    """What the pipeline produced, keyed by path so two indexes can be compared."""
    database = Database(database_url)
    try:
        with database.session() as session:
            assets = {a.id: a for a in session.query(Asset).all()}
            name = {i: (a.rel_path or a.storage_urn.rsplit("/", 1)[-1]) for i, a in assets.items()}
            steps: dict[str, dict[str, str]] = {}
            for row in session.query(AssetStep).all():
                steps.setdefault(name[row.asset_id], {})[row.step] = row.status
            rows = {
                name[i]: (a.status, a.width, a.height, a.duration, a.phash, sorted(a.meta or {}))
                for i, a in assets.items()
                if a.asset_type != "collection"
            }
            edges = set()
            for link in session.query(Link).all():
                ends = (name[link.source_id], name[link.target_id])
                if link.relation == "visually_similar_to":
                    ends = tuple(sorted(ends))  # one edge per pair; its direction is arbitrary
                elif link.relation != "transformed_to":
                    continue
                edges.add((ends[0], link.relation, ends[1]))
            leases = session.query(PipelineLease).count()
    finally:
        database.dispose()
    return {"assets": rows, "steps": steps, "edges": edges, "leases": leases}


def wait_until_done(settings: Settings, *, timeout: float) -> None:
    database = Database(settings.resolved_database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with database.session() as session:
                waiting = session.query(Asset).filter(Asset.status == "processing").count()
            if not waiting:
                return
            time.sleep(0.3)
    finally:
        database.dispose()
    raise AssertionError(f"assets still processing after {timeout} s")


def test_two_workers_through_redis_give_the_same_results_as_in_process(
    redis_settings, workers, tmp_path
):
    root = make_media(tmp_path / "library")
    reference = Settings(data_dir=tmp_path / "reference", pipeline_threads=2)
    LibraryService(reference).scan_and_process([str(root)], wait=True)

    workers.start()
    workers.start()
    scan = subprocess.run(
        [*trove_command(), "scan", str(root), "--json"],
        env=environment(redis_settings),
        capture_output=True,
        timeout=180,
    )
    assert scan.returncode == 0, scan.stderr.decode()
    via_redis = snapshot(redis_settings.resolved_database_url)
    in_process = snapshot(reference.resolved_database_url)
    assert via_redis["leases"] == 0
    assert via_redis["assets"] == in_process["assets"]
    assert via_redis["steps"] == in_process["steps"]
    assert via_redis["edges"] == in_process["edges"]
    assert ("a/copy.jpg", "visually_similar_to", "a/original.jpg") in via_redis["edges"]
    logs = " ".join(p.read_text(errors="replace") for p in tmp_path.glob("worker-*.log"))
    assert "Traceback" not in logs


@pytest.mark.databases("postgresql")
def test_killing_a_worker_mid_batch_then_restarting_completes_every_asset_once(
    redis_settings, tmp_path
):
    settings = replace(redis_settings, pipeline_batch_size=4)
    root, count_log, env = _counted_pictures(settings, tmp_path, count=24, delay_s=0.15)
    _register(root, env)
    pool = Workers(env, tmp_path)
    try:
        doomed = pool.start()
        pool.start()
        _wait_for_a_running_batch_of(doomed, settings, count_log)
        pool.kill(doomed)
        pool.start()  # the restart: picks up what the dead worker held once its lease lapses
        wait_until_done(settings, timeout=120)
    finally:
        pool.stop_all()

    result = snapshot(settings.resolved_database_url)
    assert result["leases"] == 0
    assert {status for status, *_ in result["assets"].values()} == {"ready"}
    assert len(result["steps"]) == 24
    for steps in result["steps"].values():  # one committed outcome per step, all ok
        assert steps["counted"] == "ok" and steps["hash"] == "ok" and steps["thumbnails"] == "ok"
    executions: dict[str, int] = {}
    for line in count_log.read_text().splitlines():
        asset_id = line.split()[0]
        executions[asset_id] = executions.get(asset_id, 0) + 1
    assert len(executions) == 24
    # Only the batch the killed worker was in the middle of ran twice; finished work never did.
    repeated = [a for a, n in executions.items() if n > 1]
    assert len(repeated) <= settings.pipeline_batch_size
    assert all(n <= 2 for n in executions.values())


def _counted_pictures(
    settings: Settings, tmp_path: Path, *, count: int, delay_s: float
) -> tuple[Path, Path, dict[str, str]]:
    """A library of `count` small pictures, and the environment of workers whose counting
    plugin logs each execution (to tell work done twice) and takes `delay_s` over each."""
    root = tmp_path / "library"
    root.mkdir()
    for i in range(count):
        photo((64, 48), seed=i).save(root / f"img-{i:02d}.png")
    count_log = tmp_path / "executions.log"
    env = environment(
        settings,
        TROVE_PLUGINS="tests.pipeline_counting_plugin",
        TROVE_TEST_COUNT_LOG=str(count_log),
        TROVE_TEST_COUNT_DELAY=str(delay_s),
    )
    return root, count_log, env


def _register(root: Path, env: dict[str, str]) -> None:
    """`trove scan --no-wait`: the library registered and its work sent to Redis."""
    registered = subprocess.run(
        [*trove_command(), "scan", str(root), "--no-wait"], env=env, capture_output=True, timeout=60
    )
    assert registered.returncode == 0, registered.stderr.decode()


def _wait_for_a_running_batch_of(
    worker: subprocess.Popen[bytes], settings: Settings, count_log: Path
) -> None:
    """Until a process of `worker`'s group holds leases and has started the slow step."""
    database = Database(settings.resolved_database_url)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            with database.session() as session:
                owners = [
                    lease.owner
                    for lease in session.query(PipelineLease).filter_by(state="running").all()
                    if lease.step == "counted"
                ]
            for owner in owners:
                pid = int(str(owner).split(":")[1])
                try:
                    if os.getpgid(pid) == worker.pid:
                        return
                except ProcessLookupError:
                    continue
            time.sleep(0.05)
    finally:
        database.dispose()
    raise AssertionError("the worker never started a batch")


def _wait_for_line(log: Path, text: str) -> None:
    """Until `text` is in the log (a worker process takes seconds to start on a busy machine:
    a fixed sleep was sometimes too short)."""
    deadline = time.monotonic() + 60
    while text not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"never logged {text!r}"
        time.sleep(0.1)


@pytest.mark.databases("postgresql")
def test_a_stopped_worker_hands_back_its_batch_after_the_asset_in_hand(redis_settings, tmp_path):
    """SIGTERM (systemd's stop) used to wait for the whole batch in hand: a batch of long
    transcodes outlasted systemd's 90 s and ended in a SIGKILL that lost its work. The worker
    now stops after the asset in hand, keeps what it did and hands the rest of the batch
    back, without counting an attempt; the next worker finishes it, repeating nothing."""
    settings = replace(redis_settings, pipeline_batch_size=4)
    # 32 pictures in 8 shares: batches of 4 assets, 2 s each.
    root, count_log, env = _counted_pictures(settings, tmp_path, count=32, delay_s=0.5)
    _register(root, env)
    pool = Workers(env, tmp_path)
    try:
        worker = pool.start()
        _wait_for_a_running_batch_of(worker, settings, count_log)
        _wait_for_an_execution(count_log)  # the batch's first asset is in the slow step
        in_hand = len(count_log.read_text().splitlines())
        signalled = time.monotonic()
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(60)
        stopped_after_s = time.monotonic() - signalled
        ran_by_then = count_log.read_text().splitlines()
        leases = _leases(settings)
        pool.start(processes=2)
        wait_until_done(settings, timeout=120)
    finally:
        pool.stop_all()

    # Before: the batch's other assets (1.5 s more) ran first.
    assert len(ran_by_then) <= in_hand + 1, (in_hand, ran_by_then)
    assert stopped_after_s < 15
    # Nothing left running, the stop counted as no attempt on any asset, and the batch's
    # assets wait under their handed-back leases (a finished batch has none).
    assert leases and set(leases.values()) == {("queued", 0)}, leases
    assert all(line.split()[0] in leases for line in ran_by_then)
    log = (tmp_path / "worker-0.log").read_text(errors="replace")
    assert "handed back" in log and "Traceback" not in log
    result = snapshot(settings.resolved_database_url)
    assert result["leases"] == 0
    assert {status for status, *_ in result["assets"].values()} == {"ready"}
    executions = [line.split()[0] for line in count_log.read_text().splitlines()]
    assert len(executions) == len(set(executions)) == 32  # each asset's step ran once


def _wait_for_an_execution(count_log: Path) -> None:
    deadline = time.monotonic() + 60
    while not (count_log.exists() and count_log.read_text()):
        assert time.monotonic() < deadline, "the counted step never ran"
        time.sleep(0.02)


def _leases(settings: Settings) -> dict[str, tuple[str, int]]:
    database = Database(settings.resolved_database_url)
    try:
        with database.session() as session:
            return {
                lease.asset_id: (lease.state, lease.attempts)
                for lease in session.query(PipelineLease).all()
            }
    finally:
        database.dispose()


@pytest.mark.databases("postgresql")
def test_a_scan_waits_for_assets_a_worker_took_before_the_scan_sent_them(redis_settings, tmp_path):
    """A worker's supervisor sends what nobody holds while a scan is still registering; the
    scan's wait covers the assets a worker holds that way, not only those it sent itself
    (seen under load: `trove scan` returned with a batch still in `processing`)."""
    from datetime import UTC, datetime
    from threading import Thread

    from trove.repositories.pipeline import PipelineRepository

    root = make_media(tmp_path / "library")
    env = environment(redis_settings)
    _register(root, env)
    database = Database(redis_settings.resolved_database_url)
    now = datetime.now(UTC).replace(tzinfo=None)
    with database.session() as session:  # a worker elsewhere takes every asset
        ids = [a.id for a in session.query(Asset).filter(Asset.status == "processing")]
        assert ids
        held = PipelineRepository(session).claim(ids, owner="w:1", token="t", now=now, ttl=120)
        assert set(held) == set(ids)
    returned_at: list[float] = []

    def scan() -> None:
        LibraryService(redis_settings).scan_and_process([str(root)], wait=True)
        returned_at.append(time.monotonic())

    waiting = Thread(target=scan)
    waiting.start()
    try:
        time.sleep(2.0)
        assert not returned_at, "the scan returned while a worker still held its assets"
        finished_at = time.monotonic()
        with database.session() as session:  # the worker finishes
            session.query(Asset).filter(Asset.id.in_(ids)).update({"status": "ready"})
            PipelineRepository(session).release(ids, token="t")
    finally:
        waiting.join(timeout=60)
        database.dispose()
    assert returned_at and returned_at[0] >= finished_at


@pytest.mark.databases("postgresql")
def test_json_log_format_makes_every_worker_line_a_json_object(workers, tmp_path):
    workers.env.update(TROVE_LOG_FORMAT="json", TROVE_PLUGINS="")
    worker = workers.start(processes=1)
    _wait_for_line(tmp_path / "worker-0.log", "Listening started.")  # a worker process's
    workers.stop_all()
    workers.env["TROVE_PLUGINS"] = "trove_no_such_plugin"
    crashed = workers.start()  # a traceback, too, is one object
    crashed.wait(30)
    lines = []
    for log in sorted(tmp_path.glob("worker-*.log")):
        lines += [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert worker.returncode == 0 and crashed.returncode == 1
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert "Listening started." in {r["message"] for r in records}  # a worker process's line
    (uncaught,) = [r for r in records if r["level"] == "CRITICAL"]
    assert "trove_no_such_plugin" in uncaught["exc_info"]


class PrivateRedis:
    """A redis-server of this test's own (no persistence), to stop and start mid-run: what an
    operator's restart of Redis does to the workers and to the messages it held."""

    def __init__(self, work_dir: Path) -> None:
        self.port = free_port()
        self.work_dir = work_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.work_dir)),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url, socket_connect_timeout=1).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Gone with every message it held, as a Redis without persistence restarts."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.databases("postgresql")
def test_a_redis_restarted_empty_mid_run_loses_no_work_and_the_workers_wait_for_it(
    settings, private_redis, tmp_path
):
    """Redis goes away for a while mid-run and comes back empty. The assets whose messages it
    held were already `queued` (sent), so no lease lapses to send them again: once the
    stream has handed out every message, the supervisor sends them again (they stayed in
    `processing` until a process was restarted). Meanwhile the worker processes wait for Redis
    instead of dying and being restarted every few seconds with tracebacks."""
    ensure_schema(settings.resolved_database_url)
    settings = replace(
        settings,
        broker_url=private_redis.url,
        pipeline_lease_seconds=3.0,
        pipeline_batch_size=3,
    )
    root, count_log, env = _counted_pictures(settings, tmp_path, count=30, delay_s=0.2)
    pool = Workers(env, tmp_path)
    try:
        worker = pool.start(processes=2)
        registered = subprocess.run(
            [*trove_command(), "scan", str(root), "--no-wait"],
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert registered.returncode == 0, registered.stderr.decode()
        _wait_for_a_running_batch_of(worker, settings, count_log)
        private_redis.stop()
        time.sleep(6)  # two lease periods: the supervisor and the workers find Redis away
        private_redis.start()
        wait_until_done(settings, timeout=60)
    finally:
        pool.stop_all()
    result = snapshot(settings.resolved_database_url)
    assert result["leases"] == 0
    assert {status for status, *_ in result["assets"].values()} == {"ready"}
    log = (tmp_path / "worker-0.log").read_text(errors="replace")
    assert "Traceback" not in log
    assert "is dead" not in log  # no worker process ended for Redis being away
    assert "lost Redis" in log and "Redis is back" in log


@pytest.mark.databases("postgresql")
def test_a_worker_process_whose_trove_worker_was_killed_stops(workers, tmp_path):
    """`kill -9` of `trove worker` (the OOM killer, an operator) leaves its worker processes
    without a supervisor: they went on taking batches for ever, unseen, and no later SIGTERM
    reached them. They now notice and stop (after the batch in hand)."""
    import psutil

    worker = workers.start(processes=1)
    _wait_for_line(tmp_path / "worker-0.log", "Listening started.")
    children = [
        p
        for p in psutil.Process(worker.pid).children()
        if "resource_tracker" not in p.cmdline()[-1]
    ]
    assert children
    worker.kill()  # the parent alone, as the OOM killer would
    worker.wait(10)
    _, alive = psutil.wait_procs(children, timeout=15)
    for orphan in alive:
        orphan.kill()
    assert not alive, "worker processes outlived their `trove worker`"


@pytest.mark.databases("sqlite")
def test_a_server_whose_redis_is_away_says_so_in_a_line(settings, tmp_path):
    """The server sends what it registers to Redis; with Redis away that fails, and the
    workers' supervisors send the work once it is back. An operator's matter, said in one
    line, not a traceback per folder that changed."""
    ensure_schema(settings.resolved_database_url)
    away = replace(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0")
    root = tmp_path / "library"
    root.mkdir()
    for i in range(3):
        photo((64, 48), seed=i).save(root / f"img-{i}.png")
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [*trove_command(), "serve", str(root), "--port", str(free_port())],
            env=environment(away),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while "background job" not in log.read_text(errors="replace"):
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.2)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
    text = log.read_text(errors="replace")
    assert "Redis is away" in text
    assert "Traceback" not in text


@pytest.mark.databases("sqlite")
def test_a_scan_whose_redis_is_away_registers_and_says_so_in_a_line(settings, tmp_path):
    """`trove scan` with Redis away printed taskiq's and redis's chained tracebacks."""
    ensure_schema(settings.resolved_database_url)
    away = replace(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0")
    root = tmp_path / "library"
    root.mkdir()
    (root / "note.txt").write_text("kept for the workers\n")
    scan = subprocess.run(
        [*trove_command(), "scan", str(root)], env=environment(away), capture_output=True
    )
    err = scan.stderr.decode()
    assert scan.returncode != 0
    assert "Traceback" not in err, err
    assert "does not answer" in err and "Connect" in err
    database = Database(settings.resolved_database_url)
    try:
        with database.session() as session:
            registered = session.query(Asset).filter(Asset.filename == "note.txt").all()
            assert [a.status for a in registered] == ["processing"]  # for the workers, later
    finally:
        database.dispose()
