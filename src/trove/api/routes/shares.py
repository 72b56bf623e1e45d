"""/api/dam/shares (an owner's share links) and /api/dam/shared/{token}/... (a holder's view).

A holder reads exactly four things, each as `Viewer.share_holder(scope)` through the same
services and the same visibility predicate as a signed-in user: the share's assets (paged like
the asset list), one of them, its preview and, when the share allows downloads, its file.

A password-protected share is opened by `POST /api/dam/shared/{token}/unlock`, which answers
with a key and sets it as a cookie (`trove_share_<digest of the token>`, HttpOnly,
SameSite=Lax, a week); scripts may send the key as the `X-Trove-Share-Key` header instead.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from trove.api.deps import PublicAccess, ServicesDep, ViewerDep, WriterDep, client_address
from trove.api.originals import OpenFileResponse
from trove.api.routes.thumbnails import Version, preview_headers
from trove.api.schemas import Id, IdPath, ThumbnailSize, errors
from trove.domain.access import Viewer
from trove.domain.queries import MAX_LIMIT
from trove.services.shares import MAX_PASSWORD, cookie_name

router = APIRouter(prefix="/api/dam", tags=["shares"])

Token = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
KEY_HEADER = "X-Trove-Share-Key"


class ShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_id: Id | None = Field(default=None, description="Share this asset ...")
    album_id: Id | None = Field(default=None, description="... or this album and its assets.")
    expires_at: datetime | None = Field(default=None, description="When the link stops working.")
    password: str | None = Field(default=None, max_length=MAX_PASSWORD)
    allow_download: bool = Field(default=False, description="Whether originals can be fetched.")


class ShareOut(BaseModel):
    id: str
    token: str
    url: str = Field(description="The share page to hand out (anyone holding it sees the share).")
    kind: Literal["asset", "album"]
    asset_id: str | None
    album_id: str | None
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    has_password: bool
    allow_download: bool
    view_count: int = Field(description="How many times the share was opened.")


class ShareList(BaseModel):
    items: list[ShareOut]


class SharedAsset(BaseModel):
    """An asset as a share shows it: no library, path or owner."""

    id: str
    filename: str
    title: str | None
    description: str | None
    size: int | None
    mime_type: str | None
    asset_type: str
    width: int | None
    height: int | None
    duration: float | None
    captured_at: datetime | None
    thumbnails: dict[ThumbnailSize, str]
    file_url: str | None = Field(description="The original, when the share allows downloads.")


class SharedAssetList(BaseModel):
    items: list[SharedAsset]
    next_cursor: str | None


class UnlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=MAX_PASSWORD)


class Unlocked(BaseModel):
    key: str = Field(description=f"Send as the {KEY_HEADER} header (or keep the cookie).")


def share_holder(
    token: Token,
    request: Request,
    services: ServicesDep,
    key: Annotated[str | None, Header(alias=KEY_HEADER, max_length=128)] = None,
) -> Viewer:
    """The viewer the token in the path stands for (a password's key from the header or
    the share's cookie)."""
    return services.shares.holder(token, key=key or request.cookies.get(cookie_name(token)))


HolderDep = Annotated[Viewer, Depends(share_holder)]


# --- an owner's shares --------------------------------------------------------------------------


@router.post(
    "/shares", status_code=201, response_model=ShareOut, responses=errors(400, 403, 404, 413)
)
def create_share(body: ShareIn, services: ServicesDep, viewer: WriterDep) -> dict:
    """A link to one asset or one album the caller owns (an admin: any they see)."""
    return services.shares.create(viewer=viewer, **body.model_dump())


@router.get("/shares", response_model=ShareList)
def list_shares(services: ServicesDep, viewer: ViewerDep) -> dict:
    """The caller's share links, newest first, with their view counts (an admin: all)."""
    return {"items": services.shares.mine(viewer=viewer)}


@router.delete("/shares/{share_id}", status_code=204, responses=errors(404))
def revoke_share(share_id: IdPath, services: ServicesDep, viewer: WriterDep) -> Response:
    """The link stops working at once (410 for its holders)."""
    services.shares.revoke(share_id, viewer=viewer)
    return Response(status_code=204)


# --- a holder's view ----------------------------------------------------------------------------

holder_router = APIRouter(
    prefix="/api/dam/shared/{token}", tags=["shares"], dependencies=[PublicAccess]
)
HOLDER_ERRORS = errors(401, 404, 410)


@holder_router.post(
    "/unlock", response_model=Unlocked, responses=errors(400, 401, 404, 410, 413, 429)
)
def unlock_share(
    token: Token, body: UnlockIn, request: Request, services: ServicesDep, response: Response
) -> dict:
    """Open a password-protected share: the key comes back, and as a cookie. Five wrong
    passwords from one address lock it out of this share for 15 minutes (429)."""
    key = services.shares.unlock(token, body.password, client=client_address(request))
    response.set_cookie(
        cookie_name(token), key, httponly=True, samesite="lax", path="/", max_age=7 * 86400
    )
    return {"key": key}


@holder_router.get("/assets", response_model=SharedAssetList, responses=HOLDER_ERRORS)
def shared_assets(
    token: Token,
    services: ServicesDep,
    holder: HolderDep,
    limit: int = Query(default=100, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(default=None, max_length=1000),
) -> dict:
    """What the share holds, newest first, a page at a time (like the asset list)."""
    return services.shares.assets(token, viewer=holder, limit=limit, cursor=cursor)


@holder_router.get("/assets/{asset_id}", response_model=SharedAsset, responses=HOLDER_ERRORS)
def shared_asset(token: Token, asset_id: IdPath, services: ServicesDep, holder: HolderDep) -> dict:
    return services.shares.asset(token, asset_id, viewer=holder)


@holder_router.get(
    "/assets/{asset_id}/thumbnail/{size}",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/webp": {}}, "description": "A WebP preview."},
        **HOLDER_ERRORS,
    },
)
async def shared_thumbnail(
    asset_id: IdPath,
    size: ThumbnailSize,
    services: ServicesDep,
    holder: HolderDep,
    version: Version = None,
) -> FileResponse:
    """Private like every preview: a shared cache would go on serving it once the share is
    revoked or expires, and to one who holds the link but not a protected share's key."""
    path = await run_in_threadpool(partial(services.media.thumbnail, asset_id, size, viewer=holder))
    return FileResponse(path, media_type="image/webp", headers=preview_headers(version))


@holder_router.get(
    "/assets/{asset_id}/file",
    response_class=FileResponse,
    responses={
        200: {"content": {"*/*": {}}, "description": "The original's bytes (Range supported)."},
        **errors(401, 403, 404, 410, 503),
    },
)
async def shared_file(asset_id: IdPath, services: ServicesDep, holder: HolderDep) -> FileResponse:
    """403 when the share does not allow downloads."""
    original = await run_in_threadpool(partial(services.shares.original, asset_id, viewer=holder))
    return OpenFileResponse(original.file, filename=original.filename, mime_type=original.mime_type)
