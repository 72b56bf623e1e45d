"""/api/dam/assets/{id}/thumbnail/{size}: previews from the hash-addressed cache.

The URL the asset JSON gives carries `?v=<content hash prefix>`, so a response can be cached
for a year as immutable: new content means a new URL. Only by the browser: the same URL
answers each viewer by what they may see.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.schemas import IdPath, ThumbnailSize, errors

router = APIRouter(prefix="/api/dam/assets", tags=["assets"])

# `private`: a shared cache (a reverse proxy) would serve a preview it kept for one viewer to
# another who may not see it, such as the collage of an album whose pictures they may not see.
IMMUTABLE = "private, max-age=31536000, immutable"


@router.get(
    "/{asset_id}/thumbnail/{size}",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/webp": {}}, "description": "A WebP preview."},
        **errors(404),
    },
)
async def thumbnail(
    asset_id: IdPath,
    size: ThumbnailSize,
    services: ServicesDep,
    viewer: ViewerDep,
    variant: Literal["edited", "original"] = Query(
        default="edited", description="`original`: the original's preview of an edited image."
    ),
) -> FileResponse:
    path = await run_in_threadpool(
        partial(services.media.thumbnail, asset_id, size, viewer=viewer, variant=variant)
    )
    return FileResponse(path, media_type="image/webp", headers={"Cache-Control": IMMUTABLE})
