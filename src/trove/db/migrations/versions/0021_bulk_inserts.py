"""`bulk_inserts`: new assets whose rows a scan writes in bulk, so that SQLite's row triggers
skip them and the writer does their work once per batch (repositories/bulk_inserts.py).

A scan of 20,000 small files spent about 4 s of one core of this machine in the row triggers
that keep the counters and the two FTS5 indexes: an upsert per counter per row, and an FTS5
insert per document (FTS5 indexes documents given in one statement several times faster).
Each counter and index trigger now skips a row whose asset is listed here; the writer lists
the new assets of a batch, inserts them, adds their counts and index entries with one
statement each, and empties the list, all in the batch's transaction: no other connection
ever sees a row in it. The update and delete triggers skip listed rows too: a listed row
changed or deleted before the list is emptied is then counted as it stands at the end, once,
never subtracted before it was added (nor deleted from an FTS5 index it is not in yet).
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

# The counters' and the FTS5 indexes' triggers (SQLite), by table, with the column that names
# the asset. (search_documents_timeline only copies a date into the asset's document.)
_ASSET_COLUMN = {"assets": "id", "asset_steps": "asset_id", "search_documents": "asset_id"}
TRIGGERS = (
    *(
        (f"{counter}_{event}", "assets")
        for counter in ("asset_counts", "month_counts")
        for event in ("ai", "ad", "au")
    ),
    *(
        (f"{counter}_{event}", "asset_steps")
        for counter in ("step_counts", "processing_outcomes", "failure_counts")
        for event in ("ai", "ad", "au")
    ),
    *(
        (f"{tally}_file_{event}", "assets")
        for tally in ("processing_outcomes", "failure_counts")
        for event in ("au", "bd")
    ),
    *((f"search_documents_{event}", "search_documents") for event in ("ai", "ad", "au")),
)


def upgrade() -> None:
    op.create_table(
        "bulk_inserts",
        sa.Column("asset_id", sa.String(length=36), primary_key=True),
    )
    if op.get_bind().dialect.name == "sqlite":
        for name, table in TRIGGERS:
            sql = _trigger_sql(name, table)
            _recreate(name, _guarded(sql, _guard(sql, table)))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, table in TRIGGERS:
            sql = _trigger_sql(name, table)
            _recreate(name, _unguarded(sql, _guard(sql, table)))
    op.drop_table("bulk_inserts")


def _guard(sql: str, table: str) -> str:
    """The trigger's row is not a listed asset's (`old` in a delete trigger, else `new`)."""
    row = "old" if " DELETE ON " in sql.partition(" BEGIN ")[0] else "new"
    return f"NOT EXISTS (SELECT 1 FROM bulk_inserts WHERE asset_id = {row}.{_ASSET_COLUMN[table]})"


def _guarded(sql: str, guard: str) -> str:
    """`CREATE TRIGGER ... ON t [WHEN c] BEGIN` -> `... ON t WHEN [(c) AND] guard BEGIN`."""
    head, begin, body = sql.partition(" BEGIN ")
    on, when, condition = head.partition(" WHEN ")
    return f"{on} WHEN {f'({condition}) AND {guard}' if when else guard}{begin}{body}"


def _unguarded(sql: str, guard: str) -> str:
    head, begin, body = sql.partition(" BEGIN ")
    on, _when, condition = head.partition(" WHEN ")
    if condition == guard:
        return f"{on}{begin}{body}"
    earlier = condition.removesuffix(f" AND {guard}")
    return f"{on} WHEN {earlier.removeprefix('(').removesuffix(')')}{begin}{body}"


def _trigger_sql(name: str, table: str) -> str:
    sql = op.get_bind().scalar(
        sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"
            " AND tbl_name = :table"
        ),
        {"name": name, "table": table},
    )
    if sql is None or " BEGIN " not in sql:
        raise RuntimeError(f"trigger {name} is missing or unknown: the index was not made by Trove")
    return str(sql)


def _recreate(name: str, sql: str) -> None:
    op.execute(f"DROP TRIGGER {name}")
    op.execute(sql)
