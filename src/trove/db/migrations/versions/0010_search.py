"""Full-text search: `search_documents`, with FTS5 tables kept by triggers on SQLite and a
tsvector + pg_trgm index on PostgreSQL (models.SearchDocumentRow says why each). Documents
are built by the pipeline as each asset's pass finishes; `trove reindex-search` (or the first
search) fills them for an existing library.

Revision ID: 0010_search
Revises: 0009_timeline_source
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0010_search"
down_revision = "0009_timeline_source"
branch_labels = None
depends_on = None

FIELDS = (
    "name",
    "title",
    "tags",
    "folders",
    "description",
    "camera",
    "lens",
    "caption",
    "place",
    "labels",
    "people",
    "content",
    "extra",
)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "search_documents",
        sa.Column("doc_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        *[sa.Column(name, sa.Text(), nullable=False) for name in (*FIELDS, "substrings")],
        sa.Column("ext", sa.String(length=16), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("tsv", sa.Text().with_variant(TSVECTOR(), "postgresql"), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("doc_id"),
        sa.UniqueConstraint("asset_id"),
    )
    op.create_index("ix_search_documents_ext", "search_documents", ["ext"])
    op.create_index("ix_search_documents_geo", "search_documents", ["lat", "lon"])
    if postgresql:
        op.create_index(
            "ix_search_documents_tsv", "search_documents", ["tsv"], postgresql_using="gin"
        )
        op.create_index(
            "ix_search_documents_substrings",
            "search_documents",
            ["substrings"],
            postgresql_using="gin",
            postgresql_ops={"substrings": "gin_trgm_ops"},
        )
        return
    for name in ("ix_search_documents_tsv", "ix_search_documents_substrings"):
        column = "tsv" if name.endswith("tsv") else "substrings"
        op.create_index(name, "search_documents", [column], sqlite_where=sa.text("0"))
    _sqlite_full_text()


def _sqlite_full_text() -> None:
    columns = ", ".join(FIELDS)
    new = ", ".join(f"new.{c}" for c in FIELDS)
    old = ", ".join(f"old.{c}" for c in FIELDS)
    op.execute(
        f"CREATE VIRTUAL TABLE search_fts USING fts5({columns}, content='search_documents', "
        "content_rowid='doc_id', tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE VIRTUAL TABLE search_trigram USING fts5(substrings, "
        "content='search_documents', content_rowid='doc_id', tokenize='trigram')"
    )
    insert = (
        f"INSERT INTO search_fts (rowid, {columns}) VALUES (new.doc_id, {new}); "
        "INSERT INTO search_trigram (rowid, substrings) VALUES (new.doc_id, new.substrings);"
    )
    delete = (
        f"INSERT INTO search_fts (search_fts, rowid, {columns}) "
        f"VALUES ('delete', old.doc_id, {old}); "
        "INSERT INTO search_trigram (search_trigram, rowid, substrings) "
        "VALUES ('delete', old.doc_id, old.substrings);"
    )
    for name, event, body in (
        ("search_documents_ai", "INSERT", insert),
        ("search_documents_ad", "DELETE", delete),
        ("search_documents_au", "UPDATE", f"{delete} {insert}"),
    ):
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON search_documents BEGIN {body} END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS search_documents_{trigger}")
        op.execute("DROP TABLE IF EXISTS search_trigram")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_documents")
