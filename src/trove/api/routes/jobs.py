"""/api/dam/jobs: pipeline progress per step (queued / running / done / failed, throughput)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.schemas import Jobs

router = APIRouter(prefix="/api/dam", tags=["jobs"])


@router.get("/jobs", response_model=Jobs)
async def pipeline_jobs(services: ServicesDep, viewer: ViewerDep) -> dict:
    """How busy the pipeline is, for everyone signed in: counts per step, no names or ids
    (the outcome counts, the whole index's, to an admin only)."""
    return await run_in_threadpool(services.media.jobs, viewer=viewer)
