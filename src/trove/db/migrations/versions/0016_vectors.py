"""`asset_vectors`: the meaning vectors in a narrow table for the in-memory vector index
(models.AssetVector says why), filled from the vectors assets already keep in their metadata;
and `ix_assets_months`, which answers the timeline rail's count per month from the index.

Revision ID: 0016_vectors
Revises: 0015_gallery_marks
"""

import base64
import binascii

import sqlalchemy as sa
from alembic import op

revision = "0016_vectors"
down_revision = "0015_gallery_marks"
branch_labels = None
depends_on = None

_BATCH = 2000
_BYTES = 384 * 2  # float16
MONTHS_COLUMNS = [
    "timeline_at",
    "timeline_source",
    "asset_type",
    "deleted_at",
    "owner_id",
    "visibility",
    "root_id",
]


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "asset_vectors",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("asset_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_assets_months", "assets", MONTHS_COLUMNS)
    _copy_existing(postgresql=postgresql)


def _copy_existing(*, postgresql: bool) -> None:
    bind = op.get_bind()
    path = (
        "metadata->'semantic'->>'vector'"
        if postgresql
        else "json_extract(metadata, '$.semantic.vector')"
    )
    rows = bind.execute(
        sa.text(f"SELECT id, {path} FROM assets WHERE {path} IS NOT NULL ORDER BY id")
    ).fetchall()
    for start in range(0, len(rows), _BATCH):
        batch = []
        for asset_id, text in rows[start : start + _BATCH]:
            try:
                vector = base64.b64decode(text)
            except (binascii.Error, ValueError):
                continue
            if len(vector) == _BYTES:
                batch.append({"asset_id": asset_id, "vector": vector})
        if batch:
            bind.execute(
                sa.text("INSERT INTO asset_vectors (asset_id, vector) VALUES (:asset_id, :vector)"),
                batch,
            )


def downgrade() -> None:
    op.drop_index("ix_assets_months", table_name="assets")
    op.drop_table("asset_vectors")
