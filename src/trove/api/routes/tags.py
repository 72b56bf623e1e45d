"""/api/dam/tags: the tags in use, most used first (the gallery's tag filter)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.schemas import TagList

router = APIRouter(prefix="/api/dam", tags=["assets"])


@router.get("/tags", response_model=TagList)
def list_tags(
    services: ServicesDep, viewer: ViewerDep, limit: int = Query(default=200, ge=1, le=5000)
) -> dict:
    """Counted over the assets the caller may see."""
    return {"items": services.assets.tag_counts(viewer=viewer, limit=limit)}
