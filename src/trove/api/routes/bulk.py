"""/api/dam/assets/bulk/...: what the gallery does to a multi-selection, one request each."""

from __future__ import annotations

from fastapi import APIRouter

from trove.api.deps import ServicesDep, WriterDep
from trove.api.schemas import BulkDeleted, BulkIdsIn, BulkTagged, BulkTagsIn, errors

router = APIRouter(prefix="/api/dam/assets/bulk", tags=["assets"])


@router.post("/tags", response_model=BulkTagged, responses=errors(400, 413))
def add_tags(body: BulkTagsIn, services: ServicesDep, viewer: WriterDep) -> dict:
    """Add tags to every listed asset the caller may see (tags already there are kept)."""
    return {"updated": services.assets.add_tags_many(body.ids, body.tags, viewer=viewer)}


@router.post("/delete", response_model=BulkDeleted, responses=errors(400, 413))
def soft_delete(body: BulkIdsIn, services: ServicesDep, viewer: WriterDep) -> dict:
    """Soft-delete every listed asset the caller may see; each can be restored like a single
    delete."""
    return {"deleted": services.assets.delete_many(body.ids, viewer=viewer)}
