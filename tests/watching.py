"""Helpers for tests of the live sync (the FileWatcher): nothing here sleeps for a fixed time
to let the watcher catch up; each check polls the index until it holds, with a deadline."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from trove.db.models import Link
from trove.domain.filters import AssetFilters
from trove.repositories import fast_index
from trove.services.container import Services

DEADLINE_S = 15.0


def eventually(check: Callable[[], Any], *, timeout: float = DEADLINE_S, what: str = "") -> Any:
    """Poll `check` until it returns a truthy value without failing an assertion."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        else:
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout} s: {what or check}")
        time.sleep(0.05)


def fast(settings, **overrides):
    """Settings for a watcher under test: short debounce, no periodic work of its own."""
    values = {
        "watch_debounce": 0.4,
        "watch_settle": 0.1,
        "scavenger_interval": 0,
        "verify_interval": 0,
        "watch_fallback_interval": 1.0,
        **overrides,
    }
    return dataclasses.replace(settings, **values)


@contextlib.contextmanager
def watching(settings, library: Path) -> Iterator[Services]:
    """`library` scanned, then the watcher (and its indexer) running, as `trove serve` has."""
    services = Services.create(settings)
    services.indexer.start()
    services.library.scan_and_process([str(library)], wait=True)
    services.start_sync()
    try:
        eventually(lambda: watch_status(services, library).startswith("watching"))
        assert services.indexer.wait_idle(30)  # the start-up rescan is done
        yield services
    finally:
        services.close()
        services.database.dispose()


def watch_status(services: Services, library: Path) -> str:
    with fast_index.connect(services.settings.resolved_database_url) as conn:
        root = fast_index.find_root(conn, str(library))
        row = conn.execute("SELECT watch_status FROM roots WHERE id = ?", (root.id,)).fetchone()
    return row[0] or ""


def assets(services: Services) -> dict[str, dict]:
    page = services.library.list_assets(AssetFilters(limit=1000))
    return {item["path"]: item for item in page.items}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ready_at(services: Services, rel: str, *, content: Path | None = None) -> dict:
    """Wait until the asset at `rel` is ready (with the hash of `content`, if given)."""

    def check() -> dict | None:
        item = assets(services).get(rel)
        if item is None or item["status"] != "ready":
            return None
        if content is not None and item["hash"] != sha256(content):
            return None
        return item

    return eventually(check, what=f"{rel} ready")


def links(services: Services, relation: str) -> set[tuple[str, str]]:
    with services.database.session() as session:
        rows = session.scalars(select(Link).where(Link.relation == relation)).all()
        return {(row.source_id, row.target_id) for row in rows}


def root_row(services: Services, library: Path) -> tuple[str, str | None]:
    with fast_index.connect(services.settings.resolved_database_url) as conn:
        row = conn.execute(
            "SELECT status, status_message FROM roots WHERE path = ?", (str(library),)
        ).fetchone()
    return row[0], row[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_server(server: subprocess.Popen[str]) -> str:
    """SIGTERM a `trove serve` process (SIGKILL if it hangs); what it wrote to stderr."""
    server.send_signal(signal.SIGTERM)
    try:
        _out, err = server.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        _out, err = server.communicate()
    return err
