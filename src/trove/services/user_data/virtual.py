"""Assets people made without a file: web pages (URL), notes (log entries) and regions drawn
on a picture (faces named on the People page are regions that `depicts` a Person). Each is
keyed by what it hangs on: a region by its picture's REF; a note's `related_to` files and a
region's person come back as link records.

Each type is a `VirtualKind`: what re-creates it (`data`, written with REFs), how that becomes
`ingest_virtual` data here (None when what it hangs on is not here), and how an earlier import
is recognised (`existing`), so that importing twice makes nothing twice.
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
    existing: Callable[[Session, Record], str | None]


def _url_data(asset: Any, refs: Refs) -> Record | None:
    url = ((asset.meta or {}).get(WEB) or {}).get("source_url") or asset.filename
    return {"url": url} if url else None


def _url_existing(session: Session, data: Record) -> str | None:
    found = UserDataRepository(session).virtual_assets(AssetType.URL, filename=data["url"])
    return found[0][0] if found else None


def _note_data(asset: Any, refs: Refs) -> Record | None:
    note = (asset.meta or {}).get(NOTE) or {}
    return {"text": note["text"], "at": note.get("at")} if note.get("text") else None


def _note_existing(session: Session, data: Record) -> str | None:
    at = datetime.fromisoformat(data["at"]) if data.get("at") else None
    name = f"Note {at:%Y-%m-%d %H:%M}" if at else None
    for asset_id, meta in UserDataRepository(session).virtual_assets(
        AssetType.LOG_ENTRY, filename=name
    ):
        note = meta.get(NOTE) or {}
        if note.get("text") == data["text"] and (at is None or note.get("at") == data["at"]):
            return asset_id
    return None


def _region_data(asset: Any, refs: Refs) -> Record | None:
    region = (asset.meta or {}).get(REGION) or {}
    (parent,) = refs.of([region.get("parent_id") or ""])
    return {"parent": parent, "bbox": region.get("bbox")} if parent else None


def _region_ingest(data: Record, ctx: ImportContext) -> Record | None:
    parent = ctx.find(data.get("parent"))
    return None if parent is None else {"parent_id": parent, "bbox": data["bbox"]}


def _region_existing(session: Session, data: Record) -> str | None:
    for region_id, _, bbox in PeopleRepository(session).regions_on([data["parent_id"]]):
        if len(bbox) == len(data["bbox"]) == 4 and all(
            abs(a - b) <= BBOX_TOLERANCE for a, b in zip(bbox, data["bbox"], strict=True)
        ):
            return region_id
    return None


def _as_is(data: Record, ctx: ImportContext) -> Record | None:
    return dict(data)


VIRTUAL_KINDS: dict[str, VirtualKind] = {
    AssetType.URL: VirtualKind(_url_data, _as_is, _url_existing),
    AssetType.LOG_ENTRY: VirtualKind(_note_data, _as_is, _note_existing),
    AssetType.REGION: VirtualKind(_region_data, _region_ingest, _region_existing),
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
        with ctx.session() as session:
            asset_id = kind.existing(session, data)
        if asset_id is None:
            try:
                asset_id = ctx.service.assets.ingest_virtual(
                    record["type"], data, viewer=ctx.owner_viewer(record.get("owner"))
                )["id"]
            except (Invalid, NotFound) as exc:  # a URL this Trove's policy refuses, ...
                ctx.report.miss(name, f"{what}: {exc}")
                return
        apply_user_fields(ctx, asset_id, record)
        ctx.keys[f"virtual:{record['key']}"] = asset_id
        ctx.report.hit(name)
