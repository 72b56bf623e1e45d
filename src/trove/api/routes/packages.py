"""/api/dam/assets/{id}/install: run the configured install command for an app package.

Admin only: it runs a program on the server. The command is the `install_command` setting;
the request names the package and nothing else. Without a configured command: 404.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from trove.api.deps import AdminDep, ServicesDep
from trove.api.schemas import IdPath, errors

router = APIRouter(prefix="/api/dam/assets", tags=["assets"])


class InstallOut(BaseModel):
    asset_id: str
    status: str  # "queued": the outcome lands in the asset's metadata["install"]


@router.post(
    "/{asset_id}/install", status_code=202, response_model=InstallOut, responses=errors(404)
)
async def install_package(asset_id: IdPath, services: ServicesDep, viewer: AdminDep) -> InstallOut:
    queued = await services.installs.queue(asset_id, viewer=viewer)
    return InstallOut(asset_id=queued.asset_id, status=queued.status)
