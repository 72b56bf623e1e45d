"""The schema the migrations build is the schema the models describe, on both databases."""

from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.migrating import schema_differences
from trove.db.engine import make_engine
from trove.db.migrate import HEAD_REVISION, MIGRATIONS_DIR, ensure_schema, schema_is_current


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
    from trove.db.migrate import upgrade

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
