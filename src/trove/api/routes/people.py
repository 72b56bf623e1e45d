"""/api/dam/people: faces grouped into people, and naming, merging and splitting them (the
People page's calls). Reads show the faces on photos the caller may see; changes need a
credential that may write."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trove.api.deps import ServicesDep, ViewerDep, WriterDep
from trove.api.schemas import Id, IdPath, errors

router = APIRouter(prefix="/api/dam/people", tags=["people"])

FaceKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}:[0-9]{1,3}$")]


class FaceOut(BaseModel):
    key: str  # `<photo id>:<index>`: what naming takes
    asset_id: str
    bbox: list[float]
    region_id: str | None
    # The photo's original preview the box is cut from (None until it is made).
    preview: str | None


class PersonOut(BaseModel):
    id: str
    name: str
    faces: list[FaceOut]
    photos: list[str]


class FaceGroupOut(BaseModel):
    faces: list[FaceOut]
    suggested_person_id: str | None


class PeopleOut(BaseModel):
    people: list[PersonOut]
    unnamed: list[FaceGroupOut]


class PersonRef(BaseModel):
    id: str
    name: str | None = None


class NameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    faces: list[FaceKey] = Field(min_length=1, max_length=1000)
    name: str = Field(min_length=1, max_length=200)


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    people: list[Id] = Field(min_length=1, max_length=100)


@router.get("", response_model=PeopleOut)
def list_people(services: ServicesDep, viewer: ViewerDep) -> dict:
    """Named people, then the unnamed groups of faces, largest first."""
    return services.people.people(viewer=viewer)


@router.post("/name", response_model=PersonRef, responses=errors(400, 404))
def name_faces(body: NameIn, services: ServicesDep, viewer: WriterDep) -> dict:
    """These faces depict the person of this name (made if new): naming faces of another
    person moves them (a split); an existing name adds them (a merge)."""
    return services.people.name(body.faces, body.name, viewer=viewer)


@router.post("/{person_id}/merge", response_model=PersonRef, responses=errors(400, 404))
def merge_people(
    person_id: IdPath, body: MergeIn, services: ServicesDep, viewer: WriterDep
) -> dict:
    """Every face of `people` joins this person; the emptied people are removed."""
    return services.people.merge(body.people, person_id, viewer=viewer)
