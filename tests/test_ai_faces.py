"""Faces with dlib's packaged models on real photographs (scikit-image's astronaut portrait):
found, described, grouped into people, named (a Person that regions and photos depict),
merged and split; both databases. The models load once per test process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from trove.config import Settings
from trove.domain.access import Viewer
from trove.domain.enums import Relation
from trove.domain.filters import AssetFilters
from trove.pipeline.ai.faces import distance, find_faces
from trove.services.container import Services

pytest.importorskip("dlib")
data = pytest.importorskip("skimage.data")
SYSTEM = Viewer.system()
FACE_CENTRE = (0.43, 0.24)  # of the astronaut's face, in fractions of the portrait


def _covers(bbox: list[float], point: tuple[float, float]) -> bool:
    x, y, w, h = bbox
    return x <= point[0] <= x + w and y <= point[1] <= y + h


def test_the_astronauts_face_is_found_and_a_cat_or_a_cup_has_none():
    faces = find_faces(data.astronaut())
    assert [f for f in faces if _covers(f["bbox"], FACE_CENTRE)]
    assert all(len(f["embedding"]) == 128 for f in faces)
    assert find_faces(np.asarray(Image.fromarray(data.chelsea()).convert("RGB"))) == []
    assert find_faces(data.coffee()) == []


def test_one_face_mirrored_and_smaller_is_the_same_person_and_not_another_face():
    portrait = Image.fromarray(data.astronaut())
    mirrored = np.asarray(portrait.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((400, 400)))
    (face,) = [f for f in find_faces(data.astronaut()) if _covers(f["bbox"], FACE_CENTRE)]
    flipped = (1 - FACE_CENTRE[0], FACE_CENTRE[1])
    (again,) = [f for f in find_faces(mirrored) if _covers(f["bbox"], flipped)]
    assert distance(face["embedding"], again["embedding"]) < 0.6
    others = [f for f in find_faces(data.astronaut()) if f is not face and f != face]
    assert all(distance(face["embedding"], o["embedding"]) > 0.6 for o in others)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    services = Services.create(replace(settings, ai_faces=True))
    yield services
    services.database.dispose()


def _library(folder: Path) -> None:
    folder.mkdir(parents=True)
    portrait = Image.fromarray(data.astronaut())
    portrait.save(folder / "astronaut.jpg", quality=92)
    portrait.transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize((400, 400)).save(
        folder / "mirror.jpg", quality=92
    )
    Image.fromarray(data.chelsea()).save(folder / "cat.jpg", quality=92)


def _face_group(people: dict) -> list[dict]:
    for group in people["unnamed"]:
        if any(_covers(f["bbox"], FACE_CENTRE) for f in group["faces"]):
            return group["faces"]
    raise AssertionError("no group holds the astronaut's face")


def test_faces_are_grouped_named_merged_and_split_into_people(services, tmp_path):
    _library(tmp_path / "library")
    services.library.scan_and_process([str(tmp_path / "library")], wait=True)
    names = {
        a["id"]: a["filename"] for a in services.assets.list(AssetFilters(), viewer=SYSTEM).items
    }
    group = _face_group(services.people.people(viewer=SYSTEM))
    assert sorted(names[f["asset_id"]] for f in group) == ["astronaut.jpg", "mirror.jpg"]

    eileen = services.people.name([f["key"] for f in group], "Eileen  Collins", viewer=SYSTEM)
    people = services.people.people(viewer=SYSTEM)["people"]
    assert [(p["name"], sorted(names[a] for a in p["photos"])) for p in people] == [
        ("Eileen Collins", ["astronaut.jpg", "mirror.jpg"])
    ]
    assert all(f["region_id"] for f in people[0]["faces"])
    region = people[0]["faces"][0]["region_id"]
    depicted = services.links.get_neighbors(region, viewer=SYSTEM, relation=Relation.DEPICTS)
    assert eileen["id"] in {n["node"]["id"] for n in depicted["items"]}

    mirror_face = next(f for f in group if names[f["asset_id"]] == "mirror.jpg")
    services.people.name([mirror_face["key"]], "Someone else", viewer=SYSTEM)
    split = {p["name"]: [names[a] for a in p["photos"]] for p in
             services.people.people(viewer=SYSTEM)["people"]}  # fmt: skip
    assert split == {"Eileen Collins": ["astronaut.jpg"], "Someone else": ["mirror.jpg"]}

    other = next(p for p in services.people.people(viewer=SYSTEM)["people"]
                 if p["name"] == "Someone else")  # fmt: skip
    services.people.merge([other["id"]], eileen["id"], viewer=SYSTEM)
    merged = services.people.people(viewer=SYSTEM)["people"]
    assert [(p["name"], len(p["photos"])) for p in merged] == [("Eileen Collins", 2)]
    entities = services.links.list_entities(type="Person")["items"]
    assert [e["name"] for e in entities] == ["Eileen Collins"]


def test_a_face_is_cut_from_its_photos_original_preview_under_a_url_that_changes_with_it(
    services, tmp_path
):
    """Previews are cached as immutable: a face shown from an unversioned URL stayed the old
    photo's for a year, and one cut from an edited photo's preview (cropped, turned) showed
    whatever lay at the original's box."""
    _library(tmp_path / "library")
    services.library.scan_and_process([str(tmp_path / "library")], wait=True)
    (face,) = [f for f in _face_group(services.people.people(viewer=SYSTEM))
               if services.assets.get(f["asset_id"], viewer=SYSTEM)["filename"]
               == "astronaut.jpg"]  # fmt: skip
    photo = services.assets.get(face["asset_id"], viewer=SYSTEM)
    assert face["preview"] == (
        f"/api/dam/assets/{photo['id']}/thumbnail/medium?variant=original&v={photo['hash'][:16]}"
    )

    edited = services.edits.save(
        photo["id"], [{"op": "crop", "box": [0.5, 0.5, 0.5, 0.5]}], viewer=SYSTEM
    )

    (after,) = [f for f in _face_group(services.people.people(viewer=SYSTEM))
                if f["key"] == face["key"]]  # fmt: skip
    assert edited["thumbnails"]["medium"] != photo["thumbnails"]["medium"]
    assert after["preview"] == face["preview"] == edited["edited"]["original_thumbnails"]["medium"]
