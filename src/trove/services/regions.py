"""Regions of a picture (seed 4.8, RegionDriver): drawn in the lightbox, listed in the
inspector. A region is a virtual asset made by its driver (`ingest_virtual`), linked
`extracted_from` its parent; it may `depicts` an entity (a Person) like any asset."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.enums import AssetType, Relation
from trove.repositories.assets import AssetRepository
from trove.repositories.entities import EntityRepository
from trove.repositories.links import LinkRepository
from trove.services.errors import Forbidden

if TYPE_CHECKING:
    from trove.services.assets import AssetService
    from trove.services.background import BackgroundIndexer

MAX_REGIONS = 500


class RegionService:
    def __init__(
        self, database: Database, *, assets: AssetService, indexer: BackgroundIndexer
    ) -> None:
        self.database = database
        self.assets = assets
        self.indexer = indexer

    def create(self, parent_id: str, bbox: list[float], *, viewer: Viewer) -> dict[str, Any]:
        """A new region of `parent_id` (one the viewer may see), its crop queued; as
        `regions_of` lists it."""
        if not viewer.can_write:
            raise Forbidden("this credential is read-only")
        data = {"parent_id": parent_id, "bbox": bbox}
        made = self.assets.ingest_virtual(AssetType.REGION, data, viewer=viewer)
        self.indexer.request_processing()
        return {"id": made["id"], "bbox": bbox, "title": made.get("title"), "depicts": []}

    def regions_of(self, parent_id: str, *, viewer: Viewer) -> list[dict[str, Any]]:
        """The regions drawn on a picture the viewer may see, oldest first, with the names
        of the entities each depicts."""
        with self.database.session() as session:
            links = LinkRepository(session)
            repo = AssetRepository(session)
            if repo.visible(parent_id, viewer) is None:
                return []
            ids = links.sources_of([parent_id], [Relation.EXTRACTED_FROM])[:MAX_REGIONS]
            regions = [
                a
                for a in (repo.visible(i, viewer) for i in ids)
                if a is not None and a.asset_type == AssetType.REGION
            ]
            regions.sort(key=lambda a: a.created_at)
            depicted = _depicted(session, [a.id for a in regions])
            return [
                {
                    "id": a.id,
                    "bbox": ((a.meta or {}).get("region") or {}).get("bbox") or [0, 0, 1, 1],
                    "title": a.title or None,
                    "depicts": depicted.get(a.id, []),
                }
                for a in regions
            ]


def _depicted(session: Any, region_ids: list[str]) -> dict[str, list[str]]:
    pairs = LinkRepository(session).pairs_from(region_ids, Relation.DEPICTS)
    entities = {e.id: e.name for e in EntityRepository(session).get_many([t for _, t in pairs])}
    found: dict[str, list[str]] = {}
    for source, target in pairs:
        if target in entities:
            found.setdefault(source, []).append(entities[target])
    return found
