"""Each search document keeps its asset's `timeline_at`, copied when the document is written
and by a trigger when the asset's timeline changes, so that a search's matches in some months
are found without looking every match up in `assets` (AssetRepository: the months a sampled
rail missed): on PostgreSQL a btree index on it, whose ranges the planner ANDs with the text
index's bitmap. SQLite keeps the column in step but does not read it (its index is partial
over no row); its FTS5 update trigger now fires on a change of the text only.

A GIN index over (words, month) (btree_gin) was measured and left out: a free word is a
prefix query (`'canon':*`), and GIN gathers every lexeme of a prefix into one bitmap before
it narrows by the month, so `tsv @@ 'canon':* AND month = m` cost as much as the word alone
(1M assets: 34 ms for a month of `canon`, 2 ms for the exact lexeme; 0.5 s for `img_2019`,
its words' lexemes and its substring's trigrams).

Revision ID: 0019_search_timeline
Revises: 0018_status_tallies
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_search_timeline"
down_revision = "0018_status_tallies"
branch_labels = None
depends_on = None

INDEX = "ix_search_documents_timeline"
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
    op.add_column("search_documents", sa.Column("timeline_at", sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE search_documents d SET timeline_at = a.timeline_at "
            "FROM assets a WHERE a.id = d.asset_id"
        )
        op.create_index(INDEX, "search_documents", ["timeline_at"])
        _postgresql_trigger()
        return
    op.create_index(INDEX, "search_documents", ["timeline_at"], sqlite_where=sa.text("0"))
    _sqlite_text_trigger(f"UPDATE OF {', '.join((*FIELDS, 'substrings'))}")
    op.execute(
        "UPDATE search_documents SET timeline_at = "
        "(SELECT timeline_at FROM assets WHERE assets.id = search_documents.asset_id)"
    )
    op.execute(
        "CREATE TRIGGER search_documents_timeline AFTER UPDATE OF timeline_at ON assets "
        "WHEN old.timeline_at IS NOT new.timeline_at BEGIN "
        "UPDATE search_documents SET timeline_at = new.timeline_at WHERE asset_id = new.id; END"
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="search_documents")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS search_documents_timeline ON assets")
        op.execute("DROP FUNCTION IF EXISTS search_documents_timeline()")
    else:
        op.execute("DROP TRIGGER IF EXISTS search_documents_timeline")
        _sqlite_text_trigger("UPDATE")
    op.drop_column("search_documents", "timeline_at")


def _postgresql_trigger() -> None:
    op.execute(
        """
        CREATE FUNCTION search_documents_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE search_documents SET timeline_at = NEW.timeline_at WHERE asset_id = NEW.id;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER search_documents_timeline AFTER UPDATE OF timeline_at ON assets "
        "FOR EACH ROW WHEN (OLD.timeline_at IS DISTINCT FROM NEW.timeline_at) "
        "EXECUTE FUNCTION search_documents_timeline()"
    )


def _sqlite_text_trigger(event: str) -> None:
    """0010_search's FTS5 update trigger, on `event`."""
    columns = ", ".join(FIELDS)
    new = ", ".join(f"new.{c}" for c in FIELDS)
    old = ", ".join(f"old.{c}" for c in FIELDS)
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
    op.execute("DROP TRIGGER IF EXISTS search_documents_au")
    op.execute(
        f"CREATE TRIGGER search_documents_au AFTER {event} ON search_documents "
        f"BEGIN {delete} {insert} END"
    )
