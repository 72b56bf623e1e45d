"""People: the faces the face step found, grouped into people, and named by the user.

A face is named by drawing it as a Region on its photo (the RegionDriver's virtual asset,
made once per face) that `depicts` a `Person` entity; the photo `depicts` the person too, so
the graph, the search (`people`) and the lightbox all see it. What is stored is only those
regions and links: the unnamed groups are computed on each read, single-linkage over the
128-d embeddings (faces closer than `ai_face_distance`, 0.6 by default, join a group).

Naming faces with a name a person already has adds them to that person: that is how people
are merged. Naming some faces of a person with another name moves them: that is a split.
A Person made here that no face depicts any more is removed.
"""

from __future__ import annotations

from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.enums import Relation
from trove.domain.serialize import original_thumbnail_urls
from trove.repositories.people import PERSON, PeopleRepository
from trove.services.errors import Forbidden, Invalid, NotFound
from trove.services.links import LinkManager
from trove.services.regions import RegionService

MADE_HERE = "faces"
# The face boxes are on the original, so a face is cut from the original's preview (not an
# edited render's), under a URL that changes with the photo's content.
FACE_PREVIEW = "medium"
BBOX_TOLERANCE = 2e-3


def face_key(asset_id: str, index: int) -> str:
    return f"{asset_id}:{index}"


class PeopleService:
    def __init__(
        self, settings: Settings, database: Database, *, regions: RegionService, links: LinkManager
    ) -> None:
        self.settings = settings
        self.database = database
        self.regions = regions
        self.links = links

    def people(self, *, viewer: Viewer) -> dict[str, Any]:
        """Named people with their faces and photos, then the unnamed groups (largest
        first), each with the named person its faces are closest to when one is near."""
        faces = self._faces(viewer)
        named: dict[str, list[dict[str, Any]]] = {}
        loose = []
        for face in faces:
            if face["person_id"]:
                named.setdefault(face["person_id"], []).append(face)
            else:
                loose.append(face)
        with self.database.session() as session:
            entities = PeopleRepository(session).people(list(named))
            people = [
                {
                    "id": e.id,
                    "name": e.name,
                    "faces": [_out(f) for f in named[e.id]],
                    "photos": sorted({f["asset_id"] for f in named[e.id]}),
                }
                for e in entities
            ]
        groups = _cluster(loose, self.settings.ai_face_distance)
        known = [f for f in faces if f["person_id"]]
        unnamed = [
            {"faces": [_out(f) for f in group], "suggested_person_id": _nearest(
                group, known, self.settings.ai_face_distance)}
            for group in groups
        ]  # fmt: skip
        return {"people": people, "unnamed": unnamed}

    def name(self, faces: list[str], name: str, *, viewer: Viewer) -> dict[str, Any]:
        """The Person called `name` (made when there is none) depicted by these faces, each
        drawn as a region on its photo; faces named before leave their former person."""
        if not viewer.can_write:
            raise Forbidden("this credential is read-only")
        name = " ".join(name.split())
        if not name or len(name) > 200:
            raise Invalid("name: 1 to 200 characters")
        wanted = set(faces)
        chosen = [f for f in self._faces(viewer) if f["key"] in wanted]
        if len(chosen) != len(wanted):
            raise NotFound("no such face")
        for face in chosen:
            if face["region_id"] is None:
                face["region_id"] = self.regions.create(
                    face["asset_id"], face["bbox"], viewer=viewer
                )["id"]
        with self.database.session() as session:
            repo = PeopleRepository(session)
            person = repo.person_named(name)
            if person is None:
                created = self.links.create_entity(PERSON, name, {"made_by": MADE_HERE})
                person_id = created["id"]
            else:
                person_id = person.id
            for face in chosen:
                if face["person_id"] and face["person_id"] != person_id:
                    repo.unlink_depicts([face["region_id"]], face["person_id"])
                self.links.link_in(session, face["region_id"], person_id, Relation.DEPICTS)
                self.links.link_in(session, face["asset_id"], person_id, Relation.DEPICTS)
        self._tidy({f["person_id"] for f in chosen if f["person_id"]} - {person_id}, viewer)
        return {"id": person_id, "name": name}

    def merge(self, person_ids: list[str], into: str, *, viewer: Viewer) -> dict[str, Any]:
        """Every face of `person_ids` named as `into`; the emptied people are removed."""
        with self.database.session() as session:
            target = PeopleRepository(session).people([into])
        if not target:
            raise NotFound("no such person")
        faces = [f["key"] for f in self._faces(viewer) if f["person_id"] in set(person_ids)]
        return self.name(faces, target[0].name, viewer=viewer) if faces else {"id": into}

    def _tidy(self, person_ids: set[str], viewer: Viewer) -> None:
        """Drop the photo links and people that no face depicts any more."""
        if not person_ids:
            return
        faces = self._faces(viewer)
        with self.database.session() as session:
            repo = PeopleRepository(session)
            for person_id in person_ids:
                still = {f["asset_id"] for f in faces if f["person_id"] == person_id}
                photos = [s for s, p in repo.depicted_people(
                    [f["asset_id"] for f in faces]) if p == person_id]  # fmt: skip
                repo.unlink_depicts([p for p in photos if p not in still], person_id)
                made_here = [
                    e for e in repo.people([person_id]) if e.meta.get("made_by") == MADE_HERE
                ]
                if not still and made_here:
                    repo.delete_person(person_id)

    def _faces(self, viewer: Viewer) -> list[dict[str, Any]]:
        """Every face on a photo the viewer may see, with its region and person if named."""
        with self.database.session() as session:
            repo = PeopleRepository(session)
            pictures = repo.faces(viewer)
            regions = repo.regions_on([asset_id for asset_id, _, _ in pictures])
            depicted = dict(repo.depicted_people([r for r, _, _ in regions]))
        by_parent: dict[str, list[tuple[str, list[float]]]] = {}
        for region_id, parent, bbox in regions:
            by_parent.setdefault(parent, []).append((region_id, bbox))
        found = []
        for asset_id, faces, thumbnails in pictures:
            preview = original_thumbnail_urls(asset_id, thumbnails).get(FACE_PREVIEW)
            for index, face in enumerate(faces):
                bbox = face.get("bbox") or []
                face_region: str | None = next(
                    (r for r, b in by_parent.get(asset_id, []) if _same_box(b, bbox)), None
                )
                found.append({
                    "key": face_key(asset_id, index), "asset_id": asset_id, "bbox": bbox,
                    "preview": preview,
                    "embedding": face.get("embedding") or [], "region_id": face_region,
                    "person_id": depicted.get(face_region) if face_region else None,
                })  # fmt: skip
        return found


