"""Unknown /api/ paths answer JSON 404 like every other API error.

NiceGUI's app is the root, and it answers unmatched paths with an HTML page; API clients
should never have to parse one. Included last, so every real route matches first.
"""

from __future__ import annotations

from fastapi import APIRouter

from trove.api.deps import PublicAccess
from trove.services.errors import NotFound

router = APIRouter(include_in_schema=False)


@router.api_route(
    "/api/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"],
    dependencies=[PublicAccess],
)
def unknown_api_path(rest: str) -> None:
    raise NotFound(f"no API endpoint /api/{rest}")
