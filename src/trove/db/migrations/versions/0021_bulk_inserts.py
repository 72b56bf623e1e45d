"""`bulk_inserts`: new assets whose rows a scan writes in bulk, so that SQLite's row triggers
skip them and the writer does their work once per batch (repositories/bulk_inserts.py).

A scan of 20,000 small files spent 3.6 s of one core of this machine in the row triggers that
keep the counters and the two FTS5 indexes: an upsert per counter per row, and an FTS5 insert
per document (FTS5 writes rows given one statement at a time several times faster). Each
insert trigger now skips a row whose asset is listed here; the writer lists the new assets of
a batch, inserts them, adds their counts and index entries with one statement each, and
empties the list, all in the batch's transaction: no other connection ever sees a row in it.
PostgreSQL's triggers only append deltas (0011_counters) and its search index is a column:
the table is there, empty, and its triggers do not read it.

Revision ID: 0021_bulk_inserts
Revises: 0020_search_holders
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_bulk_inserts"
down_revision = "0020_search_holders"
branch_labels = None
depends_on = None

# The insert triggers (SQLite), with the column of their table that names the asset.
INSERT_TRIGGERS = (
    ("asset_counts_ai", "assets", "id"),
    ("month_counts_ai", "assets", "id"),
    ("step_counts_ai", "asset_steps", "asset_id"),
    ("processing_outcomes_ai", "asset_steps", "asset_id"),
    ("failure_counts_ai", "asset_steps", "asset_id"),
    ("search_documents_ai", "search_documents", "asset_id"),
)


def upgrade() -> None:
    op.create_table(
        "bulk_inserts",
        sa.Column("asset_id", sa.String(length=36), primary_key=True),
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, table, column in INSERT_TRIGGERS:
            _recreate(name, table, _guarded(_trigger_sql(name), column))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, table, column in INSERT_TRIGGERS:
            _recreate(name, table, _unguarded(_trigger_sql(name), column))
    op.drop_table("bulk_inserts")


def _guard(column: str) -> str:
    return f"NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = new.{column})"


def _guarded(sql: str, column: str) -> str:
    """`CREATE TRIGGER ... ON t [WHEN c] BEGIN` -> `... ON t WHEN [(c) AND] guard BEGIN`."""
    head, begin, body = sql.partition(" BEGIN ")
    on, when, condition = head.partition(" WHEN ")
    guard = f"({condition}) AND {_guard(column)}" if when else _guard(column)
    return f"{on} WHEN {guard}{begin}{body}"


def _unguarded(sql: str, column: str) -> str:
    head, begin, body = sql.partition(" BEGIN ")
    on, _when, condition = head.partition(" WHEN ")
    if condition == _guard(column):
        return f"{on}{begin}{body}"
    earlier = condition.removesuffix(f" AND {_guard(column)}")
    return f"{on} WHEN {earlier.removeprefix('(').removesuffix(')')}{begin}{body}"


def _trigger_sql(name: str) -> str:
    sql = op.get_bind().scalar(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
        {"name": name},
    )
    if sql is None:
        raise RuntimeError(f"trigger {name} is missing: the index was not made by Trove")
    return str(sql)


def _recreate(name: str, table: str, sql: str) -> None:
    assert sql.startswith(f"CREATE TRIGGER {name} AFTER INSERT ON {table} "), sql
    op.execute(f"DROP TRIGGER {name}")
    op.execute(sql)
