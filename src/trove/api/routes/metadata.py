"""/api/dam/schemas: the metadata registry (every namespace's JSON Schema) and what each
virtual asset type takes."""

from __future__ import annotations

from fastapi import APIRouter

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.schemas import SchemaList

router = APIRouter(prefix="/api/dam/schemas", tags=["metadata"])


@router.get("", response_model=SchemaList)
def list_schemas(services: ServicesDep, viewer: ViewerDep) -> dict:
    """The same for every viewer: schemas are the server's, not anyone's data."""
    return services.drivers.describe()
