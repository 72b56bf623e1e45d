"""Moving a test database to any schema revision, up or down, with Alembic."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from trove.db.engine import make_engine
from trove.db.migrate import MIGRATIONS_DIR
from trove.db.models import Base


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate_to(url: str, revision: str, *, down: bool = False) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def revisions_oldest_first() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def schema_differences(connection: Any) -> list[Any]:
    """What differs between the database's schema and the models (empty when they agree)."""
    context = MigrationContext.configure(connection, opts={"include_name": _described_by_models})
    return list(compare_metadata(context, Base.metadata))


# Indexes on an expression that differs by database (migrations 0015, 0018): the repository
# writes the same expressions, no ORM model describes them.
EXPRESSION_INDEXES = (
    "ix_assets_favorite",
    "ix_assets_rating",
    "ux_failure_counts_key",
    "ix_asset_steps_failed_messages",
)


def _described_by_models(name: str | None, type_: str, _parent_names: Any) -> bool:
    """SQLite's FTS5 tables (and their shadow tables) are the search index, made by the
    migration and kept by triggers: no ORM model describes them, nor the expression indexes."""
    if type_ == "index":
        return name not in EXPRESSION_INDEXES
    return not (type_ == "table" and (name or "").startswith(("search_fts", "search_trigram")))
