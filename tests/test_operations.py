"""Operations: health for load balancers, Prometheus metrics, JSON logs."""

from __future__ import annotations

import dataclasses
import errno
import json
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests import test_storage_full
from tests.accounts import add_accounts, bearer, with_sign_in
from tests.browser.server import start_server
from tests.conftest import _pg_admin
from tests.media import make_library
from tests.test_storage_full import SmallDisk
from trove.app import create_app
from trove.config import Settings
from trove.db.database import Database
from trove.services.health import CHECK_TIMEOUT_S, HealthService

small_disk = test_storage_full.small_disk  # the fixture: a 1.5 MiB tmpfs


@pytest.fixture
def library(tmp_path):
    return make_library(tmp_path / "library")


def test_health_is_ok_and_lists_each_library_to_an_admin(client, library):
    report = client.get("/api/dam/health")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"] == {**body["broker"], "ok": True}
    assert body["broker"]["detail"] == "in-process"
    paths = [root["path"] for root in body["roots"]]
    assert str(library) in paths and body["roots_offline"] == 0


@pytest.mark.databases("sqlite")
def test_a_library_whose_folder_vanished_makes_health_degraded_with_the_reason(client, library):
    shutil.rmtree(library)
    body = client.get("/api/dam/health").json()
    assert body["status"] == "degraded"
    (gone,) = [root for root in body["roots"] if root["path"] == str(library)]
    # The health check's own look, or the server's scan that noticed first (it races it).
    assert gone["online"] is False
    assert "absent or unreadable" in gone["reason"] or "folder is missing" in gone["reason"]
    assert body["roots_offline"] == 1


def test_a_broker_that_does_not_answer_is_down_not_a_hang(settings):
    # A closed port on loopback: nothing leaves the machine.
    unreachable = dataclasses.replace(settings, broker_url="redis://127.0.0.1:9/0")
    database = Database(settings.resolved_database_url)
    from trove.db.migrate import ensure_schema

    ensure_schema(settings.resolved_database_url)
    health = HealthService(unreachable, database)
    try:
        report = health.check(with_roots=False)
        admins = health.check(with_roots=True)
    finally:
        health.close()
        database.dispose()
    assert report["status"] == "down"
    assert report["database"]["ok"] and not report["broker"]["ok"]
    assert report["broker"]["ms"] < 5000 and report["broker"]["detail"]
    # Anyone may ask: the error's text (host, port, user) is an admin's only.
    assert "127.0.0.1" not in str(report) and "127.0.0.1:9" in admins["broker"]["detail"]


def test_health_is_open_to_anyone_but_names_no_library_and_metrics_need_an_admin(settings, library):
    app = create_app(dataclasses.replace(settings, auth=True), roots=[str(library)])
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        body = anonymous.get("/api/dam/health").json()
        assert body["status"] == "ok" and body["roots"] is None and body["roots_online"] == 1
        refused = anonymous.get("/metrics")
        assert refused.status_code == 401 and refused.json()["detail"]


def test_metrics_show_queues_step_outcomes_libraries_and_scans_under_trove_names(client, library):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert families and all(name.startswith("trove") for name in families)
    queued = {s.labels["step"]: s.value for s in families["trove_pipeline_queue_depth"].samples}
    assert {"mime", "hash"} <= set(queued) and all(v == 0 for v in queued.values())
    ok_hashes = [
        s.value
        for s in families["trove_pipeline_step_outcomes"].samples
        if s.labels == {"step": "hash", "outcome": "ok"}
    ]
    assert ok_hashes and ok_hashes[0] > 0
    (online,) = families["trove_root_online"].samples
    assert online.labels["root"] == library.name and online.value == 1
    (scanned,) = families["trove_scan_files"].samples
    assert scanned.value > 0
    assert families["trove_scan_duration_seconds"].samples[0].value > 0


@pytest.mark.databases("sqlite")
def test_a_library_folder_gone_is_offline_in_the_metrics_at_once_without_a_watcher(
    settings, library
):
    app = create_app(dataclasses.replace(settings, watch=False), roots=[str(library)])
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.services.indexer.wait_idle(60)

        def online() -> float:
            families = text_string_to_metric_families(client.get("/metrics").text)
            (sample,) = next(f for f in families if f.name == "trove_root_online").samples
            return sample.value

        assert online() == 1
        shutil.rmtree(library)  # nothing watches it, and no scan has run since
        assert online() == 0


