"""sidecar_files: the XMP and Takeout sidecars a scan saw beside pictures, with their size
and mtime, so that a rescan or the watcher notices one that changed, appeared or went and
has its picture read it again (services/sidecar_sync.py). Sidecars are not assets.

Revision ID: 0013_sidecar_files
Revises: 0012_asset_edits
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_sidecar_files"
down_revision = "0012_asset_edits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sidecar_files",
        sa.Column("root_id", sa.String(length=36), nullable=False),
        sa.Column(
            "rel_path", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=False
        ),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["root_id"], ["roots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("root_id", "rel_path"),
    )


def downgrade() -> None:
    op.drop_table("sidecar_files")
