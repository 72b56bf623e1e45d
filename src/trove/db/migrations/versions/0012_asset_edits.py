"""asset_edits: every saved edit list of an asset, in order (the editor's history).

The current list and its render are also in the asset's `edit` metadata namespace, so that
listings need no join; this table is what undo across saves and "revert to original" read.

Revision ID: 0012_asset_edits
Revises: 0011_counters
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012_asset_edits"
down_revision = "0011_counters"
branch_labels = None
depends_on = None

ID = sa.String(length=36)


def upgrade() -> None:
    op.create_table(
        "asset_edits",
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "edits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("asset_id", "version"),
    )


def downgrade() -> None:
    op.drop_table("asset_edits")
