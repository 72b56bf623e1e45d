"""/api/dam/timeline: the months of the gallery's timeline and how many assets each holds,
for the same filters the listing takes (the scrubber rail)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.schemas import TimelineOut
from trove.domain.filters import AssetFilters

router = APIRouter(prefix="/api/dam", tags=["assets"])


@router.get("/timeline", response_model=TimelineOut)
def timeline(
    filters: Annotated[AssetFilters, Query()], services: ServicesDep, viewer: ViewerDep
) -> dict[str, Any]:
    """Months newest first; `cursor`, `limit` and `sort` are ignored."""
    return services.assets.timeline(filters, viewer)
