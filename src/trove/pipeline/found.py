"""Applying what a step found beside a file (a sidecar's keywords and face regions) so that a
person's edit in Trove wins over it (the `Found` of a StepResult; domain/sidecars.py).

Tags: the step's namespace keeps the keywords it read (`tags`), the ones a person removed
in Trove since (`declined_tags`) and the ones that were the person's tags already
(`own_tags`). On each pass, a keyword that was read before and is no longer among the asset's
tags was removed in Trove: it is declined and not added again (until the sidecar itself drops
it). A new keyword the asset already has, or a declined one tagged again by hand, is the
person's own. New keywords are added; keywords the sidecar dropped are removed, unless they
were the person's own.

Regions: a Region asset (drivers/region.py) per box, named by the sidecar (`title`) and, when
named, `depicts` a Person of that name (made when there is none), as does the photo; each
remembers the namespace that made it (`metadata.region.from`). A box still in the sidecar keeps
its region as it is (a person may have renamed it); a box the sidecar dropped loses its region
(and the photo its `depicts` link to a person no other region of it depicts). A box read
before whose region is gone was deleted in Trove: it is declined (`declined_regions`, the
boxes, as tags are declined by name) and not made again, until the sidecar itself drops it.
An export carries the declined boxes (`declined_boxes`), and its import deletes again the
regions an index rebuilt from the disk made of them (`decline_regions`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from trove.db.models import Asset
from trove.domain import sidecars
from trove.domain.enums import AssetCategory, AssetStatus, AssetType, Relation
from trove.domain.ids import new_id
from trove.pipeline.processor import Found, FoundRegion
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository
from trove.repositories.entities import EntityRepository
from trove.repositories.links import LinkRepository, edge
from trove.repositories.people import PERSON, PeopleRepository
from trove.repositories.sync import SyncRepository
from trove.repositories.tag_flows import TagFlows

BBOX_TOLERANCE = 2e-3


def apply_found(
    session: Session, asset: Asset, found: Found, *, before: dict[str, Any], made_by: str
) -> None:
    """`before`: the asset's metadata before this pass's namespaces replaced it."""
    earlier = before.get(found.namespace) or {}
    notes = _apply_tags(session, asset, found, earlier)
    if asset.hash:
        notes["declined_regions"] = _apply_regions(session, asset, found, earlier, made_by=made_by)
    _remember(asset, found.namespace, notes)
    _retire_listed_sidecars(session, asset)


def _remember(asset: Asset, namespace: str, notes: dict[str, list[Any]]) -> None:
    """What the next pass needs to tell a person's edit from the sidecar's, kept in the
    namespace this pass wrote (which replaced the earlier notes)."""
    kept = {key: value for key, value in notes.items() if value}
    if kept:
        values = dict((asset.meta or {}).get(namespace) or {})
        asset.meta = {**(asset.meta or {}), namespace: {**values, **kept}}


def _retire_listed_sidecars(session: Session, asset: Asset) -> None:
    """A sidecar indexed as a file of its own before it was read as this picture's (an index
    older than sidecar reading, or a `.xmp` whose picture arrived later) leaves the listing:
    its record goes, or stays missing and pathless if someone tagged or titled it."""
    if asset.root_id is None or not asset.rel_path or asset.path_escaped:
        return
    meta = asset.meta or {}
    names = {
        name
        for namespace in (sidecars.NAMESPACE, sidecars.TAKEOUT_NAMESPACE)
        for name in ((meta.get(namespace) or {}).get("files") or [])
        if isinstance(name, str)
    }
    if not names:
        return
    folder = asset.rel_path.rpartition("/")[0]
    paths = [f"{folder}/{name}" if folder else name for name in sorted(names)]
    listed = AssetRepository(session).files_at(asset.root_id, paths)
    for rel, sidecar_id in listed.items():
        SyncRepository(session).retire(sidecar_id, reason=f"{rel} is read into {asset.filename}")


def _apply_tags(
    session: Session, asset: Asset, found: Found, earlier: dict[str, Any]
) -> dict[str, list[Any]]:
    read_before = set(earlier.get("tags") or [])
    declined_before = set(earlier.get("declined_tags") or [])
    current = set(asset.tags)
    read_now = set(found.tags)
    own = (
        set(earlier.get("own_tags") or []) | (read_now - read_before) | declined_before
    ) & current
    declined = ((declined_before | (read_before - current)) - current) & read_now
    add = read_now - current - declined
    drop = (read_before - read_now) & current - own
    if add or drop:
        AssetRepository(session).replace_tags(asset, (current - drop) | add)
        session.flush()
        flows = TagFlows(session)
        flows.tags_removed(asset.id, sorted(drop))
        flows.tags_added([asset.id], sorted(add))
    return {"declined_tags": sorted(declined), "own_tags": sorted(own & read_now)}


def _apply_regions(
    session: Session, asset: Asset, found: Found, earlier: dict[str, Any], *, made_by: str
) -> list[list[float]]:
    """Returns the boxes declined: deleted in Trove and still in the sidecar."""
    mine = _regions_made_from(session, asset, found.namespace)
    declined = [*_boxes(earlier.get("declined_regions")), *_deleted_boxes(earlier, mine)]
    still_declined: list[list[float]] = []
    unmatched = list(mine)
    for wanted in found.regions:
        match = next((r for r in unmatched if _same_box(_region(r).get("bbox"), wanted.bbox)), None)
        if match is not None:
            unmatched.remove(match)
        elif any(_same_box(box, wanted.bbox) for box in declined):
            still_declined.append(list(wanted.bbox))
        else:
            _add_region(session, asset, wanted, namespace=found.namespace, made_by=made_by)
    if unmatched:
        _drop_regions(session, asset, unmatched, made_by=made_by)
    return still_declined


def declined_boxes(
    session: Session, photos: list[Asset], namespace: str
) -> dict[str, list[list[float]]]:
    """For an export, per photo: the boxes this namespace read whose regions a person deleted
    in Trove, declined already or not yet (a region gone, or in the Trash: an export carries
    no Trash). An index rebuilt from the disk makes them again; `decline_regions` undoes that."""
    live = _live_regions_made_from(session, [p.id for p in photos], namespace)
    declined: dict[str, list[list[float]]] = {}
    for photo in photos:
        earlier = (photo.meta or {}).get(namespace) or {}
        boxes = _with_new_boxes(
            _boxes(earlier.get("declined_regions")), _deleted_boxes(earlier, live.get(photo.id, []))
        )
        if boxes:
            declined[photo.id] = boxes
    return declined


def decline_regions(
    session: Session, photo: Asset, namespace: str, boxes: list[list[float]]
) -> None:
    """An import's word that a person deleted the regions of these boxes before the index was
    rebuilt: the regions this namespace made there go, and the boxes are declined as if they
    had been deleted here. The people those regions named stay: the import restores its own.
    A region in this index's Trash stays there (an export imported back into the index it came
    from): the person may still restore it."""
    wanted = _boxes(boxes)
    made_there = [
        r
        for r in _regions_made_from(session, photo, namespace)
        if r.deleted_at is None
        and any(_same_box(_region(r).get("bbox"), tuple(box)) for box in wanted)
    ]
    _delete_regions(session, photo, made_there)
    earlier = _boxes(((photo.meta or {}).get(namespace) or {}).get("declined_regions"))
    _remember(photo, namespace, {"declined_regions": _with_new_boxes(earlier, wanted)})


def _with_new_boxes(boxes: list[list[float]], more: list[list[float]]) -> list[list[float]]:
    """BOXES and those of MORE that are not one of them."""
    return [*boxes, *(box for box in more if not any(_same_box(b, tuple(box)) for b in boxes))]


def _live_regions_made_from(
    session: Session, photo_ids: list[str], namespace: str
) -> dict[str, list[Asset]]:
    """Per photo, its regions this namespace made that are not in the Trash."""
    links = LinkRepository(session)
    region_ids = links.sources_of(photo_ids, [Relation.EXTRACTED_FROM])
    regions = {r.id: r for r in AssetRepository(session).get_many(region_ids)}
    made: dict[str, list[Asset]] = {}
    for region_id, photo_id in links.pairs_from(list(regions), Relation.EXTRACTED_FROM):
        region = regions[region_id]
        if (
            region.asset_type == AssetType.REGION
            and region.deleted_at is None
            and _region(region).get("from") == namespace
        ):
            made.setdefault(photo_id, []).append(region)
    return made


def _regions_made_from(session: Session, asset: Asset, namespace: str) -> list[Asset]:
    """The photo's regions this namespace made, those in the Trash included."""
    ids = LinkRepository(session).sources_of([asset.id], [Relation.EXTRACTED_FROM])
    return [
        r
        for r in AssetRepository(session).get_many(ids)
        if r.asset_type == AssetType.REGION and _region(r).get("from") == namespace
    ]


