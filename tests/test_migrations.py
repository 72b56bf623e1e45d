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
