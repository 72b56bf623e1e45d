"""Apply Alembic migrations on start, cheaply when the schema is already current.

Checking the revision costs one query over the bare driver; Alembic (and its imports) is only
loaded when an upgrade is actually due.
"""

from __future__ import annotations

from pathlib import Path

from trove.repositories import fast_index

HEAD_REVISION = "0020_search_holders"
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


def upgrade(url: str) -> None:
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
