"""/api/dam/search/meaning: search by meaning blended with the words (services/semantic.py),
over what the caller may see. Answers 422 while `ai_semantic` is off."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.schemas import AssetOut

router = APIRouter(prefix="/api/dam/search", tags=["search"])


class MeaningHit(AssetOut):
    score: float  # the blend: half the word rank score, half the cosine
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
    return {"items": services.semantic.search(q, viewer=viewer, limit=limit)}
