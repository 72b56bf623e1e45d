"""Proxy assets: the web-friendly transcodes (a WebP of a TIFF, an MP4 of a MOV) a step made in
the cache. One row per derivative file, shared by every copy of the same bytes, linked from
each original that has it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trove.db.models import Asset, Link
from trove.domain.enums import AssetCategory, AssetStatus, AssetType, Relation
from trove.repositories._sql import insert_ignoring_conflicts
from trove.repositories.edits import is_edit_render
from trove.repositories.links import LinkRepository, edge

_PROXY_NAMESPACE = uuid.UUID("5b0f6c59-8f0e-4a53-9a51-3c2f1d7e0a11")


def proxy_id(storage_urn: str) -> str:
    """Stable id of the proxy asset for a cached derivative: found again without an index."""
    return str(uuid.uuid5(_PROXY_NAMESPACE, storage_urn))


@dataclass(frozen=True, kw_only=True)
class Proxy:
    storage_urn: str
    filename: str
    mime_type: str
    size: int | None
    width: int | None
    height: int | None
    duration: float | None
    meta: dict[str, Any]
    timeline_at: datetime


class ProxyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def save(
        self,
        proxy: Proxy,
        *,
        original_id: str,
        relation: str,
        now: datetime,
        made_to_original: bool = False,
    ) -> str:
        """Create the proxy, or refresh the one a copy made, and link the original to it.

        Copies with the same bytes share one proxy, and two workers may make it at once:
        insert-or-ignore, then read what is there, so neither transaction fails on the key.
        """
        asset_id = proxy_id(proxy.storage_urn)
        insert_ignoring_conflicts(
            self.session,
            Asset,
            [
                {
                    "id": asset_id,
                    "filename": proxy.filename,
                    "is_virtual": True,
                    "category": AssetCategory.VIRTUAL,
                    "asset_type": AssetType.PROXY,
                    "status": AssetStatus.READY,
                    "storage_urn": proxy.storage_urn,
                    "meta": {},
                    "thumbnails": {},
                    "created_at": now,
                    "updated_at": now,
                    "timeline_at": proxy.timeline_at,
                }
            ],
        )
        row = self.session.get(Asset, asset_id, populate_existing=True)
        assert row is not None
        row.mime_type, row.size = proxy.mime_type, proxy.size
        row.width, row.height, row.duration = proxy.width, proxy.height, proxy.duration
        row.meta = proxy.meta
        row.updated_at = now
        self.session.flush()
        ends = (asset_id, original_id) if made_to_original else (original_id, asset_id)
        LinkRepository(self.session).add_many([edge(*ends, relation)])
        return asset_id

    def web_copy_of(self, original_id: str) -> Asset | None:
        """The proxy made from this original (the newest, should a format change have made a
        second one)."""
        return self.session.scalar(
            select(Asset)
            .join(Link, Link.target_id == Asset.id)
            .where(
                Link.source_id == original_id,
                Link.relation == Relation.TRANSFORMED_TO,
                Asset.asset_type == AssetType.PROXY,
                Asset.deleted_at.is_(None),
                ~is_edit_render(Asset.storage_urn),  # the edited version is not a web copy
            )
            .order_by(Asset.updated_at.desc(), Asset.id)
            .limit(1)
        )
