"""Stored paths holding a character of U+10FF00..U+10FFFF take the injective escaping.

Before, the escape of an undecodable byte (U+10FF80 + byte) and the same character in a real
file name were stored alike, so two files could claim one (root, path) key. Now every such
literal character is written after the mark U+10FF00 (domain/paths.py). Rows without one of
these characters (all but a handful in any real library) are unchanged.

Revision ID: 0006_injective_path_escaping
Revises: 0004_graph
"""

import sqlalchemy as sa
from alembic import op

from trove.domain.paths import to_stored

revision = "0006_injective_path_escaping"
down_revision = "0004_graph"
branch_labels = None
depends_on = None

_BLOCK = "[\U0010ff00-\U0010ffff]"


def upgrade() -> None:
    bind = op.get_bind()
    match = "rel_path ~ :pattern" if bind.dialect.name == "postgresql" else "rel_path GLOB :pattern"
    pattern = _BLOCK if bind.dialect.name == "postgresql" else f"*{_BLOCK}*"
    rows = bind.execute(
        sa.text(f"SELECT id, rel_path, path_escaped, storage_urn FROM assets WHERE {match}"),
        {"pattern": pattern},
    ).fetchall()
    for asset_id, old, escaped, urn in rows:
        new, _ = to_stored(_decoded_as_before(old, escaped=bool(escaped)))
        if new == old:
            continue
        bind.execute(
            sa.text(
                "UPDATE assets SET rel_path = :rel, filename = :name, storage_urn = :urn,"
                " path_escaped = :escaped WHERE id = :id"
            ),
            {
                "id": asset_id,
                "rel": new,
                "name": new.rpartition("/")[2],
                "urn": urn[: -len(old)] + new if urn and urn.endswith(old) else urn,
                "escaped": True,
            },
        )


def downgrade() -> None:
    """Nothing to undo that the older code could read better: it cannot tell the two apart."""


def _decoded_as_before(stored: str, *, escaped: bool) -> str:
    """The name the earlier escaping meant (it mapped U+10FF80.. back to bytes, only when
    the row was flagged escaped)."""
    if not escaped:
        return stored
    return "".join(
        chr(0xDC00 + ord(c) - 0x10FF00) if "\U0010ff80" <= c <= "\U0010ffff" else c for c in stored
    )
