"""Pipeline leases (which worker holds which asset) and an index for step throughput.

Revision ID: 0003_pipeline_leases
Revises: 0002_integrity_similarity
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_pipeline_leases"
down_revision = "0002_integrity_similarity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_leases",
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("token", sa.String(length=36), nullable=True),
        sa.Column("step", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("kicked_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("asset_id"),
    )
    op.create_index("ix_pipeline_leases_state", "pipeline_leases", ["state", "expires_at"])
    op.create_index("ix_pipeline_leases_token", "pipeline_leases", ["token"])
    op.create_index("ix_asset_steps_updated", "asset_steps", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_asset_steps_updated", table_name="asset_steps")
    op.drop_index("ix_pipeline_leases_token", table_name="pipeline_leases")
    op.drop_index("ix_pipeline_leases_state", table_name="pipeline_leases")
    op.drop_table("pipeline_leases")