def _deleted_boxes(earlier: dict[str, Any], mine: list[Asset]) -> list[list[float]]:
    """Boxes the sidecar gave last time whose region is gone: a person deleted it in Trove
    (and emptied the Trash, or it would still be among `mine`)."""
    read_before = _boxes(
        [r.get("bbox") for r in earlier.get("regions") or [] if isinstance(r, dict)]
    )
    return [
        box
        for box in read_before
        if not any(_same_box(_region(r).get("bbox"), tuple(box)) for r in mine)
    ]


def _boxes(values: Any) -> list[list[float]]:
    """Stored boxes that are lists of four numbers; anything else in the namespace is
    ignored rather than trusted."""
    if not isinstance(values, list):
        return []
    return [
        [float(v) for v in box]
        for box in values
        if isinstance(box, list)
        and len(box) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
    ]


def _drop_regions(session: Session, photo: Asset, regions: list[Asset], *, made_by: str) -> None:
    """Regions the sidecar no longer has go, and a person made from the sidecar that nothing
    depicts any more goes too."""
    people = PeopleRepository(session)
    for entity in people.people(_delete_regions(session, photo, regions)):
        if entity.meta.get("made_by") == made_by and not LinkRepository(session).sources_of(
            [entity.id], [Relation.DEPICTS]
        ):
            people.delete_person(entity.id)


