"""The editor's rows: each asset's saved edit lists (history), and the render proxies an
original links to (`transformed_to`) that the editor made, as opposed to the pipeline's web
copies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session, aliased

from trove.db.models import Asset, AssetEdit, Link
from trove.domain.enums import AssetType, Relation
from trove.storage.cache import URN_PREFIX

# Edit renders are `<cache>/<key>/edited.jpg` (or .png); the pipeline's web copies `web.*`.
RENDER_STEM = "edited"


def is_edit_render(storage_urn: Any) -> Any:
    """SQL: this proxy is an editor's render (pass `Asset.storage_urn`)."""
    return storage_urn.like(f"{URN_PREFIX}%/{RENDER_STEM}.%")


class EditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self,
        asset_id: str,
        *,
        version: int,
        edits: list[dict[str, Any]],
        user_id: str | None,
        now: datetime,
    ) -> None:
        self.session.add(
            AssetEdit(
                asset_id=asset_id, version=version, edits=edits, user_id=user_id, created_at=now
            )
        )
        self.session.flush()

    def history(self, asset_id: str, *, limit: int) -> list[AssetEdit]:
        """The newest saves first."""
        return list(
            self.session.scalars(
                select(AssetEdit)
                .where(AssetEdit.asset_id == asset_id)
                .order_by(AssetEdit.version.desc())
                .limit(limit)
            )
        )

    def edited_assets(self) -> list[Asset]:
        """Every asset ever edited (people edit by hand: a few, however large the library)."""
        edited = select(AssetEdit.asset_id).distinct()
        return list(self.session.scalars(select(Asset).where(Asset.id.in_(edited))))

    def count(self, asset_id: str) -> int:
        return int(
            self.session.scalar(
                select(func.count()).select_from(AssetEdit).where(AssetEdit.asset_id == asset_id)
            )
            or 0
        )

    def renders_of(self, asset_id: str) -> list[str]:
        """Ids of the edit renders this original links to."""
        return list(
            self.session.scalars(
                select(Link.target_id)
                .join(Asset, Asset.id == Link.target_id)
                .where(
                    Link.source_id == asset_id,
                    Link.relation == Relation.TRANSFORMED_TO,
                    Asset.asset_type == AssetType.PROXY,
                    is_edit_render(Asset.storage_urn),
                )
            )
        )

    def unlink_renders(self, asset_id: str, render_ids: Sequence[str]) -> None:
        """This original no longer shows these renders; a render no other original links to
        goes too (its cache folder is then collected by `trove gc`)."""
        if not render_ids:
            return
        ids = list(render_ids)
        self.session.execute(
            delete(Link).where(
                Link.source_id == asset_id,
                Link.target_id.in_(ids),
                Link.relation == Relation.TRANSFORMED_TO,
            )
        )
        other = aliased(Link)
        orphans = list(
            self.session.scalars(
                select(Asset.id).where(
                    Asset.id.in_(ids), ~exists().where(other.target_id == Asset.id)
                )
            )
        )
        if orphans:
            self.session.execute(delete(Link).where(Link.source_id.in_(orphans)))
            self.session.execute(delete(Asset).where(Asset.id.in_(orphans)))
        self.session.flush()