def _same_box(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) == 4 and all(
        abs(x - y) <= BBOX_TOLERANCE for x, y in zip(a, b, strict=True)
    )


def _out(face: dict[str, Any]) -> dict[str, Any]:
    return {k: face[k] for k in ("key", "asset_id", "bbox", "region_id", "preview")}


def _cluster(faces: list[dict[str, Any]], threshold: float) -> list[list[dict[str, Any]]]:
    """Single-linkage groups: faces closer than `threshold` end in one group."""
    import numpy as np

    if not faces:
        return []
    vectors = np.asarray([f["embedding"] for f in faces], dtype=np.float32)
    parent = list(range(len(faces)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(faces)):
        near = np.nonzero(np.linalg.norm(vectors[i + 1 :] - vectors[i], axis=1) < threshold)[0]
        for j in near:
            parent[root(int(j) + i + 1)] = root(i)
    groups: dict[int, list[dict[str, Any]]] = {}
    for i, face in enumerate(faces):
        groups.setdefault(root(i), []).append(face)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]["key"]))


def _nearest(
    group: list[dict[str, Any]], known: list[dict[str, Any]], threshold: float
) -> str | None:
    import numpy as np

    if not known:
        return None
    vectors = np.asarray([f["embedding"] for f in known], dtype=np.float32)
    best: tuple[float, str | None] = (threshold, None)
    for face in group:
        distances = np.linalg.norm(
            vectors - np.asarray(face["embedding"], dtype=np.float32), axis=1
        )
        i = int(distances.argmin())
        if distances[i] < best[0]:
            best = (float(distances[i]), known[i]["person_id"])
    return best[1]
