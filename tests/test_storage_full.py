"""A full or read-only data directory, on a real small tmpfs mounted for the test (as root);
on PostgreSQL the assets table and its indexes are moved into a tablespace on that tmpfs.

A scan that runs out of space says so in the status and the Libraries page and is tried again
until space returns; `trove serve` on a read-only data directory says so in one line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.conftest import PG_ADMIN_URL
from trove.config import Settings
from trove.db.migrate import ensure_schema

pytestmark = pytest.mark.slow


FILES = 6000


class SmallDisk:
    def __init__(self, mount_point: Path) -> None:
        self.path = mount_point

    def remount(self, options: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{options}", str(self.path)], check=True)


@pytest.fixture
def small_disk() -> Iterator[SmallDisk]:
    """A 3 MiB tmpfs, where the PostgreSQL server (user postgres) can reach it too (a new
    SQLite index is ~1 MiB, its WAL as much again while it is made)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount_point = Path(tempfile.mkdtemp(prefix="trove-small-disk-"))
    mount_point.chmod(0o755)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        shutil.rmtree(mount_point, ignore_errors=True)  # and what a late writer left below it


@pytest.fixture
def index_on_small_disk(
    database_url: str, small_disk: SmallDisk, tmp_path: Path
) -> Iterator[Settings]:
    """Settings whose index lives on the small disk: the SQLite file in a data directory
    there, or PostgreSQL's assets table and its indexes in a tablespace there."""
    common: dict[str, Any] = {
        "allowed_hosts": "testserver",
        "auth": False,
        "watch": False,
        "scavenger_interval": 0,
        "verify_interval": 0,
        "disk_full_retry_interval": 0.5,
    }
    if database_url.startswith("sqlite"):
        yield Settings(data_dir=small_disk.path, **common)
        return
    location = small_disk.path / "tablespace"
    location.mkdir()
    shutil.chown(location, "postgres", "postgres")
    ensure_schema(database_url)
    tablespace = f"trove_small_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE TABLESPACE {tablespace} LOCATION '{location}'")
    database = database_url.rsplit("/", 1)[1]
    with psycopg.connect(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database}", autocommit=True) as db:
        db.execute(f"ALTER TABLE assets SET TABLESPACE {tablespace}")
        indexes = db.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'assets'")
        for (index,) in indexes.fetchall():
            db.execute(f'ALTER INDEX "{index}" SET TABLESPACE {tablespace}')
    try:
        yield Settings(data_dir=tmp_path / "data", database_url=database_url, **common)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            admin.execute(f"DROP TABLESPACE IF EXISTS {tablespace}")


def _until(predicate, *, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_scan_that_fills_the_disk_shows_it_and_is_retried_when_space_returns(
    index_on_small_disk, small_disk, tmp_path
):
    library = tmp_path / "library"
    for n in range(FILES // 100):
        folder = library / f"folder_{n:03d}_with_a_long_name_to_take_some_room"
        folder.mkdir(parents=True)
        for m in range(100):
            (folder / f"note_{m:03d}_with_a_long_name_to_take_some_room.txt").write_text("x")
    settings = index_on_small_disk
    from trove.app import create_app

    app = create_app(settings, roots=[str(library)])
    with TestClient(app, raise_server_exceptions=False) as client:

        def disk_full_warning(status: dict | None = None) -> str | None:
            status = status or client.get("/api/dam/status").json()
            return next((w for w in status["warnings"] if "is full" in w), None)

        def status_saying_disk_full() -> dict | None:
            status = client.get("/api/dam/status").json()
            return status if disk_full_warning(status) else None

        # One answer, read whole: a retry between two reads may change the message.
        status = _until(status_saying_disk_full, timeout=120, what="the disk-full warning")
        warning = disk_full_warning(status)
        assert warning is not None and "retried" in warning
        assert ("database or disk is full" in warning) or ("No space left on device" in warning)
        assert status["indexer"]["disk_full"] == warning
        from trove.domain.access import Viewer
        from trove.ui.pages.libraries import library_overview

        # what the Libraries page lists (read later: its message may be a later retry's)
        assert any("is full" in w for w in library_overview(viewer=Viewer.system())["warnings"])

        small_disk.remount("size=256m")  # space returns

        def indexed_whole() -> bool:
            status = client.get("/api/dam/status").json()
            files = status["by_type"].get("document", 0) + status["by_type"].get("other", 0)
            return files == FILES and disk_full_warning() is None

        _until(indexed_whole, timeout=180, what="the retried scan to index every file")
        (root,) = client.get("/api/dam/roots").json()["items"]
        assert root["last_scan"]["new"] + root["last_scan"]["unchanged"] == FILES


def test_serve_on_a_read_only_data_dir_exits_with_one_line(small_disk, tmp_path, run_trove):
    library = tmp_path / "library"
    library.mkdir()
    (library / "a.txt").write_text("a")
    small_disk.remount("ro")
    for data_dir in (small_disk.path, small_disk.path / "not-yet-there"):
        result = run_trove("serve", "--data-dir", str(data_dir), str(library), check=False)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "Read-only file system" in lines[0] and "--data-dir" in lines[0], lines


@pytest.mark.databases("sqlite")
def test_a_nightly_export_stopped_by_a_full_disk_is_written_once_space_returns(
    small_disk, tmp_path
):
    from trove.services.container import Services
    from trove.services.user_data.nightly import PREFIX, NightlyExport

    exports = small_disk.path / "exports"
    settings = Settings(
        data_dir=tmp_path / "data",
        export_dir=exports,
        auth=False,
        watch=False,
        scavenger_interval=0,
        verify_interval=0,
        disk_full_retry_interval=0.3,
    )
    filler = small_disk.path / "filler"
    with filler.open("wb") as out, pytest.raises(OSError, match="No space left"):
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    services = Services.create(settings)
    services.indexer.start()
    try:
        services.indexer.submit("nightly export", NightlyExport(settings, services.user_data).run)
        warning = _until(lambda: services.indexer.snapshot()["disk_full"], timeout=30, what="full")
        assert "No space left on device" in warning
        assert list(exports.glob(f"{PREFIX}*")) == []

        filler.unlink()  # space returns: the retry writes the export and clears the warning
        _until(lambda: list(exports.glob(f"{PREFIX}*")), timeout=30, what="the export")
        _until(lambda: services.indexer.snapshot()["disk_full"] is None, timeout=30, what="clear")
        assert services.indexer.snapshot()["last_error"] is None
        (written,) = exports.glob(f"{PREFIX}*")
        assert json.loads(written.read_text().splitlines()[0])["kind"] == "header"
    finally:
        services.indexer.stop()
        services.database.dispose()
