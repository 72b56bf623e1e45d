"""pHash LSH bands and `visually_similar_to` edges (SQL for pipeline/similarity.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, delete, or_, select, text
from sqlalchemy.orm import Session

from trove.db.models import Asset, Link, PhashBand
from trove.repositories._sql import insert_ignoring_conflicts

RELATION = "visually_similar_to"


class SimilarityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def serialise_updates(self) -> None:
        """Two workers adding look-alikes at the same moment must see each other's bands:
        PostgreSQL serialises these transactions on an advisory lock (SQLite has one writer)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(7316001)"))

    def replace_bands(self, asset_id: str, bands: Sequence[int]) -> None:
        self.session.execute(delete(PhashBand).where(PhashBand.asset_id == asset_id))
        rows = [{"asset_id": asset_id, "band": i, "value": v} for i, v in enumerate(bands)]
        insert_ignoring_conflicts(self.session, PhashBand, rows)

    def candidates(
        self, asset_id: str, probes: Mapping[int, Sequence[int]], *, limit: int
    ) -> list[tuple[str, str]]:
        """(id, phash) of other live assets sharing a probed value in some band: an index
        lookup on (band, value), never a comparison with every asset."""
        match = or_(
            *(
                and_(PhashBand.band == band, PhashBand.value.in_(values))
                for band, values in probes.items()
            )
        )
        stmt = (
            select(Asset.id, Asset.phash)
            .join(PhashBand, PhashBand.asset_id == Asset.id)
            .where(
                match, Asset.id != asset_id, Asset.deleted_at.is_(None), Asset.phash.is_not(None)
            )
            .distinct()
            .limit(limit)
        )
        return [(str(i), str(h)) for i, h in self.session.execute(stmt)]

    def replace_links(self, asset_id: str, rows: list[dict[str, Any]]) -> None:
        self.session.execute(
            delete(Link).where(
                Link.relation == RELATION,
                or_(Link.source_id == asset_id, Link.target_id == asset_id),
            )
        )
        insert_ignoring_conflicts(self.session, Link, rows)
