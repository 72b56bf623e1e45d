"""The map's markers, scoped to what the viewer may see."""

from __future__ import annotations

from typing import Any

from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.places import MAX_MARKERS, Viewport
from trove.repositories.places import PlaceRepository


class PlacesService:
    def __init__(self, database: Database) -> None:
        self.database = database

    def markers(self, viewer: Viewer, viewport: Viewport) -> dict[str, Any]:
        with self.database.session() as session:
            cells = PlaceRepository(session).cells(viewer, viewport)
        return {
            "items": [
                {"lat": c.lat, "lon": c.lon, "count": c.count, "asset_id": c.asset_id}
                for c in cells
            ],
            "total": sum(c.count for c in cells),
            "cell_degrees": viewport.cell_degrees,
            "capped": len(cells) >= MAX_MARKERS,
        }
