"""/api/dam/search: what the search box offers as you type (the search itself is
`GET /api/dam/assets?q=`, so that it answers like the listing)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.schemas import Suggestions
from trove.services.search import MAX_SUGGESTIONS

router = APIRouter(prefix="/api/dam/search", tags=["search"])


@router.get("/suggestions", response_model=Suggestions)
def suggestions(
    services: ServicesDep,
    viewer: ViewerDep,
    q: Annotated[str, Query(max_length=200, description="What has been typed so far.")],
    limit: Annotated[int, Query(ge=1, le=MAX_SUGGESTIONS, description="Per kind.")] = 5,
) -> dict:
    """Tags, albums, people, cameras and places with a word starting with `q`."""
    return {"items": [s.as_dict() for s in services.search.suggestions(viewer, q, limit=limit)]}
