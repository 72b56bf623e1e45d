"""/api/dam/duplicates and /api/dam/integrity: logical dedup and the bitrot check (seed 4.6)."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from trove.api.deps import AdminDep, ServicesDep, ViewerDep
from trove.api.schemas import DuplicateList, FindingList, VerifyStarted
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