def test_json_log_format_makes_every_server_line_a_json_object(tmp_path, library):
    server = start_server(
        data_dir=tmp_path / "data", roots=[library], env={"TROVE_LOG_FORMAT": "json"}
    )
    try:
        server.wait_idle()
        server.api("/api/dam/health")
    finally:
        server.stop()
    lines = [line for line in server.log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert {"time", "level", "logger", "message"} <= set(records[0])
    loggers = {record["logger"] for record in records}
    assert "uvicorn.access" in loggers and any(name.startswith("trove") for name in loggers)


def test_a_token_that_cannot_be_checked_while_the_database_is_down_gets_503_not_500(
    settings, library, caplog
):
    app = create_app(with_sign_in(settings), roots=[str(library)])
    with TestClient(app, raise_server_exceptions=False) as client:
        services = app.state.services
        assert services.indexer.wait_idle(60)
        add_accounts(services)
        token, _ = services.users.create_token("alice")
        assert client.get("/api/dam/health", headers=bearer(token)).json()["roots"]
        with _database_unreachable(services.database), caplog.at_level(logging.WARNING):
            answers = {
                path: client.get(path, headers=bearer(token))
                for path in ("/api/dam/health", "/metrics", "/api/dam/assets")
            }
            anonymous = client.get("/api/dam/health")
        assert client.get("/api/dam/health", headers=bearer(token)).json()["status"] == "ok"
    for path, answer in answers.items():
        assert answer.status_code == 503, (path, answer.text)
        assert "database does not answer" in answer.json()["detail"]
    assert anonymous.status_code == 503 and anonymous.json()["status"] == "down"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]


@contextmanager
def _database_unreachable(database: Database) -> Iterator[None]:
    """New connections to the server's database fail, and the pooled ones are gone: SQLite's
    file is a folder for a while, PostgreSQL refuses connections to the database."""
    if database.url.startswith("sqlite"):
        with _sqlite_file_replaced_by_a_folder(Path(database.url.split("///", 1)[1]), database):
            yield
        return
    name = database.url.rsplit("/", 1)[1]
    _set_allow_connections(name, allowed=False)
    database.dispose()
    try:
        yield
    finally:
        _set_allow_connections(name, allowed=True)


@contextmanager
def _sqlite_file_replaced_by_a_folder(path: Path, database: Database) -> Iterator[None]:
    aside = path.with_name(path.name + ".aside")
    database.dispose()
    path.rename(aside)
    path.mkdir()
    try:
        yield
    finally:
        path.rmdir()
        aside.rename(path)


def _set_allow_connections(name: str, *, allowed: bool) -> None:
    with _pg_admin() as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {str(allowed).lower()}")
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


@pytest.mark.slow
def test_a_full_data_disk_makes_health_degraded_with_the_reason_and_ok_once_freed(
    settings, library, small_disk: SmallDisk
):
    app = create_app(dataclasses.replace(settings, data_dir=small_disk.path), roots=[str(library)])
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.services.indexer.wait_idle(60)
        assert client.get("/api/dam/health").json()["status"] == "ok"
        filler = _fill(small_disk.path)
        full = client.get("/api/dam/health")
        filler.unlink()
        freed = client.get("/api/dam/health").json()
    assert full.status_code == 200, full.text
    body = full.json()
    assert body["status"] == "degraded" and not body["storage"]["ok"]
    assert "disk is full" in body["detail"] and "No space left" in body["storage"]["detail"]
    assert freed["status"] == "ok" and freed["storage"]["ok"]


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    out = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(out, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(out)
    return filler


def test_a_database_that_accepts_but_never_answers_holds_up_no_other_check(tmp_path):
    with _silent_listener() as port:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=f"postgresql://trove@127.0.0.1:{port}/trove",
            broker_url="redis://127.0.0.1:6379/0",
        )
        database = Database(settings.resolved_database_url)
        health = HealthService(settings, database)
        try:
            reports, durations = [], []
            for _ in range(6):  # more calls than the old shared pool had threads
                started = time.perf_counter()
                reports.append(health.check(with_roots=True))
                durations.append(time.perf_counter() - started)
            # Later calls wait on the stuck check again: one stuck thread, not one per call.
            stuck = [t for t in threading.enumerate() if t.name == "trove-health"]
            assert len(stuck) == 1, stuck
        finally:
            health.close()
            database.dispose()
    assert all(seconds < CHECK_TIMEOUT_S + 0.5 for seconds in durations), durations
    for report in reports:
        assert report["status"] == "down" and not report["database"]["ok"]
        assert "no answer within" in report["database"]["detail"]
        assert report["broker"] == {**report["broker"], "ok": True, "detail": "redis"}
        assert report["storage"]["ok"], report["storage"]


@contextmanager
def _silent_listener() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word (a hung server)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:  # closed: the test is over
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for connection in accepted:  # the stuck checks see the end of the stream and finish
            connection.close()
