"""/api/dam/assets: list, detail, edit, delete/restore, and the original file."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from trove.api.deps import ServicesDep, ViewerDep, WriterDep
from trove.api.originals import OpenFileResponse
from trove.api.schemas import (
    AssetDetail,
    AssetList,
    AssetPatchIn,
    IdPath,
    VirtualAssetIn,
    errors,
)
from trove.domain.filters import AssetFilters
from trove.services.assets import AssetPage, AssetPatch

router = APIRouter(prefix="/api/dam/assets", tags=["assets"])


@router.get("", response_model=AssetList)
def list_assets(
    filters: Annotated[AssetFilters, Query()], services: ServicesDep, viewer: ViewerDep
) -> AssetPage:
    """Assets matching every filter given that the caller may see, one page at a time
    (`trove ls` takes the same)."""
    return services.assets.list(filters, viewer=viewer)


@router.post("/virtual", status_code=201, response_model=AssetDetail, responses=errors(400, 413))
def create_virtual_asset(body: VirtualAssetIn, services: ServicesDep, viewer: WriterDep) -> dict:
    """An asset without a file (a note, a URL, a region...), owned by the caller: made by its
    type's driver from `data`; its pipeline runs next. 422 names the field of `data` that
    does not fit (or a referenced asset the caller cannot see)."""
    return services.ingest_virtual(body.asset_type, body.data, viewer=viewer)


@router.get("/{asset_id}", response_model=AssetDetail, responses=errors(404))
def get_asset(asset_id: IdPath, services: ServicesDep, viewer: ViewerDep) -> dict:
    return services.assets.get(asset_id, viewer=viewer)


@router.patch("/{asset_id}", response_model=AssetDetail, responses=errors(400, 403, 404, 413))
def update_asset(
    asset_id: IdPath, body: AssetPatchIn, services: ServicesDep, viewer: WriterDep
) -> dict:
    """403 for a viewer who may see the asset but not change it (domain/access.py: its owner,
    a writer of its library or an admin may), and when someone other than the owner or an
    admin changes `visibility`."""
    patch = AssetPatch(**body.model_dump(exclude_unset=True))
    return services.assets.update(asset_id, patch, viewer=viewer)


@router.delete("/{asset_id}", status_code=204, responses=errors(403, 404))
def delete_asset(
    asset_id: IdPath,
    services: ServicesDep,
    viewer: WriterDep,
    hard: bool = Query(
        default=False, description="Drop the record and its derivatives (its owner or an admin)."
    ),
) -> Response:
    services.assets.delete(asset_id, viewer=viewer, hard=hard)
    return Response(status_code=204)


@router.post("/{asset_id}/restore", response_model=AssetDetail, responses=errors(403, 404))
def restore_asset(asset_id: IdPath, services: ServicesDep, viewer: WriterDep) -> dict:
    return services.assets.restore(asset_id, viewer=viewer)


@router.get(
    "/{asset_id}/file",
    response_class=FileResponse,
    responses={
        200: {"content": {"*/*": {}}, "description": "The original's bytes (Range supported)."},
        **errors(404, 503),
    },
)
async def download_original(
    asset_id: IdPath,
    services: ServicesDep,
    viewer: ViewerDep,
    variant: Literal["original", "edited"] = Query(
        default="original",
        description="`edited`: the render of the asset's edits (the original when it has none).",
    ),
) -> FileResponse:
    original = await run_in_threadpool(
        partial(services.edits.file, asset_id, variant=variant, viewer=viewer)
    )
    return OpenFileResponse(original.file, filename=original.filename, mime_type=original.mime_type)
