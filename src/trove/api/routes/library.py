"""/api/dam/roots and /api/dam/status: libraries, scans and processing progress."""

from __future__ import annotations

from fastapi import APIRouter

from trove.api.deps import AdminDep, ServicesDep, ViewerDep
from trove.api.schemas import IdPath, LibraryStatus, RootIn, RootList, RootOut, errors

router = APIRouter(prefix="/api/dam", tags=["library"])


@router.get("/status", response_model=LibraryStatus)
def library_status(services: ServicesDep, viewer: ViewerDep) -> dict:
    """The libraries the caller is shown (all for an admin, the assigned ones for a member)
    and counts over the assets they see."""
    return services.status(viewer=viewer)


@router.get("/roots", response_model=RootList)
def list_roots(services: ServicesDep, viewer: ViewerDep) -> dict:
    """Every library for an admin; for a member, the libraries assigned to them."""
    return {"items": services.library.status(viewer=viewer)["roots"]}


@router.post(
    "/roots", status_code=202, response_model=RootOut, responses=errors(400, 403, 409, 413)
)
def add_root(body: RootIn, services: ServicesDep, _admin: AdminDep) -> dict:
    """409 when the folder holds the files of a library whose folder is gone: relocate that
    library (`POST /roots/{id}/relocate`) or send `as_new` to add it as another (`GET
    /roots/relocation-offer` says which). Also 409, which `as_new` does not change, when the
    folder is inside a library or holds one: a file belongs to one library."""
    return services.library.add_requested_root(
        body.path, indexer=services.indexer, as_new=body.as_new
    )


@router.post(
    "/roots/{root_id}/scan", status_code=202, response_model=RootOut, responses=errors(404)
)
def scan_root(root_id: IdPath, services: ServicesDep, _admin: AdminDep) -> dict:
    return services.library.request_rescan(root_id, indexer=services.indexer)
