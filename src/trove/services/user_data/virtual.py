"""Assets people made without a file: web pages (URL), notes (log entries) and regions drawn
on a picture (faces named on the People page are regions that `depicts` a Person). Each is
keyed by what it hangs on: a region by its picture's REF; a note's `related_to` files and a
region's person come back as link records.

Each type is a `VirtualKind`: what re-creates it (`data`, written with REFs), how that becomes
`ingest_virtual` data here (None when what it hangs on is not here), and which assets here may
be the record's (`candidates`, oldest first), so that importing twice makes nothing twice. Of
those, a record becomes one no other record of the import became: two users' bookmarks of one
URL, two notes of the same words, stay two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from trove.domain.enums import AssetType
from trove.domain.web_scraper import NAMESPACE as WEB
from trove.repositories.people import PeopleRepository
from trove.repositories.user_data import UserDataRepository
from trove.services.errors import Invalid, NotFound
from trove.services.user_data.files import apply_user_fields, user_fields
from trove.services.user_data.records import Record, Refs, describe
from trove.services.user_data.section import ExportContext, ImportContext, OneByOne

BBOX_TOLERANCE = 2e-3
# The namespaces the log entry and region drivers fill (not imported: drivers import the UI).
NOTE, REGION = "log_entry", "region"


@dataclass(frozen=True)
class VirtualKind:
    data: Callable[[Any, Refs], Record | None]
    ingest: Callable[[Record, ImportContext], Record | None]
    # (session, data as ingested, the owner's id here) -> ids, oldest first.
    candidates: Callable[[Session, Record, str], list[str]]


def _url_data(asset: Any, refs: Refs) -> Record | None:
    url = ((asset.meta or {}).get(WEB) or {}).get("source_url") or asset.filename
    return {"url": url} if url else None


def _url_candidates(session: Session, data: Record, owner_id: str) -> list[str]:
    """The owner's bookmarks of this URL, as written or as Trove stores it (an import of
    `HTTPS://h:443/` made `https://h/`: a second import finds it), each user keeping their
    own title and tags."""
    repo = UserDataRepository(session)
    found: dict[str, None] = {}
    for url in dict.fromkeys((data["url"], _stored_url(data["url"]))):
        for asset_id, _ in repo.virtual_assets(AssetType.URL, owner_id=owner_id, filename=url):
            found[asset_id] = None
    return list(found)


def _stored_url(text: str) -> str:
    from trove.scraper.policy import AllowList, Refused, canonical_url, check_url

    try:
        return canonical_url(check_url(text, allow=AllowList.parse("")))
    except Refused:
        return text


def _note_data(asset: Any, refs: Refs) -> Record | None:
    note = (asset.meta or {}).get(NOTE) or {}
    return {"text": note["text"], "at": note.get("at")} if note.get("text") else None


def _note_candidates(session: Session, data: Record, owner_id: str) -> list[str]:
    """The owner's notes of these words at this time."""
    at = datetime.fromisoformat(data["at"]) if data.get("at") else None
    name = f"Note {at:%Y-%m-%d %H:%M}" if at else None
    repo = UserDataRepository(session)
    return [
        asset_id
        for asset_id, meta in repo.virtual_assets(
            AssetType.LOG_ENTRY, owner_id=owner_id, filename=name
        )
        if _same_note(meta.get(NOTE) or {}, data, timed=at is not None)
    ]


def _same_note(note: Record, data: Record, *, timed: bool) -> bool:
    return note.get("text") == data["text"] and (not timed or note.get("at") == data["at"])


def _region_data(asset: Any, refs: Refs) -> Record | None:
    region = (asset.meta or {}).get(REGION) or {}
    (parent,) = refs.of([region.get("parent_id") or ""])
    return {"parent": parent, "bbox": region.get("bbox")} if parent else None


def _region_ingest(data: Record, ctx: ImportContext) -> Record | None:
    parent = ctx.find(data.get("parent"))
    return None if parent is None else {"parent_id": parent, "bbox": data["bbox"]}


def _region_candidates(session: Session, data: Record, owner_id: str) -> list[str]:
    """The regions drawn at this place on the picture, whoever drew them (a face found by the
    pipeline of this index is the same face)."""
    regions = PeopleRepository(session).regions_on([data["parent_id"]])
    return [region_id for region_id, _, bbox in regions if _same_box(bbox, data["bbox"])]


def _same_box(bbox: list[float], wanted: list[float]) -> bool:
    return len(bbox) == len(wanted) == 4 and all(
        abs(a - b) <= BBOX_TOLERANCE for a, b in zip(bbox, wanted, strict=True)
    )


def _as_is(data: Record, ctx: ImportContext) -> Record | None:
    return dict(data)


VIRTUAL_KINDS: dict[str, VirtualKind] = {
    AssetType.URL: VirtualKind(_url_data, _as_is, _url_candidates),
    AssetType.LOG_ENTRY: VirtualKind(_note_data, _as_is, _note_candidates),
    AssetType.REGION: VirtualKind(_region_data, _region_ingest, _region_candidates),
}


def is_exported_virtual(asset: Any) -> bool:
    return asset.is_virtual and asset.asset_type in VIRTUAL_KINDS


class VirtualSection(OneByOne):
    kinds: tuple[str, ...] = ("virtual",)

    def records(self, ctx: ExportContext) -> Iterator[Record]:
        for asset, tags in ctx.repo.virtual_assets_with_tags(list(VIRTUAL_KINDS)):
            data = VIRTUAL_KINDS[asset.asset_type].data(asset, ctx.refs)
            if data is None:  # what it hangs on is gone
                continue
            yield {
                "kind": "virtual",
                "key": asset.id,
                "type": asset.asset_type,
                "data": data,
                "owner": ctx.owner(asset.owner_id),
                **user_fields(asset, tags, ctx.writable),
            }

    def restore(self, record: Record, ctx: ImportContext) -> None:
        name = str(record.get("type") or "virtual")
        kind = VIRTUAL_KINDS.get(name)
        what = describe(record.get("data"))
        if kind is None:
            ctx.report.miss(name, f"{what}: not a type this Trove restores")
            return
        data = kind.ingest(record["data"], ctx)
        if data is None:
            ctx.report.miss(name, f"{what}: what it belongs to is not here")
            return
        owner = record.get("owner")
        with ctx.session() as session:
            candidates = kind.candidates(session, data, ctx.owner_id(owner))
        asset_id = ctx.unclaimed(record, candidates)
        if asset_id is None:
            try:
                asset_id = ctx.service.assets.ingest_virtual(
                    record["type"], data, viewer=ctx.owner_viewer(owner)
                )["id"]
            except (Invalid, NotFound) as exc:  # a URL this Trove's policy refuses, ...
                ctx.report.miss(name, f"{what}: {exc}")
                return
        apply_user_fields(ctx, asset_id, record)
        ctx.became(record, asset_id)
        ctx.report.hit(name)
