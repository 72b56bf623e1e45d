"""roots.device: the file system (`st_dev`) a library's folder was on when its files were last
found there (services/scanner.py, `library_unavailable_reason`).

The mount point of a disk that is away is an empty folder on another file system; once an app
writes into it, a scan found no library of its own there and marked every file missing. With
the device known, a folder now on another one, none of whose files are there, is offline.
Libraries indexed before this revision have none until their next scan finds their files.

Revision ID: 0022_root_device
Revises: 0021_bulk_inserts
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_root_device"
down_revision = "0021_bulk_inserts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("roots", sa.Column("device", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("roots", "device")
