"""/api/dam/graph: neighbours (paged), shortest paths and impact, all through LinkManager.
`/api/dam/assets/{id}/neighbours` is the same neighbour page, kept for the lightbox's callers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from trove.api.deps import ServicesDep, ViewerDep
from trove.api.routes.links import LinkOut
from trove.api.schemas import AssetOut, Id, IdPath, errors
from trove.services.links import (
    DEFAULT_IMPACT_DEPTH,
    DEFAULT_PAGE,
    DEFAULT_PATH_DEPTH,
    MAX_IMPACT_DEPTH,
    MAX_NEIGHBOR_DEPTH,
    MAX_PAGE,
    MAX_PATH_DEPTH,
)

router = APIRouter(tags=["graph"])

Relations = Annotated[
    list[str] | None,
    Query(max_length=50, description="Only these relations (repeat the parameter)."),
]
Direction = Literal["out", "in", "both"]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=1000)]


class NodeOut(BaseModel):
    id: str
    type: str = Field(description='"Asset", or the entity\'s type ("Person", ...).')
    name: str
    asset: AssetOut | None = Field(description="The asset as listings show it; null for an entity.")


class NeighborOut(BaseModel):
    node: NodeOut
    relation: str
    direction: Literal["out", "in"] = Field(
        description="Which way the last link points: out = from the node asked about (or, at "
        "depth > 1, from the node before) to this one."
    )
    link_id: str
    weight: float
    depth: int = Field(description="Links from the node asked about (1 = adjacent).")


class NeighborPage(BaseModel):
    items: list[NeighborOut]
    counts: dict[str, int] = Field(description="How many neighbours per relation, all pages.")
    next_cursor: str | None


class PathEdgeOut(LinkOut):
    direction: Literal["forward", "backward"] = Field(
        description="forward: the link points along the path; backward: against it."
    )


class PathOut(BaseModel):
    nodes: list[NodeOut]
    edges: list[PathEdgeOut]


class ImpactOut(BaseModel):
    counts: dict[str, int] = Field(description="Dependent nodes per relation, within depth.")
    types: dict[str, int] = Field(description="Dependent nodes per asset type or entity type.")
    items: list[NeighborOut]
    next_cursor: str | None


@router.get(
    "/api/dam/graph/neighbors/{node_id}", response_model=NeighborPage, responses=errors(404)
)
def neighbors(
    node_id: IdPath,
    services: ServicesDep,
    viewer: ViewerDep,
    relation: Relations = None,
    direction: Direction = "both",
    depth: Annotated[int, Query(ge=1, le=MAX_NEIGHBOR_DEPTH)] = 1,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return services.links.get_neighbors(
        node_id,
        relation,
        direction=direction,
        depth=depth,
        limit=limit,
        cursor=cursor,
        viewer=viewer,
    )


@router.get(
    "/api/dam/assets/{asset_id}/neighbours", response_model=NeighborPage, responses=errors(404)
)
def asset_neighbours(
    asset_id: IdPath,
    services: ServicesDep,
    viewer: ViewerDep,
    relation: Relations = None,
    direction: Direction = "both",
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The asset's adjacent nodes, one page: the same answer as /api/dam/graph/neighbors."""
    return services.links.get_neighbors(
        asset_id, relation, direction=direction, limit=limit, cursor=cursor, viewer=viewer
    )


@router.get("/api/dam/graph/path", response_model=PathOut, responses=errors(404))
def shortest_path(
    services: ServicesDep,
    viewer: ViewerDep,
    source: Annotated[Id, Query(alias="from")],
    target: Annotated[Id, Query(alias="to")],
    relation: Relations = None,
    max_depth: Annotated[int, Query(ge=1, le=MAX_PATH_DEPTH)] = DEFAULT_PATH_DEPTH,
    direction: Direction = "both",
) -> dict[str, Any]:
    """Nodes and edges in path order; 404 when no path is within `max_depth` links."""
    return services.links.shortest_path(
        source, target, relation, max_depth=max_depth, direction=direction, viewer=viewer
    )


@router.get("/api/dam/graph/impact/{node_id}", response_model=ImpactOut, responses=errors(404))
def impact(
    node_id: IdPath,
    services: ServicesDep,
    viewer: ViewerDep,
    depth: Annotated[int, Query(ge=1, le=MAX_IMPACT_DEPTH)] = DEFAULT_IMPACT_DEPTH,
    relation: Relations = None,
    limit: Limit = DEFAULT_PAGE,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return services.links.impact_analysis(
        node_id, depth, relation, limit=limit, cursor=cursor, viewer=viewer
    )
