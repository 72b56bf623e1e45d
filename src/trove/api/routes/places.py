"""/api/dam/places: what the map shows (geotagged assets, grouped by a grid fitted to the
zoom level, so the answer stays small however large the library)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.schemas import MapMarkers
from trove.domain.places import Viewport

router = APIRouter(prefix="/api/dam/places", tags=["places"])


@router.get("/markers", response_model=MapMarkers)
def map_markers(
    viewport: Annotated[Viewport, Query()], services: ServicesDep, viewer: ViewerDep
) -> dict:
    """Markers for the geotagged assets the viewer may see inside the viewport."""
    return services.places.markers(viewer, viewport)
