"""Indexes over the folders' and albums' documents alone (those whose tsv holds
`kind:holder`, ~1% of a library), on PostgreSQL: the words' GIN and the substrings' trigram
GIN, partial on that mark. Which holders match a common word was found in the indexes of every
document: at 1M, `canon:*` read its 237k postings to find no holder (70-90 ms), `sunset`'s
substring built a bitmap of 101k documents (25-40 ms). SQLite numbers its holders' rowids
below zero and reads only those; there the indexes are partial over no row.

Revision ID: 0020_search_holders
Revises: 0019_search_timeline
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_search_holders"
down_revision = "0019_search_timeline"
branch_labels = None
depends_on = None

TSV = "ix_search_documents_holder_tsv"
SUBSTRINGS = "ix_search_documents_holder_substrings"
HOLDERS = "tsv @@ '''kind:holder'''::tsquery"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name, column in ((TSV, "tsv"), (SUBSTRINGS, "substrings")):
            op.create_index(name, "search_documents", [column], sqlite_where=sa.text("0"))
        return
    op.create_index(
        TSV,
        "search_documents",
        ["tsv"],
        postgresql_using="gin",
        postgresql_where=sa.text(HOLDERS),
    )
    op.create_index(
        SUBSTRINGS,
        "search_documents",
        ["substrings"],
        postgresql_using="gin",
        postgresql_ops={"substrings": "gin_trgm_ops"},
        postgresql_where=sa.text(HOLDERS),
    )


def downgrade() -> None:
    op.drop_index(SUBSTRINGS, table_name="search_documents")
    op.drop_index(TSV, table_name="search_documents")
