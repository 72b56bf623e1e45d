"""/api/dam/duplicates and /api/dam/integrity: logical dedup and the bitrot check (seed 4.6)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from trove.api.deps import AdminDep, ServicesDep, ViewerDep
from trove.api.schemas import (
    DuplicateList,
    FindingList,
    IdPath,
    PreferIn,
    Preferred,
    StackList,
    VerifyStarted,
    errors,
)
from trove.domain.queries import MAX_LIMIT

router = APIRouter(prefix="/api/dam", tags=["integrity"])


@router.get("/duplicates", response_model=DuplicateList)
async def list_duplicates(
    services: ServicesDep,
    _admin: AdminDep,
    root: str | None = Query(default=None, description="Only groups with a copy in this root."),
    limit: int = Query(default=100, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
) -> dict:
    """Groups of files with the same SHA-256, most wasted space first. Reported, never
    removed; each copy is also linked `duplicate_of` the group's first-indexed asset.
    Admins only: a group spans every library, and tidying them is library maintenance."""
    return await run_in_threadpool(
        services.integrity.duplicates, limit=limit, cursor=cursor, root_id=root
    )


@router.put("/duplicates/{content_hash}/preferred", response_model=Preferred, responses=errors(404))
def prefer_copy(
    content_hash: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
    body: PreferIn,
    services: ServicesDep,
    admin: AdminDep,
) -> dict:
    """Show this copy of the file in the gallery, the other copies stacked under it (no file
    is deleted). Admins only, as the duplicates are; 422 when it is not a copy of `hash`."""
    return services.stacks.prefer(content_hash, body.asset_id, viewer=admin)


@router.get("/assets/{asset_id}/stack", response_model=StackList, responses=errors(404))
def stack_members(asset_id: IdPath, services: ServicesDep, viewer: ViewerDep) -> dict:
    """The copies of this asset's file the caller sees, the preferred first: what its
    stacked tile in the gallery stands for."""
    return {"items": services.stacks.members(asset_id, viewer=viewer)}


@router.get("/integrity", response_model=FindingList)
async def list_findings(
    services: ServicesDep,
    viewer: ViewerDep,
    resolved: bool = Query(default=False, description="Include findings already resolved."),
    limit: int = Query(default=100, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
) -> dict:
    """Files whose bytes changed while their size and mtime did not (bitrot): expected and
    actual SHA-256 and when it was found."""
    return await run_in_threadpool(
        partial(
            services.integrity.findings,
            viewer=viewer,
            include_resolved=resolved,
            limit=limit,
            cursor=cursor,
        )
    )


@router.post("/integrity/verify", status_code=202, response_model=VerifyStarted)
def start_verify(services: ServicesDep, _admin: AdminDep) -> dict:
    """Start a (throttled) bitrot check of files not verified recently, in the background."""
    started = services.scavenger.verify_now() if services.scavenger is not None else False
    return {"started": started}
