"""Library management (admins): forget a library, edit its globs and upload flag, assign it to
members, and browse the server's folders (below TROVE_ALLOWED_ROOTS) to choose one to add."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from trove.api.deps import AdminDep, ServicesDep
from trove.api.schemas import IdPath, RootOut, errors

router = APIRouter(prefix="/api/dam", tags=["library"])

Glob = Annotated[str, Field(max_length=500)]


class Forgotten(BaseModel):
    """What forgetting a library drops from the index; its folder and files stay untouched."""

    id: str
    path: str
    name: str
    files: int = Field(description="Records of files.")
    folders: int = Field(description="Records of folders.")
    tags: int = Field(description="Tags set on those files and folders.")
    album_memberships: int = Field(description="Places of those files in albums.")


class RootPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_globs: list[Glob] | None = Field(default=None, max_length=100)
    exclude_globs: list[Glob] | None = Field(default=None, max_length=100)
    is_upload_target: bool | None = None


class Member(BaseModel):
    user_id: str
    name: str
    can_write: bool = Field(
        description="May change its assets (tags, titles, edits, the Trash) and upload into "
        "the library (if it takes uploads)."
    )


class MemberList(BaseModel):
    items: list[Member]


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    can_write: bool = False


class Folder(BaseModel):
    name: str
    path: str = Field(description="Resolved (symlinks followed), inside TROVE_ALLOWED_ROOTS.")


class FolderListing(BaseModel):
    path: str | None = Field(description="The folder listed; null: the allowed folders.")
    parent: str | None = Field(description="One level up, if that is still allowed.")
    folders: list[Folder]


@router.get(
    "/roots/{root_id}/removal",
    response_model=Forgotten,
    responses=errors(403, 404),
    summary="What removing the library would forget",
)
def removal_preview(root_id: IdPath, _admin: AdminDep, services: ServicesDep) -> dict:
    return services.library_admin.removal_preview(root_id)


@router.delete(
    "/roots/{root_id}",
    response_model=Forgotten,
    responses=errors(403, 404),
    summary="Forget a library (records only; its files are never touched)",
)
def remove_root(root_id: IdPath, _admin: AdminDep, services: ServicesDep) -> dict:
    return services.remove_library(root_id)


@router.patch("/roots/{root_id}", response_model=RootOut, responses=errors(400, 403, 404))
def update_root(root_id: IdPath, body: RootPatch, _admin: AdminDep, services: ServicesDep) -> dict:
    return services.update_library(root_id, **body.model_dump(exclude_unset=True))


@router.get("/roots/{root_id}/members", response_model=MemberList, responses=errors(403, 404))
def list_members(root_id: IdPath, _admin: AdminDep, services: ServicesDep) -> dict:
    return {"items": services.library_admin.members(root_id)}


@router.put(
    "/roots/{root_id}/members/{user_id}",
    response_model=MemberList,
    responses=errors(400, 403, 404),
    summary="Assign the library to a user",
)
def set_member(
    root_id: IdPath, user_id: IdPath, body: MemberIn, _admin: AdminDep, services: ServicesDep
) -> dict:
    return {"items": services.library_admin.set_member(root_id, user_id, can_write=body.can_write)}


@router.delete(
    "/roots/{root_id}/members/{user_id}", response_model=MemberList, responses=errors(403, 404)
)
def remove_member(
    root_id: IdPath, user_id: IdPath, _admin: AdminDep, services: ServicesDep
) -> dict:
    return {"items": services.library_admin.remove_member(root_id, user_id)}


class RelocateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_path: str = Field(min_length=1, max_length=4096, description="Where its folder is now.")


class Relocated(BaseModel):
    """A library pointed at its folder's new place: ids, tags, albums and previews kept."""

    id: str
    name: str
    old_path: str
    new_path: str
    sampled: int = Field(description="Files compared by SHA-256 at the new place.")
    matched: int = Field(description="Of those, found there with the same content.")
    assets: int = Field(description="Records that now point at the new place.")


class RelocationOffer(BaseModel):
    """A library whose folder is gone, whose files the folder asked about holds."""

    id: str
    name: str
    old_path: str
    new_path: str
    sampled: int
    matched: int


class RelocationOfferOut(BaseModel):
    offer: RelocationOffer | None = Field(description="null: the folder is no moved library.")


@router.post(
    "/roots/{root_id}/relocate",
    response_model=Relocated,
    responses=errors(400, 403, 404, 409),
    summary="Point a library at the place its folder moved to (a sample is checked first)",
)
def relocate_root(
    root_id: IdPath, body: RelocateIn, _admin: AdminDep, services: ServicesDep
) -> dict:
    return services.library.relocate_requested(root_id, body.new_path, indexer=services.indexer)


@router.get(
    "/roots/relocation-offer",
    response_model=RelocationOfferOut,
    responses=errors(400, 403),
    summary="Whether a folder holds a library whose folder is gone (to relocate, not re-add)",
)
def relocation_offer(
    _admin: AdminDep, services: ServicesDep, path: Annotated[str, Query(max_length=4096)]
) -> dict:
    return {"offer": services.library.relocation_offer_requested(path)}


@router.get(
    "/folders",
    response_model=FolderListing,
    responses=errors(403, 404),
    summary="Folders on the server, below TROVE_ALLOWED_ROOTS, to choose a library from",
)
def browse_folders(
    _admin: AdminDep,
    services: ServicesDep,
    path: Annotated[str | None, Query(max_length=4096)] = None,
) -> dict:
    return services.library_admin.browse(path)
