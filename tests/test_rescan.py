"""Rescans: an unchanged library costs a stat per file and nothing else; originals are never
written. Proven by counting, on both databases, not by timing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.conftest import imported_by
from tests.media import fingerprint_tree, make_library, write_jpeg
from trove.config import Settings
from trove.repositories import fast_index
from trove.services.library import LibraryService

pytestmark = pytest.mark.slow

WATCHED = ("assets", "asset_steps")


def install_write_log(url: str) -> None:
    """Record every INSERT/UPDATE/DELETE on the watched tables into a `write_log` table."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            conn.execute("CREATE TABLE write_log (tbl TEXT, op TEXT)")
            for table in WATCHED:
                for op in ("INSERT", "UPDATE", "DELETE"):
                    conn.execute(
                        f"CREATE TRIGGER log_{table}_{op} AFTER {op} ON {table}"
                        f" BEGIN INSERT INTO write_log VALUES ('{table}', '{op}'); END"
                    )
        return
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE write_log (tbl text, op text)")
        conn.execute(
            "CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN INSERT INTO write_log VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$"
        )
        for table in WATCHED:  # per statement: even an UPDATE that matches no row is logged
            conn.execute(
                f"CREATE TRIGGER log_{table} AFTER INSERT OR UPDATE OR DELETE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION log_write()"
            )


def write_log(url: str) -> list[tuple[str, str]]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            return conn.execute("SELECT tbl, op FROM write_log").fetchall()
    with psycopg.connect(_libpq(url)) as conn:
        return conn.execute("SELECT tbl, op FROM write_log").fetchall()


def _libpq(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def library_with_clutter(root: Path) -> Path:
    """make_library plus what real folders hold: hidden files, symlinks, an empty folder."""
    make_library(root)
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "2023" / "latest.jpg").symlink_to(root / "2023" / "2023-01 trip" / "IMG_0000.jpg")
    (root / "dangling").symlink_to(root / "gone-long-ago")
    (root / "empty folder").mkdir()
    return root


def test_an_unchanged_rescan_hashes_nothing_and_writes_nothing_to_the_index(
    settings, tmp_path, run_trove
):
    library = library_with_clutter(tmp_path / "library")
    files = len(fingerprint_tree(library)) - 1  # all but .DS_Store
    first = json.loads(run_trove("scan", str(library), "--json").stdout)
    install_write_log(settings.resolved_database_url)

    rescan = json.loads(run_trove("scan", str(library), "--json").stdout)

    assert first["summary"]["new"] == files
    assert write_log(settings.resolved_database_url) == []
    summary = rescan["summary"]
    assert summary["unchanged"] == summary["seen"] == files
    assert [summary[k] for k in ("new", "changed", "gone", "returned", "errors")] == [0] * 5
    assert rescan["pipeline"] is None
    assert rescan["roots"][0]["status"] == "online"


def test_the_write_log_does_see_a_rescan_that_finds_a_change(settings, tmp_path, run_trove):
    """The check above can fail: one touched file makes the same triggers fire."""
    library = make_library(tmp_path / "library", photos=2)
    run_trove("scan", str(library), "--json")
    install_write_log(settings.resolved_database_url)
    write_jpeg(library / "new.jpg", seed=5)

    rescan = json.loads(run_trove("scan", str(library), "--json").stdout)

    assert rescan["summary"]["new"] == 1
    assert rescan["pipeline"]["steps"]["hash"] == {"ok": 1}
    tables = {table for table, _op in write_log(settings.resolved_database_url)}
    assert tables == {"assets", "asset_steps"}


def test_an_unchanged_rescan_of_two_libraries_opens_one_database_connection(
    settings, tmp_path, monkeypatch
):
    """Each connection is a new PostgreSQL backend; a scan used to open six a library (schema
    check, root, signatures, scan record, sidecars, and the relocation check's)."""
    libraries = [make_library(tmp_path / name, photos=2) for name in ("one", "two")]
    service = LibraryService(settings)
    service.scan_and_process([str(p) for p in libraries], wait=False)
    opened: list[str] = []
    for name in ("_connect_sqlite", "_connect_postgresql"):
        real = getattr(fast_index, name)
        monkeypatch.setattr(
            fast_index, name, lambda url, real=real: opened.append(url) or real(url)
        )

    run = service.scan_and_process([str(p) for p in libraries], wait=False)

    assert [(scan.unchanged, scan.new) for scan in run.scans] == [(5, 0), (5, 0)]
    assert len(opened) == 1
    after = service.scan_and_process([str(p) for p in libraries], wait=False)  # closed, reopened
    assert [scan.unchanged for scan in after.scans] == [5, 5] and len(opened) == 2


def test_a_first_scan_creates_the_schema_of_an_empty_postgresql_database(tmp_path):
    """It looked for a moved library in the roots table before the schema was there."""
    from tests.conftest import _pg_admin, _pg_base

    try:
        admin = _pg_admin()
    except Exception:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    name = f"trove_t_empty_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        url = f"postgresql+psycopg://{_pg_base().split('://', 1)[1]}/{name}"
        settings = Settings(data_dir=tmp_path / "data", database_url=url, auth=False)
        library = make_library(tmp_path / "library", photos=2)
        (scan,) = LibraryService(settings).scan_and_process([str(library)], wait=False).scans
        assert scan.new == 5
    finally:
        with _pg_admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_an_unchanged_rescan_never_imports_sqlalchemy(settings, tmp_path, run_trove):
    library = library_with_clutter(tmp_path / "library")
    run_trove("scan", str(library), "--json")

    imported, stdout = imported_by(settings, "scan", str(library), "--json")

    assert "trove.services.scanner" in imported  # the measurement did see the scan
    assert json.loads(stdout)["summary"]["changed"] == 0
    heavy = sorted(m for m in imported if m.split(".")[0] in ("sqlalchemy", "alembic"))
    assert heavy == []


def test_originals_are_never_written_by_scans_pipeline_and_rescans(settings, tmp_path, run_trove):
    library = library_with_clutter(tmp_path / "library")
    files_before = fingerprint_tree(library)
    tree_before = snapshot(library)

    LibraryService(settings).scan_and_process([str(library)], wait=True)
    LibraryService(settings).scan_and_process([str(library)], wait=True)
    LibraryService(settings).pipeline().run_pending()
    run_trove("scan", str(library))
    run_trove("ls", "--json")
    run_trove("status")

    assert fingerprint_tree(library) == files_before
    assert snapshot(library) == tree_before


def snapshot(root: Path) -> dict[str, tuple[int, int, str | None]]:
    """Every entry (hidden ones, links and folders too): mode, mtime, link target.

    A folder's mtime changes when anything is created, renamed or deleted in it, so this
    also catches a temporary or sidecar file written into the library and removed again.
    """
    found: dict[str, tuple[int, int, str | None]] = {}
    for dirpath, dirs, names in os.walk(root):
        for name in [*dirs, *names, ""]:
            path = Path(dirpath) / name
            st = path.lstat()
            target = os.readlink(path) if path.is_symlink() else None
            found[str(path.relative_to(root))] = (st.st_mode, st.st_mtime_ns, target)
    return found
