"""/api/dam/albums: nested, ordered albums (an album is a `collection` asset; DESIGN.md)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from trove.api.deps import ServicesDep, ViewerDep, WriterDep
from trove.api.schemas import AssetOut, Id, IdPath, errors
from trove.domain.queries import MAX_LIMIT
from trove.services.albums import MAX_ADD, MAX_NAME, AlbumPatch

router = APIRouter(prefix="/api/dam/albums", tags=["albums"])


class AlbumIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str | None = Field(default=None, max_length=100_000)
    parent_id: Id | None = None


class AlbumPatchIn(BaseModel):
    """Only the fields sent change. `parent_id: null` moves the album to the top level;
    `cover_id: null` makes the first member the cover again."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    description: str | None = Field(default=None, max_length=100_000)
    parent_id: Id | None = None
    cover_id: Id | None = None


class AlbumOut(AssetOut):
    """The album's asset (asset_type `collection`) with its name, place, cover and size."""

    name: str
    description: str | None
    parent_id: str | None
    cover_id: str | None = Field(description="The chosen cover, else the first member.")
    cover_chosen: bool
    count: int = Field(description="How many assets the album includes (not sub-albums).")


class AlbumNode(AlbumOut):
    children: list[AlbumNode]


class AlbumTree(BaseModel):
    items: list[AlbumNode]


# An index in album order; far beyond any album's length, and within every integer column.
MAX_POSITION = 2**31 - 1


class MembersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_ids: list[Id] = Field(min_length=1, max_length=MAX_ADD)
    position: int | None = Field(
        default=None,
        ge=0,
        le=MAX_POSITION,
        description="Index in album order for the first of them (those already in the album "
        "move there too); the end when left out.",
    )


class MemberIdsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_ids: list[Id] = Field(min_length=1, max_length=MAX_ADD)


class MembersAdded(BaseModel):
    added: int
    already: int
    album: AlbumOut


class MembersRemoved(BaseModel):
    removed: int
    album: AlbumOut


class AlbumAssetOut(AssetOut):
    position: float


class AlbumAssetList(BaseModel):
    items: list[AlbumAssetOut]
    next_cursor: str | None


@router.post("", status_code=201, response_model=AlbumOut, responses=errors(400, 404, 413))
def create_album(body: AlbumIn, services: ServicesDep, viewer: WriterDep) -> dict:
    return services.albums.create(
        body.name, description=body.description, parent_id=body.parent_id, viewer=viewer
    )


@router.get("", response_model=AlbumTree)
def album_tree(services: ServicesDep, viewer: ViewerDep) -> dict:
    """Every album the caller may see, nested under its parent."""
    return {"items": services.albums.tree(viewer=viewer)}


@router.get("/{album_id}", response_model=AlbumOut, responses=errors(404))
def get_album(album_id: IdPath, services: ServicesDep, viewer: ViewerDep) -> dict:
    return services.albums.get(album_id, viewer=viewer)


@router.patch("/{album_id}", response_model=AlbumOut, responses=errors(400, 404, 413))
def update_album(
    album_id: IdPath, body: AlbumPatchIn, services: ServicesDep, viewer: WriterDep
) -> dict:
    patch = AlbumPatch(**body.model_dump(exclude_unset=True))
    return services.albums.update(album_id, patch, viewer=viewer)


@router.delete("/{album_id}", status_code=204, responses=errors(404))
def delete_album(album_id: IdPath, services: ServicesDep, viewer: WriterDep) -> Response:
    """The album goes; its assets are never deleted, its sub-albums move up a level."""
    services.albums.delete(album_id, viewer=viewer)
    return Response(status_code=204)


@router.post("/{album_id}/assets", response_model=MembersAdded, responses=errors(400, 404, 413))
def add_assets(album_id: IdPath, body: MembersIn, services: ServicesDep, viewer: WriterDep) -> dict:
    return services.albums.add(album_id, body.asset_ids, viewer=viewer, position=body.position)


@router.delete("/{album_id}/assets", response_model=MembersRemoved, responses=errors(400, 404, 413))
def remove_assets(
    album_id: IdPath, body: MemberIdsIn, services: ServicesDep, viewer: WriterDep
) -> dict:
    return services.albums.remove(album_id, body.asset_ids, viewer=viewer)


@router.get("/{album_id}/assets", response_model=AlbumAssetList, responses=errors(404))
def album_assets(
    album_id: IdPath,
    services: ServicesDep,
    viewer: ViewerDep,
    limit: int = Query(default=100, ge=1, le=MAX_LIMIT),
    cursor: str | None = None,
) -> dict:
    """The album's assets the caller may see, in album order, a page at a time (like the
    asset list)."""
    items, next_cursor = services.albums.members(
        album_id, viewer=viewer, limit=limit, cursor=cursor
    )
    return {"items": items, "next_cursor": next_cursor}
