"""Operations: /api/dam/health for load balancers and people, /metrics for Prometheus."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from trove.api.deps import AdminDep, ServicesDep, current_viewer, public_access
from trove.api.schemas import Health
from trove.domain.access import Viewer
from trove.services.metrics import CONTENT_TYPE, render_metrics

router = APIRouter(tags=["operations"])


@router.get(
    "/api/dam/health",
    response_model=Health,
    dependencies=[Depends(public_access)],
    responses={503: {"model": Health, "description": "The database or broker is down."}},
)
async def health(
    services: ServicesDep, viewer: Annotated[Viewer, Depends(current_viewer)], response: Response
) -> dict:
    """Open to anyone (a container health check has no account); names and paths of the
    libraries only for an admin."""
    report = await run_in_threadpool(services.health.check, with_roots=viewer.is_admin)
    if report["status"] == "down":
        response.status_code = 503
    return report


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(services: ServicesDep, _admin: AdminDep) -> Response:
    """Admins only (a Prometheus scrape job sends an admin's read token as Bearer)."""
    body = await run_in_threadpool(render_metrics, services)
    return Response(body, media_type=CONTENT_TYPE)
