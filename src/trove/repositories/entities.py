"""Entities: the graph's nodes that are not files (a Person, a Project, a Machine)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from trove.db.models import Entity
from trove.repositories._sql import utcnow


class EntityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *, type: str, name: str, metadata: dict[str, Any]) -> Entity:
        now = utcnow()
        entity = Entity(type=type, name=name, meta=metadata, created_at=now, updated_at=now)
        self.session.add(entity)
        self.session.flush()
        return entity

    def get_many(self, entity_ids: Sequence[str]) -> list[Entity]:
        if not entity_ids:
            return []
        return list(self.session.scalars(select(Entity).where(Entity.id.in_(list(entity_ids)))))

    def list(
        self, *, type: str | None, limit: int, after: tuple[str, str, str] | None
    ) -> list[Entity]:
        """By (type, name, id), after the cursor key."""
        stmt = select(Entity)
        if type:
            stmt = stmt.where(Entity.type == type)
        if after is not None:
            stmt = stmt.where(tuple_(Entity.type, Entity.name, Entity.id) > tuple_(*after))
        stmt = stmt.order_by(Entity.type, Entity.name, Entity.id).limit(limit)
        return list(self.session.scalars(stmt))
