"""The knowledge graph: entities, ordered links, inherited tags, indexes for paging either way.

Revision ID: 0004_graph
Revises: 0003_pipeline_leases
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004_graph"
down_revision = "0003_pipeline_leases"
branch_labels = None
depends_on = None

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("links") as batch_op:
        batch_op.add_column(sa.Column("position", sa.Float(), nullable=True))
        batch_op.drop_index("ix_links_target")
        batch_op.create_index("ix_links_target", ["target_id", "relation", "source_id"])
        batch_op.create_index("ix_links_source", ["source_id", "relation", "target_id"])
    op.create_index(
        "ix_links_position",
        "links",
        ["source_id", "relation", "position"],
        sqlite_where=sa.text("position IS NOT NULL"),
        postgresql_where=sa.text("position IS NOT NULL"),
    )
    op.create_table(
        "entities",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("metadata", JsonType, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_entities_type_name", "entities", ["type", "name"])
    op.create_table(
        "inherited_tags",
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("asset_id", "tag", "source_id"),
    )
    op.create_index("ix_inherited_tags_tag", "inherited_tags", ["tag", "asset_id"])
    op.create_index("ix_inherited_tags_source", "inherited_tags", ["source_id", "tag"])


def downgrade() -> None:
    op.drop_table("inherited_tags")
    op.drop_index("ix_entities_type_name", table_name="entities")
    op.drop_table("entities")
    op.drop_index("ix_links_position", table_name="links")
    with op.batch_alter_table("links") as batch_op:
        batch_op.drop_index("ix_links_source")
        batch_op.drop_index("ix_links_target")
        batch_op.create_index("ix_links_target", ["target_id", "relation"])
        batch_op.drop_column("position")
