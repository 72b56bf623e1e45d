"""Graph edges (seed 3.3): one adjacency table, indexed both ways."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from trove.db.models import Link
from trove.domain.ids import new_id
from trove.repositories._sql import insert_ignoring_conflicts, utcnow


def edge(source_id: str, target_id: str, relation: str, **extra: Any) -> dict[str, Any]:
    """A Link row for bulk inserts between assets."""
    return {
        "id": new_id(),
        "source_id": source_id,
        "source_type": "Asset",
        "target_id": target_id,
        "target_type": "Asset",
        "relation": relation,
        "weight": 1.0,
        "meta": {},
        "created_at": utcnow(),
        **extra,
    }


class LinkRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        insert_ignoring_conflicts(self.session, Link, rows)

    def neighbours(self, node_id: str) -> list[Link]:
        return list(
            self.session.scalars(
                select(Link)
                .where(or_(Link.source_id == node_id, Link.target_id == node_id))
                .order_by(Link.relation, Link.created_at)
            )
        )

    def incoming(self, node_id: str, relation: str) -> list[Link]:
        return list(
            self.session.scalars(
                select(Link).where(Link.target_id == node_id, Link.relation == relation)
            )
        )

    def delete_touching(self, node_ids: list[str]) -> None:
        """Orphan clean-up when nodes are dropped (seed 4.7, Integrity)."""
        self.session.execute(
            delete(Link).where(or_(Link.source_id.in_(node_ids), Link.target_id.in_(node_ids)))
        )
