"""Maintained counters: how many assets per library, type, status and liveness, and how many
step outcomes per step and status, kept by triggers so that the status and jobs endpoints a
browser polls every 2 s read a few rows instead of counting a million (models.AssetCount says
how each database keeps them).

Revision ID: 0011_counters
Revises: 0010_search
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_counters"
down_revision = "0010_search"
branch_labels = None
depends_on = None

ASSET_KEY = ("root_key", "asset_type", "status", "live")
STEP_KEY = ("step", "status")
# What each counter's key is, as SQL over a row of `assets` / `asset_steps`.
ASSET_KEY_SQL = {
    "root_key": "coalesce({row}.root_id, '')",
    "asset_type": "{row}.asset_type",
    "status": "{row}.status",
    "live": "CASE WHEN {row}.deleted_at IS NULL THEN 1 ELSE 0 END",
}
STEP_KEY_SQL = {"step": "{row}.step", "status": "{row}.status"}


def upgrade() -> None:
    key = sa.String(length=64)
    op.create_table(
        "asset_counts",
        sa.Column("root_key", sa.String(length=36), nullable=False),
        sa.Column("asset_type", key, nullable=False),
        sa.Column("status", key, nullable=False),
        sa.Column("live", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*ASSET_KEY),
    )
    op.create_table(
        "step_counts",
        sa.Column("step", key, nullable=False),
        sa.Column("status", key, nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*STEP_KEY),
    )
    op.create_table(
        "asset_count_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("root_key", sa.String(length=36), nullable=False),
        sa.Column("asset_type", key, nullable=False),
        sa.Column("status", key, nullable=False),
        sa.Column("live", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "step_count_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("step", key, nullable=False),
        sa.Column("status", key, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()
    _count_what_is_there()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, name in (("assets", "asset_counts"), ("asset_steps", "step_counts")):
            op.execute(f"DROP TRIGGER IF EXISTS {name}_changed ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}_changed()")
    else:
        for name in ("asset_counts", "step_counts"):
            for event in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_{event}")
    for table in ("step_count_deltas", "asset_count_deltas", "step_counts", "asset_counts"):
        op.drop_table(table)


def _count_what_is_there() -> None:
    asset_key = ", ".join(sql.format(row="assets") for sql in ASSET_KEY_SQL.values())
    op.execute(
        f"INSERT INTO asset_counts ({', '.join(ASSET_KEY)}, n) "
        f"SELECT {asset_key}, count(*) FROM assets GROUP BY {asset_key}"
    )
    op.execute(
        "INSERT INTO step_counts (step, status, n) "
        "SELECT step, status, count(*) FROM asset_steps GROUP BY step, status"
    )


def _values(keys: dict[str, str], row: str) -> str:
    return ", ".join(sql.format(row=row) for sql in keys.values())


def _sqlite_triggers() -> None:
    """SQLite has one writer at a time: the triggers add to the counters directly."""
    for counter, table, keys, columns in (
        ("asset_counts", "assets", ASSET_KEY_SQL, "root_id, asset_type, status, deleted_at"),
        ("step_counts", "asset_steps", STEP_KEY_SQL, "step, status"),
    ):
        names = ", ".join(keys)
        old, new = (
            f"INSERT INTO {counter} ({names}, n) VALUES ({_values(keys, row)}, {n}) "
            f"ON CONFLICT ({names}) DO UPDATE SET n = n + {n};"
            for row, n in (("old", -1), ("new", 1))
        )
        changed = " OR ".join(
            f"({sql.format(row='old')}) IS NOT ({sql.format(row='new')})" for sql in keys.values()
        )
        op.execute(f"CREATE TRIGGER {counter}_ai AFTER INSERT ON {table} BEGIN {new} END")
        op.execute(f"CREATE TRIGGER {counter}_ad AFTER DELETE ON {table} BEGIN {old} END")
        op.execute(
            f"CREATE TRIGGER {counter}_au AFTER UPDATE OF {columns} ON {table} "
            f"WHEN {changed} BEGIN {old} {new} END"
        )


def _postgresql_triggers() -> None:
    """Concurrent workers on PostgreSQL: a trigger that updated a shared counter row would
    make every writer wait for the others' commits (and deadlock when two touch two counters
    in opposite order). Each change appends a delta row instead; readers fold them into the
    counters (repositories/counters.py)."""
    for counter, table, keys in (
        ("asset_counts", "assets", ASSET_KEY_SQL),
        ("step_counts", "asset_steps", STEP_KEY_SQL),
    ):
        deltas = counter.replace("_counts", "_count_deltas")
        old, new = (
            f"INSERT INTO {deltas} ({', '.join(keys)}, n) VALUES ({_values(keys, row)}, {n});"
            for row, n in (("OLD", -1), ("NEW", 1))
        )
        changed = " OR ".join(
            f"({sql.format(row='OLD')}) IS DISTINCT FROM ({sql.format(row='NEW')})"
            for sql in keys.values()
        )
        op.execute(
            f"""
            CREATE FUNCTION {counter}_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {new}
                ELSIF TG_OP = 'DELETE' THEN
                    {old}
                ELSIF {changed} THEN
                    {old}
                    {new}
                END IF;
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            f"CREATE TRIGGER {counter}_changed AFTER INSERT OR DELETE OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {counter}_changed()"
        )
