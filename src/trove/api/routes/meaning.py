"""/api/dam/search/meaning: the blended search of `GET /api/dam/assets?q=` (words and
meaning, services/semantic.py) with each result's scores, over what the caller may see.
Answers 422 while `ai_semantic` is off."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.schemas import AssetOut

router = APIRouter(prefix="/api/dam/search", tags=["search"])


class MeaningHit(AssetOut):
    score: float  # reciprocal rank fusion of the words' rank and the meaning's
    lexical: float
    semantic: float


class MeaningResults(BaseModel):
    items: list[MeaningHit]


@router.get("/meaning", response_model=MeaningResults)
def search_by_meaning(
    services: ServicesDep,
    viewer: ViewerDep,
    q: str = Query(min_length=1, max_length=500),
    limit: int = Query(default=50, ge=1, le=200),
) -> dict:
    """The best matches for `q` by meaning and words, best first."""
    return {"items": services.assets.by_meaning(q, viewer=viewer, limit=limit)}
