"""Accounts and access: passwords and roles on users, library owners and members, API tokens,
sessions, grants of an asset (or album) to a user, and share links.

The placeholder user of 0001 (id ...0001, who owns everything indexed so far) stays: the first
admin created claims it, so a library indexed before accounts existed belongs to that admin.

Revision ID: 0008_accounts_and_access
Revises: 0007_inherited_tags_unchecked
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_accounts_and_access"
down_revision = "0007_inherited_tags_unchecked"
branch_labels = None
depends_on = None

OWNER_ID = "00000000-0000-7000-8000-000000000001"
ID = sa.String(length=36)


def _user_key(column: str = "user_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["users.id"], ondelete="CASCADE")


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of `users` or `roots` would drop tables that others
    # reference. roots.owner_id carries no FOREIGN KEY for the same reason (SQLite cannot add
    # one to an existing table); users are never deleted while they own a library.
    op.add_column("users", sa.Column("password_hash", sa.Text(), nullable=True))
    op.add_column(
        "users", sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("users", sa.Column("disabled_at", sa.DateTime(), nullable=True))
    op.add_column("users", sa.Column("upload_quota", sa.BigInteger(), nullable=True))
    op.add_column("roots", sa.Column("owner_id", ID, nullable=False, server_default=OWNER_ID))
    op.create_table(
        "root_members",
        sa.Column("root_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("can_write", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(["root_id"], ["roots.id"], ondelete="CASCADE"),
        _user_key(),
        sa.PrimaryKeyConstraint("root_id", "user_id"),
    )
    op.create_index("ix_root_members_user", "root_members", ["user_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        _user_key(),
    )
    op.create_table(
        "sessions",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        _user_key(),
    )
    op.create_table(
        "asset_grants",
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        _user_key(),
        sa.PrimaryKeyConstraint("asset_id", "user_id"),
    )
    op.create_index("ix_asset_grants_user", "asset_grants", ["user_id"])
    op.create_table(
        "shares",
        sa.Column("id", ID, primary_key=True),
        sa.Column("token", sa.String(length=64), nullable=False, unique=True),
        sa.Column("asset_id", ID, nullable=False),
        sa.Column("is_album", sa.Boolean(), nullable=False),
        sa.Column("created_by", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("allow_download", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("view_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        _user_key("created_by"),
    )
    op.create_index("ix_assets_owner", "assets", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_assets_owner", table_name="assets")
    for table in ("shares", "asset_grants", "sessions", "api_tokens", "root_members"):
        op.drop_table(table)
    op.drop_column("roots", "owner_id")
    for column in ("upload_quota", "disabled_at", "is_admin", "password_hash"):
        op.drop_column("users", column)
