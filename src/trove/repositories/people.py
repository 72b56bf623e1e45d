"""Reads for the People page: the faces the face step stored, the regions made of them, and
the Person entities those regions depict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from trove.db.models import Asset, Entity, Link
from trove.domain.access import Viewer
from trove.domain.enums import AssetType, Relation
from trove.repositories.access import visible_assets

PERSON = "Person"


class PeopleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def faces(self, viewer: Viewer) -> list[tuple[str, list[dict[str, Any]], dict[str, str]]]:
        """(picture id, its faces, its original's preview URNs) for each picture the viewer
        may see that has faces (and is not in the Trash).

        The metadata JSON is filtered here rather than in SQL (the two databases query JSON
        differently); a library of 100k photos reads its image rows once per call."""
        rows = self.session.execute(
            select(Asset.id, Asset.meta, Asset.thumbnails)
            .where(
                Asset.asset_type == AssetType.IMAGE,
                Asset.deleted_at.is_(None),
                visible_assets(viewer),
            )
            .order_by(Asset.id)
        )
        found = []
        for asset_id, meta, thumbnails in rows:
            faces = ((meta or {}).get("faces") or {}).get("faces") or []
            if faces:
                found.append((asset_id, faces, thumbnails or {}))
        return found

    def regions_on(self, parent_ids: Sequence[str]) -> list[tuple[str, str, list[float]]]:
        """(region id, parent id, bbox) of the regions drawn on these pictures."""
        if not parent_ids:
            return []
        rows = self.session.execute(
            select(Asset.id, Link.target_id, Asset.meta)
            .join(Link, Link.source_id == Asset.id)
            .where(
                Link.relation == Relation.EXTRACTED_FROM,
                Link.target_id.in_(list(parent_ids)),
                Asset.asset_type == AssetType.REGION,
            )
        )
        return [
            (region_id, parent, ((meta or {}).get("region") or {}).get("bbox") or [])
            for region_id, parent, meta in rows
        ]

    def depicted_people(self, source_ids: Sequence[str]) -> list[tuple[str, str]]:
        """(source id, Person id) of the `depicts` links from these nodes to people."""
        if not source_ids:
            return []
        rows = self.session.execute(
            select(Link.source_id, Link.target_id).where(
                Link.relation == Relation.DEPICTS,
                Link.source_id.in_(list(source_ids)),
                Link.target_type == PERSON,
            )
        )
        return [(s, t) for s, t in rows]

    def people(self, person_ids: Sequence[str] | None = None) -> list[Entity]:
        stmt = select(Entity).where(Entity.type == PERSON)
        if person_ids is not None:
            stmt = stmt.where(Entity.id.in_(list(person_ids)))
        return list(self.session.scalars(stmt.order_by(Entity.name, Entity.id)))

    def person_named(self, name: str) -> Entity | None:
        return self.session.scalars(
            select(Entity).where(Entity.type == PERSON, Entity.name == name).limit(1)
        ).first()

    def unlink_depicts(self, source_ids: Sequence[str], person_id: str) -> None:
        if source_ids:
            self.session.execute(
                delete(Link).where(
                    Link.relation == Relation.DEPICTS,
                    Link.source_id.in_(list(source_ids)),
                    Link.target_id == person_id,
                )
            )

    def delete_person(self, person_id: str) -> None:
        self.session.execute(delete(Link).where(Link.target_id == person_id))
        self.session.execute(delete(Link).where(Link.source_id == person_id))
        self.session.execute(delete(Entity).where(Entity.id == person_id, Entity.type == PERSON))
