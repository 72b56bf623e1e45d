"""/api/dam/assets/bulk/...: what the gallery does to a multi-selection, one request each."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from trove.api.deps import ServicesDep

router = APIRouter(prefix="/api/dam/assets/bulk", tags=["assets"])

MAX_SELECTION = 10_000


class BulkTagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=MAX_SELECTION)
    tags: list[str] = Field(min_length=1, max_length=500)


class BulkIdsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=MAX_SELECTION)


@router.post("/tags")
def add_tags(body: BulkTagsIn, services: ServicesDep) -> dict:
    """Add tags to every listed asset (tags already there are kept)."""
    return {"updated": services.assets.add_tags_many(body.ids, body.tags)}


@router.post("/delete")
def soft_delete(body: BulkIdsIn, services: ServicesDep) -> dict:
    """Soft-delete every listed asset; each can be restored like a single delete."""
    return {"deleted": services.assets.delete_many(body.ids)}
