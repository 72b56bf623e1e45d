"""The schema the migrations build is the schema the models describe, on both databases, and
a new SQLite index made from their dump (db/snapshot.py) is the one they build."""

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.migrating import schema_differences
from trove.db.engine import make_engine
from trove.db.migrate import (
    HEAD_REVISION,
    MIGRATIONS_DIR,
    ensure_schema,
    schema_is_current,
    upgrade,
)
from trove.db.snapshot import SNAPSHOT, create_from_snapshot, dump


def test_head_revision_constant_matches_alembic_head():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


def test_migrated_schema_matches_the_models(database_url):
    ensure_schema(database_url)
    assert schema_is_current(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = schema_differences(connection)
    finally:
        engine.dispose()
    assert differences == []


def test_an_owner_exists_from_the_first_run(database_url):
    ensure_schema(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            names = [row[0] for row in connection.exec_driver_sql("SELECT name FROM users")]
    finally:
        engine.dispose()
    assert names == ["owner"]


def test_processes_starting_together_migrate_once(tmp_path):
    """A server and its workers start at the same moment on a new PostgreSQL database: one
    migrates, the others wait for it and find the schema current (no duplicate table)."""
    import threading
    import uuid

    import psycopg
    import pytest

    from tests.conftest import PG_ADMIN_URL, _pg_base

    name = f"trove_t_race_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not reachable")
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = f"postgresql+psycopg://{_pg_base().split('://', 1)[1]}/{name}"
    errors: list[BaseException] = []

    def start() -> None:
        try:
            upgrade(url)
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=start) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors
        assert schema_is_current(url)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_sqlite_snapshot_is_what_the_migrations_build(tmp_path):
    """A migration added without `make schema-snapshot` fails here, not in a user's first
    scan with a schema that misses it."""
    path = tmp_path / "migrated.db"
    upgrade(f"sqlite:///{path}", from_snapshot=False)
    with sqlite3.connect(path) as connection:
        dumped = dump(connection)
    assert dumped == SNAPSHOT.read_text(encoding="utf-8"), "run `make schema-snapshot`"


def test_a_new_sqlite_index_is_made_from_the_snapshot_as_the_migrations_make_it(tmp_path):
    made, migrated = tmp_path / "made" / "trove.db", tmp_path / "migrated.db"
    probe = (
        "import sys; from trove.db.migrate import upgrade; upgrade(sys.argv[1]);"
        " print('alembic' in sys.modules)"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe, f"sqlite:///{made}"], capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "False"  # no migration ran
    upgrade(f"sqlite:///{migrated}", from_snapshot=False)

    def schema(path: Path) -> list[tuple[str, ...]]:
        with sqlite3.connect(path) as connection:
            return sorted(connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))

    assert schema(made) == schema(migrated)
    with sqlite3.connect(made) as connection:
        (created,) = connection.execute("SELECT created_at FROM users").fetchone()
        (journal,) = connection.execute("PRAGMA journal_mode").fetchone()
    assert abs(datetime.fromisoformat(created) - datetime.now(UTC).replace(tzinfo=None)) < (
        timedelta(minutes=1)
    )
    assert journal == "wal"
    assert schema_is_current(f"sqlite:///{made}")


def test_an_existing_sqlite_index_is_not_remade_from_the_snapshot(tmp_path):
    path = tmp_path / "trove.db"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO roots (id, path, name, status, include_globs,"
            " exclude_globs, include_hidden, is_upload_target, created_at)"
            " VALUES ('r', '/x', 'x', 'online', '[]', '[]', 0, 0, '2026-01-01')"
        )
    assert create_from_snapshot(path, timeout_s=5) is False
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT path FROM roots").fetchall() == [("/x",)]


def test_processes_starting_together_make_one_sqlite_index(tmp_path):
    """A server and its workers start at the same moment on a new SQLite file: one makes the
    index, the others find it made."""
    url = f"sqlite:///{tmp_path / 'data' / 'trove.db'}"
    starting = [
        subprocess.Popen(
            [sys.executable, "-c", "import sys; from trove.db.migrate import upgrade;"
             " upgrade(sys.argv[1])", url],
            stderr=subprocess.PIPE, text=True,
        )
        for _ in range(3)
    ]  # fmt: skip
    failures = [p.stderr.read() for p in starting if p.wait(60) != 0]
    assert failures == []
    assert schema_is_current(url)
    with sqlite3.connect(tmp_path / "data" / "trove.db") as connection:
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (1,)
