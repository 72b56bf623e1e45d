"""inherited_tags without foreign keys: the rows are derived, written 100k at a time when a
folder is tagged, and PostgreSQL checks a foreign key row by row (two checks cost about as
much as the insert itself). Rows of a deleted asset go with its links (LinkRepository).

Revision ID: 0007_inherited_tags_unchecked
Revises: 0006_injective_path_escaping
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_inherited_tags_unchecked"
down_revision = "0006_injective_path_escaping"
branch_labels = None
depends_on = None


def _table(name: str, *, checked: bool) -> None:
    keys = (
        [
            sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
            sa.ForeignKeyConstraint(["source_id"], ["assets.id"], ondelete="CASCADE"),
        ]
        if checked
        else []
    )
    op.create_table(
        name,
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=False),
        *keys,
        sa.PrimaryKeyConstraint("asset_id", "tag", "source_id"),
    )


def _rebuild(*, checked: bool) -> None:
    """Constraints cannot be dropped in place on SQLite: copy into a new table."""
    _table("inherited_tags_new", checked=checked)
    op.execute(
        "INSERT INTO inherited_tags_new (asset_id, tag, source_id) "
        "SELECT asset_id, tag, source_id FROM inherited_tags"
        + (
            ""
            if not checked
            else " WHERE asset_id IN (SELECT id FROM assets) "
            "AND source_id IN (SELECT id FROM assets)"
        )
    )
    op.drop_index("ix_inherited_tags_source", table_name="inherited_tags")
    op.drop_index("ix_inherited_tags_tag", table_name="inherited_tags")
    op.drop_table("inherited_tags")
    op.rename_table("inherited_tags_new", "inherited_tags")
    if op.get_bind().dialect.name == "postgresql":  # the key keeps the name it was made with
        op.execute("ALTER INDEX inherited_tags_new_pkey RENAME TO inherited_tags_pkey")
    op.create_index("ix_inherited_tags_tag", "inherited_tags", ["tag", "asset_id"])
    op.create_index("ix_inherited_tags_source", "inherited_tags", ["source_id", "tag"])


def upgrade() -> None:
    _rebuild(checked=False)


def downgrade() -> None:
    _rebuild(checked=True)