def _delete_regions(session: Session, photo: Asset, regions: list[Asset]) -> list[str]:
    """The regions go, and the photo no longer depicts a person only they depicted; returns
    those people."""
    if not regions:
        return []
    people = PeopleRepository(session)
    gone = {r.id for r in regions}
    named = {person for _region, person in people.depicted_people(list(gone))}
    LinkRepository(session).delete_touching(list(gone))
    for region in regions:
        AssetRepository(session).hard_delete(region)
    session.flush()
    ids = LinkRepository(session).sources_of([photo.id], [Relation.EXTRACTED_FROM])
    still = {person for _region, person in people.depicted_people(ids)}
    for person in named - still:
        people.unlink_depicts([photo.id], person)
    session.flush()
    return sorted(named - still)


def _add_region(
    session: Session, parent: Asset, found: FoundRegion, *, namespace: str, made_by: str
) -> None:
    now = utcnow()
    region_id = new_id()
    x, y, w, h = (round(v * 100) for v in found.bbox)
    AssetRepository(session).add(
        Asset(
            id=region_id,
            owner_id=parent.owner_id,
            visibility=parent.visibility,
            filename=f"{parent.filename or 'picture'} ({w}x{h}% at {x},{y})",
            title=found.name,
            is_virtual=True,
            category=AssetCategory.COMPOSITE,
            asset_type=AssetType.REGION,
            status=AssetStatus.PROCESSING,  # region_crop cuts its preview next
            storage_urn=f"virtual://{AssetType.REGION}/{region_id}",
            thumbnails={},
            meta={
                "region": {
                    "bbox": list(found.bbox),
                    "parent_id": parent.id,
                    "parent_hash": parent.hash,
                    "parent_width": parent.width,
                    "parent_height": parent.height,
                    "from": namespace,
                }
            },
            created_at=now,
            updated_at=now,
            timeline_at=parent.timeline_at or now,
        )
    )
    rows = [edge(region_id, parent.id, Relation.EXTRACTED_FROM)]
    if found.name:
        person = _person(session, found.name, made_by=made_by)
        rows += [
            edge(source, person, Relation.DEPICTS, target_type=PERSON)
            for source in (region_id, parent.id)
        ]
    LinkRepository(session).add_many(rows)


def _person(session: Session, name: str, *, made_by: str) -> str:
    known = PeopleRepository(session).person_named(name)
    if known is not None:
        return known.id
    return EntityRepository(session).add(type=PERSON, name=name, metadata={"made_by": made_by}).id


def _region(asset: Asset) -> dict[str, Any]:
    region = (asset.meta or {}).get("region")
    return region if isinstance(region, dict) else {}


def _same_box(a: Any, b: tuple[float, ...]) -> bool:
    return (
        isinstance(a, list)
        and len(a) == len(b) == 4
        and all(abs(float(x) - y) <= BBOX_TOLERANCE for x, y in zip(a, b, strict=True))
    )
