"""Favourites, ratings and preferred copies.

Favourites and ratings stay in `metadata.gallery` (one place, kept by export and import); two
expression indexes on `assets` answer `is:favorite` and `rating:>=4` without reading every
row's JSON. repositories/search.py `gallery_mark` writes the same expressions (an index on an
expression is used only for that expression).

`preferred_copies`: for a set of identical files (one SHA-256), the copy a person chose to
show; the gallery stacks the others under it. No file is deleted.

Revision ID: 0015_gallery_marks
Revises: 0014_failed_steps_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_gallery_marks"
down_revision = "0014_failed_steps_index"
branch_labels = None
depends_on = None

EXPRESSIONS = {
    "sqlite": {
        "ix_assets_favorite": "json_extract(metadata, '$.gallery.favorite')",
        "ix_assets_rating": "json_extract(metadata, '$.gallery.rating')",
    },
    "postgresql": {
        "ix_assets_favorite": "(metadata -> 'gallery' ->> 'favorite')",
        "ix_assets_rating": "(metadata -> 'gallery' -> 'rating')",
    },
}


def upgrade() -> None:
    for name, expression in EXPRESSIONS[op.get_bind().dialect.name].items():
        op.execute(f"CREATE INDEX {name} ON assets (({expression}))")
    op.create_table(
        "preferred_copies",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("chosen_by", sa.String(length=36), nullable=True),
        sa.Column("chosen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hash"),
    )
    op.create_index("ix_preferred_copies_asset", "preferred_copies", ["asset_id"])


def downgrade() -> None:
    op.drop_index("ix_preferred_copies_asset", table_name="preferred_copies")
    op.drop_table("preferred_copies")
    for name in EXPRESSIONS[op.get_bind().dialect.name]:
        op.execute(f"DROP INDEX {name}")
