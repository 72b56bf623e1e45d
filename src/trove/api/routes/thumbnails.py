"""/api/dam/assets/{id}/thumbnail/{size}: previews from the hash-addressed cache.

The URL the asset JSON gives carries `?v=<content hash prefix>`, so a response can be cached
for a year as immutable: new content means a new URL. Only by the browser: the same URL
answers each viewer by what they may see. A URL without `v` (typed by hand, built by a script)
names no version: what it shows changes with the file or an edit, so it is asked again each time.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.schemas import IdPath, ThumbnailSize, errors

router = APIRouter(prefix="/api/dam/assets", tags=["assets"])

# `private`: a shared cache (a reverse proxy) would serve a preview it kept for one viewer to
# another who may not see it, such as the collage of an album whose pictures they may not see.
IMMUTABLE = "private, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"

Version = Annotated[
    str | None,
    Query(
        alias="v",
        max_length=64,
        description="The preview's version, as the asset's `thumbnails` URLs give it: with it,"
        " the response may be kept as immutable.",
    ),
]


def preview_headers(version: str | None) -> dict[str, str]:
    return {"Cache-Control": IMMUTABLE if version else REVALIDATE}


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
    version: Version = None,
) -> FileResponse:
    path = await run_in_threadpool(
        partial(services.media.thumbnail, asset_id, size, viewer=viewer, variant=variant)
    )
    return FileResponse(path, media_type="image/webp", headers=preview_headers(version))
