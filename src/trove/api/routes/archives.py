"""/api/dam/assets/{id}/entries/{index}: one entry of a texture pack, streamed from the
archive (never extracted), and a small preview of an image entry."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.originals import ORIGINAL_CSP
from trove.api.schemas import IdPath, errors

router = APIRouter(prefix="/api/dam/assets", tags=["assets"])

EntryIndex = Annotated[int, PathParam(ge=0, le=10_000_000, description="Central directory index")]


@router.get(
    "/{asset_id}/entries/{index}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The entry's bytes."},
        **errors(404, 503),
    },
)
async def download_entry(
    asset_id: IdPath, index: EntryIndex, services: ServicesDep, viewer: ViewerDep
) -> StreamingResponse:
    """One file of the archive, inflated as it is sent; always a download, never rendered."""
    entry = await run_in_threadpool(services.archives.entry, asset_id, index, viewer=viewer)
    quoted = quote(entry.filename)
    return StreamingResponse(
        entry.chunks,
        media_type=entry.mime_type,
        headers={
            "Content-Disposition": f"attachment; filename*=utf-8''{quoted}",
            "Content-Length": str(entry.size),
            "Content-Security-Policy": ORIGINAL_CSP,
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/{asset_id}/entries/{index}/preview",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/webp": {}}, "description": "A WebP preview of the entry."},
        **errors(404, 503),
    },
)
async def entry_preview(
    asset_id: IdPath, index: EntryIndex, services: ServicesDep, viewer: ViewerDep
) -> FileResponse:
    path = await run_in_threadpool(services.archives.entry_preview, asset_id, index, viewer=viewer)
    return FileResponse(
        path, media_type="image/webp", headers={"Cache-Control": "private, max-age=3600"}
    )
