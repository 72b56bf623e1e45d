"""/api/dam/assets/{id}/edits: the non-destructive editor's list (services/edits.py).

PUT replaces the list and answers the asset, its `thumbnails` now the edited render's and its
`version` one higher; DELETE reverts to the original (kept in the history, like any save).
Only images in a library can be edited; the original file is never written."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from trove.api.deps import ServicesDep, ViewerDep, WriterDep
from trove.api.schemas import AssetDetail, IdPath, errors
from trove.domain.edits import MAX_EDITS, EditOp

router = APIRouter(prefix="/api/dam/assets", tags=["edits"])


class EditsIn(BaseModel):
    """The whole list, in order; `[]` is the original."""

    model_config = ConfigDict(extra="forbid")

    edits: list[EditOp] = Field(max_length=MAX_EDITS)


class SavedEdits(BaseModel):
    version: int
    edits: list[EditOp]
    saved_at: str | None
    user_id: str | None = Field(description="Who saved it (null: Trove itself, an import).")


class EditsOut(BaseModel):
    asset_id: str
    version: int = Field(description="The asset's version now.")
    edits: list[EditOp] = Field(description="The current list.")
    history: list[SavedEdits] = Field(description="Every save, newest first (the last 100).")


@router.get("/{asset_id}/edits", response_model=EditsOut, responses=errors(404))
def get_edits(asset_id: IdPath, services: ServicesDep, viewer: ViewerDep) -> dict:
    return services.edits.get(asset_id, viewer=viewer)


@router.put(
    "/{asset_id}/edits", response_model=AssetDetail, responses=errors(400, 403, 404, 409, 503)
)
def save_edits(asset_id: IdPath, body: EditsIn, services: ServicesDep, viewer: WriterDep) -> dict:
    """422 names the operation and field that is out of range, or says the asset is not an
    image; 403 for a viewer who may see the picture but not change it (PATCH's rule); 409 when
    the image is not processed yet or cannot be decoded."""
    edits = [op.model_dump(mode="json") for op in body.edits]
    return services.edits.save(asset_id, edits, viewer=viewer)


@router.delete(
    "/{asset_id}/edits", response_model=AssetDetail, responses=errors(403, 404, 409, 503)
)
def revert_edits(asset_id: IdPath, services: ServicesDep, viewer: WriterDep) -> dict:
    """Back to the original: previews and downloads show it again."""
    return services.edits.revert(asset_id, viewer=viewer)
