"""The schema the migrations build is the schema the models describe, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from trove.db.engine import make_engine
from trove.db.migrate import HEAD_REVISION, MIGRATIONS_DIR, ensure_schema, schema_is_current
from trove.db.models import Base


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
            context = MigrationContext.configure(
                connection, opts={"include_name": _not_full_text_tables}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def _not_full_text_tables(name, type_, _parent_names):
    """SQLite's FTS5 tables (and their shadow tables) are the search index, made by the
    migration and kept by triggers: no ORM model describes them."""
    return not (type_ == "table" and name.startswith(("search_fts", "search_trigram")))


def test_an_owner_exists_from_the_first_run(database_url):
    ensure_schema(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            names = [row[0] for row in connection.exec_driver_sql("SELECT name FROM users")]
    finally:
        engine.dispose()
    assert names == ["owner"]
