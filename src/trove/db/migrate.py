"""Apply Alembic migrations on start, cheaply when the schema is already current.

Checking the revision costs one query over the bare driver; Alembic (and its imports) is only
loaded when an upgrade is actually due. A new SQLite index is made from the migrations' dump
instead (db/snapshot.py).
"""

from __future__ import annotations

from pathlib import Path

from trove.repositories import fast_index

HEAD_REVISION = "0022_root_device"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_LOCK = 0x7472_6F76_656D_6967  # pg_advisory_xact_lock key: "trove migrations"


def schema_is_current(url: str) -> bool:
    try:
        with fast_index.connect(url) as conn:
            return fast_index.schema_revision(conn) == HEAD_REVISION
    except fast_index.IndexUnavailable:
        return False


def ensure_schema(url: str) -> None:
    if not schema_is_current(url):
        upgrade(url)


def upgrade(url: str, *, from_snapshot: bool = True) -> None:
    """Bring the index at `url` to HEAD_REVISION; `from_snapshot=False` runs every migration
    on a new SQLite file too (what the snapshot is made from)."""
    if from_snapshot and _made_from_snapshot(url):
        return
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from trove.db.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # A server and its workers start together: one migrates, the others wait
                # and then find the schema current (SQLite's write lock does this itself).
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def _made_from_snapshot(url: str) -> bool:
    from trove.db.engine import BUSY_TIMEOUT_S, normalise_url
    from trove.db.snapshot import create_from_snapshot, sqlite_file

    path = sqlite_file(normalise_url(url))
    return path is not None and create_from_snapshot(path, timeout_s=BUSY_TIMEOUT_S)


def write_snapshot() -> None:
    """Migrate a new SQLite index in a temporary folder and keep its dump as the snapshot new
    indexes are made from (`make schema-snapshot`, after adding a migration)."""
    import sqlite3
    import tempfile

    from trove.db.snapshot import SNAPSHOT, dump

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "trove.db"
        upgrade(f"sqlite:///{path}", from_snapshot=False)
        with sqlite3.connect(path) as connection:
            SNAPSHOT.write_text(dump(connection), encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
