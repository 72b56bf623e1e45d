"""/api/dam/assets: list, detail, edit, delete/restore, and the original file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from trove.api.deps import ServicesDep
from trove.api.originals import OpenFileResponse
from trove.api.schemas import AssetList, AssetPatchIn
from trove.domain.queries import MAX_LIMIT, AssetQuery, parse_date_bound
from trove.services.assets import AssetPatch

router = APIRouter(prefix="/api/dam/assets", tags=["assets"])

Multi = Annotated[list[str] | None, Query()]


@router.get("", response_model=AssetList)
def list_assets(
    services: ServicesDep,
    type: Multi = None,
    status: Multi = None,
    tag: Multi = None,
    root: str | None = None,
    path: str | None = Query(default=None, description="Relative path prefix within a root."),
    mime: str | None = Query(default=None, description="A MIME type, or `image/*`."),
    deleted: bool = Query(default=False, description="List soft-deleted assets instead."),
    q: str | None = Query(default=None, description="Substring of the file name or title."),
    since: str | None = Query(default=None, description="Timeline from this ISO date/time."),
    until: str | None = Query(default=None, description="Timeline through this ISO date."),
    sort: str = "-timeline_at",
    limit: int = Query(default=100, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
) -> dict:
    query = AssetQuery(
        asset_types=tuple(type or ()),
        statuses=tuple(status or ()),
        tags=tuple(tag or ()),
        root_id=root,
        path_prefix=path,
        mime=mime,
        text=q,
        since=parse_date_bound(since, end=False),
        until=parse_date_bound(until, end=True),
        only_deleted=deleted,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    items, next_cursor = services.assets.list(query)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{asset_id}")
def get_asset(asset_id: str, services: ServicesDep) -> dict:
    return services.assets.get(asset_id)


@router.patch("/{asset_id}")
def update_asset(asset_id: str, body: AssetPatchIn, services: ServicesDep) -> dict:
    return services.assets.update(asset_id, AssetPatch(**body.model_dump(exclude_unset=True)))


@router.delete("/{asset_id}", status_code=204)
def delete_asset(
    asset_id: str,
    services: ServicesDep,
    hard: bool = Query(default=False, description="Drop the record and its derivatives."),
) -> Response:
    services.assets.delete(asset_id, hard=hard)
    return Response(status_code=204)


@router.post("/{asset_id}/restore")
def restore_asset(asset_id: str, services: ServicesDep) -> dict:
    return services.assets.restore(asset_id)


@router.get("/{asset_id}/file", response_class=FileResponse)
async def download_original(asset_id: str, services: ServicesDep) -> FileResponse:
    original = await run_in_threadpool(services.assets.original, asset_id)
    return OpenFileResponse(original.file, filename=original.filename, mime_type=original.mime_type)
