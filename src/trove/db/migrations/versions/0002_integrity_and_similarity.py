"""Integrity findings, verification and ctime of assets; root watch status; pHash LSH bands.

Revision ID: 0002_integrity_similarity
Revises: 0001_initial
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_integrity_similarity"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets") as batch_op:
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("ctime_ns", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("roots") as batch_op:
        batch_op.add_column(sa.Column("watch_status", sa.Text(), nullable=True))
    op.create_table(
        "integrity_findings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("expected_hash", sa.String(length=64), nullable=True),
        sa.Column("actual_hash", sa.String(length=64), nullable=True),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_integrity_findings_asset", "integrity_findings", ["asset_id", "resolved_at"]
    )
    op.create_table(
        "phash_bands",
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("asset_id", "band"),
    )
    op.create_index("ix_phash_bands_lookup", "phash_bands", ["band", "value"])


def downgrade() -> None:
    op.drop_index("ix_phash_bands_lookup", table_name="phash_bands")
    op.drop_table("phash_bands")
    op.drop_index("ix_integrity_findings_asset", table_name="integrity_findings")
    op.drop_table("integrity_findings")
    with op.batch_alter_table("roots") as batch_op:
        batch_op.drop_column("watch_status")
    with op.batch_alter_table("assets") as batch_op:
        batch_op.drop_column("ctime_ns")
        batch_op.drop_column("verified_at")
