"""Initial schema: users (with the owner), roots, assets, tags, links, pipeline steps.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-24 12:09:28.068996
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Values of trove.db.models, frozen here as they were at this revision.
OWNER_ID = "00000000-0000-7000-8000-000000000001"
EXCEPTIONAL_ROWS = (
    "asset_type = 'collection' OR status NOT IN ('ready', 'processing') OR path_escaped"
)

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("source_type", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=36), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=False),
        sa.Column("relation", sa.String(length=64), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "target_id", "relation", name="uq_links_edge"),
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index("ix_links_target", ["target_id", "relation"], unique=False)

    op.create_table(
        "roots",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column(
            "path", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=False
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column(
            "include_globs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "exclude_globs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("include_hidden", sa.Boolean(), nullable=False),
        sa.Column("is_upload_target", sa.Boolean(), nullable=False),
        sa.Column("last_scan_at", sa.DateTime(), nullable=True),
        sa.Column(
            "last_scan",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("path"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("root_id", sa.String(length=36), nullable=True),
        sa.Column(
            "rel_path", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=True
        ),
        sa.Column("path_escaped", sa.Boolean(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=True),
        sa.Column("inode", sa.BigInteger(), nullable=True),
        sa.Column("device", sa.BigInteger(), nullable=True),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("mime_type", sa.String(length=255), nullable=True),
        sa.Column("is_virtual", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("storage_urn", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.Column("phash", sa.String(length=32), nullable=True),
        sa.Column("asset_type", sa.String(length=16), nullable=False),
        sa.Column("thumbnail_urn", sa.Text(), nullable=True),
        sa.Column(
            "thumbnails",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=True),
        sa.Column("timeline_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["root_id"], ["roots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("root_id", "rel_path", name="uq_assets_root_path"),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index("ix_assets_hash", ["hash"], unique=False)
        batch_op.create_index("ix_assets_mime", ["mime_type"], unique=False)
        batch_op.create_index("ix_assets_status", ["status"], unique=False)
        batch_op.create_index("ix_assets_timeline", ["timeline_at", "id"], unique=False)
        batch_op.create_index(
            "ix_assets_type_timeline", ["asset_type", "timeline_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_assets_scan_signature",
            ["root_id", "rel_path", "size", "mtime_ns", "inode"],
            unique=False,
            sqlite_where=sa.text(f"NOT ({EXCEPTIONAL_ROWS})"),
            postgresql_where=sa.text(f"NOT ({EXCEPTIONAL_ROWS})"),
        )
        batch_op.create_index(
            "ix_assets_exceptional",
            ["root_id"],
            unique=False,
            sqlite_where=sa.text(EXCEPTIONAL_ROWS),
            postgresql_where=sa.text(EXCEPTIONAL_ROWS),
        )

    op.create_table(
        "asset_steps",
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("asset_id", "step"),
    )
    with op.batch_alter_table("asset_steps", schema=None) as batch_op:
        batch_op.create_index("ix_asset_steps_step_status", ["step", "status"], unique=False)

    op.create_table(
        "asset_tags",
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("asset_id", "tag"),
    )
    with op.batch_alter_table("asset_tags", schema=None) as batch_op:
        batch_op.create_index("ix_asset_tags_tag", ["tag", "asset_id"], unique=False)

    # An owner exists from the first run; assets belong to it until there are more users.
    users = sa.table("users", sa.column("id"), sa.column("name"), sa.column("created_at"))
    op.bulk_insert(
        users,
        [{"id": OWNER_ID, "name": "owner", "created_at": datetime.now(UTC).replace(tzinfo=None)}],
    )


def downgrade() -> None:
    with op.batch_alter_table("asset_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_asset_tags_tag")

    op.drop_table("asset_tags")
    with op.batch_alter_table("asset_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_asset_steps_step_status")

    op.drop_table("asset_steps")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("ix_assets_exceptional")
        batch_op.drop_index("ix_assets_scan_signature")
        batch_op.drop_index("ix_assets_type_timeline")
        batch_op.drop_index("ix_assets_timeline")
        batch_op.drop_index("ix_assets_status")
        batch_op.drop_index("ix_assets_mime")
        batch_op.drop_index("ix_assets_hash")

    op.drop_table("assets")
    op.drop_table("users")
    op.drop_table("roots")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index("ix_links_target")

    op.drop_table("links")
