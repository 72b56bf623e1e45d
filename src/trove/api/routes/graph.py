"""/api/dam/assets/{id}/neighbours: the asset's immediate neighbours in the graph (seed 3.3)."""

from __future__ import annotations

from fastapi import APIRouter

from trove.api.deps import ServicesDep
from trove.api.schemas import IdPath, NeighbourList, errors

router = APIRouter(prefix="/api/dam/assets", tags=["graph"])


@router.get("/{asset_id}/neighbours", response_model=NeighbourList, responses=errors(404))
def neighbours(asset_id: IdPath, services: ServicesDep) -> dict:
    return {"items": services.assets.neighbours(asset_id)}
