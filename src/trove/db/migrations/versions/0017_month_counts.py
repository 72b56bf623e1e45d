"""Maintained month counters: how many assets per timeline month, type, library and
liveness, kept by triggers as the counters of 0011_counters are, so that the gallery's
scrubber rail reads a few hundred rows instead of counting a million on every load
(models.MonthCount); a partial index of the `duplicate_of` edges, the copies the rail
takes away when copies are stacked; and a partial index of the assets no count shows (in
the trash, proxies), whose tags the tag counts take away from the tags' totals.

Revision ID: 0017_month_counts
Revises: 0016_vectors
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_month_counts"
down_revision = "0016_vectors"
branch_labels = None
depends_on = None

KEY = ("month", "asset_type", "root_key", "live")
# The month as AssetRepository.months() groups it: "" for an undated asset.
MONTH_SQL = {
    "sqlite": "substr({row}.timeline_at, 1, 7)",
    "postgresql": "to_char({row}.timeline_at, 'YYYY-MM')",
}


def _key_sql(dialect: str) -> dict[str, str]:
    month = MONTH_SQL[dialect]
    return {
        "month": f"CASE WHEN {{row}}.timeline_source = 'none' THEN '' "
        f"ELSE coalesce({month}, '') END",
        "asset_type": "{row}.asset_type",
        "root_key": "coalesce({row}.root_id, '')",
        "live": "CASE WHEN {row}.deleted_at IS NULL THEN 1 ELSE 0 END",
    }


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "month_counts",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("asset_type", sa.String(length=64), nullable=False),
        sa.Column("root_key", sa.String(length=36), nullable=False),
        sa.Column("live", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY),
    )
    op.create_table(
        "month_count_deltas",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("asset_type", sa.String(length=64), nullable=False),
        sa.Column("root_key", sa.String(length=36), nullable=False),
        sa.Column("live", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    duplicates = sa.text("relation = 'duplicate_of'")
    op.create_index(
        "ix_links_duplicates",
        "links",
        ["source_id", "target_id"],
        sqlite_where=duplicates,
        postgresql_where=duplicates,
    )
    set_aside = sa.text("deleted_at IS NOT NULL OR asset_type = 'proxy'")
    op.create_index(
        "ix_assets_set_aside",
        "assets",
        ["id"],
        sqlite_where=set_aside,
        postgresql_where=set_aside,
    )
    keys = _key_sql(dialect)
    if dialect == "postgresql":
        _postgresql_trigger(keys)
    else:
        _sqlite_triggers(keys)
    values = ", ".join(sql.format(row="assets") for sql in keys.values())
    op.execute(
        f"INSERT INTO month_counts ({', '.join(KEY)}, n) "
        f"SELECT {values}, count(*) FROM assets GROUP BY {values}"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS month_counts_changed ON assets")
        op.execute("DROP FUNCTION IF EXISTS month_counts_changed()")
    else:
        for event in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS month_counts_{event}")
    op.drop_index("ix_assets_set_aside", table_name="assets")
    op.drop_index("ix_links_duplicates", table_name="links")
    op.drop_table("month_count_deltas")
    op.drop_table("month_counts")


def _values(keys: dict[str, str], row: str) -> str:
    return ", ".join(sql.format(row=row) for sql in keys.values())


def _sqlite_triggers(keys: dict[str, str]) -> None:
    """As 0011_counters: SQLite's one writer adds to the counters directly."""
    names = ", ".join(keys)
    old, new = (
        f"INSERT INTO month_counts ({names}, n) VALUES ({_values(keys, row)}, {n}) "
        f"ON CONFLICT ({names}) DO UPDATE SET n = n + {n};"
        for row, n in (("old", -1), ("new", 1))
    )
    changed = " OR ".join(
        f"({sql.format(row='old')}) IS NOT ({sql.format(row='new')})" for sql in keys.values()
    )
    columns = "timeline_at, timeline_source, asset_type, root_id, deleted_at"
    op.execute(f"CREATE TRIGGER month_counts_ai AFTER INSERT ON assets BEGIN {new} END")
    op.execute(f"CREATE TRIGGER month_counts_ad AFTER DELETE ON assets BEGIN {old} END")
    op.execute(
        f"CREATE TRIGGER month_counts_au AFTER UPDATE OF {columns} ON assets "
        f"WHEN {changed} BEGIN {old} {new} END"
    )


def _postgresql_trigger(keys: dict[str, str]) -> None:
    """As 0011_counters: each change appends a delta row that readers fold in."""
    old, new = (
        f"INSERT INTO month_count_deltas ({', '.join(keys)}, n) VALUES ({_values(keys, row)}, {n});"
        for row, n in (("OLD", -1), ("NEW", 1))
    )
    changed = " OR ".join(
        f"({sql.format(row='OLD')}) IS DISTINCT FROM ({sql.format(row='NEW')})"
        for sql in keys.values()
    )
    op.execute(
        f"""
        CREATE FUNCTION month_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
        "CREATE TRIGGER month_counts_changed AFTER INSERT OR DELETE OR UPDATE OF "
        "timeline_at, timeline_source, asset_type, root_id, deleted_at ON assets "
        "FOR EACH ROW EXECUTE FUNCTION month_counts_changed()"
    )
