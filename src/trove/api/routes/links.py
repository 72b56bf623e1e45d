"""/api/dam/links and /api/dam/entities: making the graph's edges and its non-file nodes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from trove.api.deps import ServicesDep, ViewerDep, WriterDep
from trove.api.schemas import Id, IdPath, errors
from trove.services.links import MAX_ENTITY_NAME, MAX_PAGE

router = APIRouter(prefix="/api/dam", tags=["graph"])


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: Id
    target_id: Id
    relation: str = Field(min_length=1, max_length=64, description="A registered relation.")
    weight: float = Field(default=1.0, allow_inf_nan=False)
    metadata: dict[str, Any] = Field(default_factory=dict)
    position: float | None = Field(
        default=None, allow_inf_nan=False, description="Order among the source's edges."
    )


class LinkOut(BaseModel):
    id: str
    source_id: str
    source_type: str = Field(description='"Asset", or the entity\'s type ("Person", ...).')
    target_id: str
    target_type: str
    relation: str
    weight: float
    metadata: dict[str, Any]
    position: float | None
    created_at: str | None


class EntityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=64, description="Person, Project, Machine, ...")
    name: str = Field(min_length=1, max_length=MAX_ENTITY_NAME)
    metadata: dict[str, Any] = Field(default_factory=dict)


class EntityOut(BaseModel):
    id: str
    type: str
    name: str
    metadata: dict[str, Any]
    created_at: str


class EntityList(BaseModel):
    items: list[EntityOut]
    next_cursor: str | None


@router.post(
    "/links",
    status_code=201,
    response_model=LinkOut,
    responses={
        200: {"model": LinkOut, "description": "The same link existed already (idempotent)."},
        **errors(400, 403, 404, 409, 413),
    },
)
def create_link(
    body: LinkIn, services: ServicesDep, viewer: WriterDep, response: Response
) -> dict[str, Any]:
    """201 with the new link; 200 with the existing one when it was made before (for a
    symmetric relation, either way round). 404 for an unknown node, 409 for a self-link or a
    hierarchy cycle, 422 for an unknown relation (the detail lists the known ones)."""
    linked = services.links.link(
        body.source_id,
        body.target_id,
        body.relation,
        viewer=viewer,
        weight=body.weight,
        metadata=body.metadata,
        position=body.position,
    )
    if not linked.created:
        response.status_code = 200
    return linked.link


@router.delete("/links/{link_id}", status_code=204, responses=errors(403, 404))
def delete_link(link_id: IdPath, services: ServicesDep, viewer: WriterDep) -> Response:
    services.links.unlink(link_id, viewer=viewer)
    return Response(status_code=204)


@router.post("/entities", status_code=201, response_model=EntityOut, responses=errors(400, 413))
def create_entity(body: EntityIn, services: ServicesDep, _writer: WriterDep) -> dict[str, Any]:
    return services.links.create_entity(body.type, body.name, body.metadata)


@router.get("/entities", response_model=EntityList)
def list_entities(
    services: ServicesDep,
    _viewer: ViewerDep,
    type: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=100, ge=1, le=MAX_PAGE),
    cursor: str | None = Query(default=None, max_length=1000),
) -> dict[str, Any]:
    return services.links.list_entities(type=type, limit=limit, cursor=cursor)
