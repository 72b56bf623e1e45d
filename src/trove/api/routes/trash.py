"""/api/dam/trash: deleted assets, to restore or to forget (services/trash.py says who may).

Forgetting drops Trove's record only: the file stays on disk, and if it is still inside a
library the next scan indexes it again as a new asset.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from trove.api.deps import ServicesDep, ViewerDep, WriterDep
from trove.api.schemas import AssetList, BulkIdsIn, Forgotten, IdPath, Restored, errors
from trove.domain.queries import MAX_LIMIT
from trove.services.assets import AssetPage

router = APIRouter(prefix="/api/dam/trash", tags=["trash"])


@router.get("", response_model=AssetList)
def list_trash(
    services: ServicesDep,
    viewer: ViewerDep,
    limit: int = Query(default=100, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(default=None, max_length=1000),
) -> AssetPage:
    """Deleted assets the caller may see, newest first; hidden everywhere else."""
    return services.trash.list(viewer=viewer, limit=limit, cursor=cursor)


@router.post("/restore", response_model=Restored, responses=errors(400, 413))
def restore(body: BulkIdsIn, services: ServicesDep, viewer: WriterDep) -> dict:
    """Back where they were, with their tags, albums and links. Ids not in the Trash (or not
    visible) are ignored: `restored` counts the rest."""
    return {"restored": services.trash.restore(body.ids, viewer=viewer)}


@router.delete("/{asset_id}", status_code=204, responses=errors(403, 404, 409))
def forget(asset_id: IdPath, services: ServicesDep, viewer: WriterDep) -> Response:
    """Forget one asset in the Trash: its record, links and cached previews go, never its
    file. The owner or an admin only (403); 409 when it is not in the Trash."""
    services.trash.forget(asset_id, viewer=viewer)
    return Response(status_code=204)


@router.delete("", response_model=Forgotten)
def empty_trash(services: ServicesDep, viewer: WriterDep) -> dict:
    """Forget everything in the Trash the caller may forget (their own; an admin: all)."""
    return {"forgotten": services.trash.empty(viewer=viewer)}
