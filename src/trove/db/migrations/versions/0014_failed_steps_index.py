"""A partial index of failed step outcomes: the libraries page lists why files failed, per
library, on every refresh, without reading the millions of outcomes that succeeded.

Revision ID: 0014_failed_steps_index
Revises: 0013_sidecar_files
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_failed_steps_index"
down_revision = "0013_sidecar_files"
branch_labels = None
depends_on = None

FAILED = sa.text("status = 'failed'")


def upgrade() -> None:
    op.create_index(
        "ix_asset_steps_failed",
        "asset_steps",
        ["asset_id"],
        sqlite_where=FAILED,
        postgresql_where=FAILED,
    )


def downgrade() -> None:
    op.drop_index("ix_asset_steps_failed", table_name="asset_steps")
