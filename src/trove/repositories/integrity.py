"""Duplicate groups, bitrot findings, verification bookkeeping, hashes the cache may keep."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, delete, func, select, update
from sqlalchemy.orm import Session

from trove.db.models import Asset, AssetStep, IntegrityFinding, Link, Root
from trove.domain.access import Viewer
from trove.domain.enums import AssetStatus, AssetType, Relation
from trove.domain.ids import new_id
from trove.repositories._sql import rowcount, utcnow
from trove.repositories.access import visible_assets
from trove.repositories.assets import AssetRepository
from trove.repositories.links import LinkRepository, edge
from trove.storage.cache import URN_PREFIX

CORRUPTED = "corrupted"


class VerifyCandidate(NamedTuple):
    id: str
    root_path: str
    rel_path: str
    path_escaped: bool
    size: int
    mtime_ns: int | None
    hash: str
    ctime_ns: int | None


def is_copy() -> ColumnElement[bool]:
    """What counts as a copy of a file: a physical, present, visible file with a known hash.

    Empty files are left out (every empty file has the same hash; like jdupes without -z),
    and so are missing ones: "this file also exists in ..." must name files that exist.
    """
    return and_(
        Asset.hash.is_not(None),
        Asset.size > 0,
        Asset.deleted_at.is_(None),
        Asset.status != AssetStatus.MISSING,
        Asset.asset_type != "collection",
        Asset.rel_path.is_not(None),
    )


class IntegrityRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- duplicates ------------------------------------------------------------------------

    def copies(
        self, hashes: Sequence[str], *, viewer: Viewer | None = None
    ) -> list[tuple[Asset, str]]:
        """Every copy with one of these hashes (that the viewer may see, when given), with
        its root's path, oldest first."""
        found: list[tuple[Asset, str]] = []
        for start in range(0, len(hashes), 500):
            stmt = (
                select(Asset, Root.path)
                .join(Root, Root.id == Asset.root_id)
                .where(is_copy(), Asset.hash.in_(hashes[start : start + 500]))
                .order_by(Asset.id)
            )
            if viewer is not None:
                stmt = stmt.where(visible_assets(viewer))
            found += [(asset, root_path) for asset, root_path in self.session.execute(stmt)]
        return found

    def sync_duplicate_links(self) -> tuple[int, int]:
        """Make the `duplicate_of` edges match the hashes: each copy -> the group's first
        asset. Returns (added, removed). Set-based: one grouped query, then only the
        difference is written, so an unchanged library writes nothing."""
        canon = (
            select(Asset.hash.label("hash"), func.min(Asset.id).label("canon"))
            .where(is_copy())
            .group_by(Asset.hash)
            .having(func.count() > 1)
            .subquery()
        )
        wanted = {
            (source, target)
            for source, target in self.session.execute(
                select(Asset.id, canon.c.canon)
                .join(canon, canon.c.hash == Asset.hash)
                .where(is_copy(), Asset.id != canon.c.canon)
            )
        }
        existing = {
            (source, target): link_id
            for link_id, source, target in self.session.execute(
                select(Link.id, Link.source_id, Link.target_id).where(
                    Link.relation == Relation.DUPLICATE_OF
                )
            )
        }
        stale = [link_id for pair, link_id in existing.items() if pair not in wanted]
        for start in range(0, len(stale), 500):
            self.session.execute(delete(Link).where(Link.id.in_(stale[start : start + 500])))
        missing = [edge(s, t, Relation.DUPLICATE_OF) for s, t in wanted if (s, t) not in existing]
        LinkRepository(self.session).add_many(missing)
        return len(missing), len(stale)

    # --- bitrot ----------------------------------------------------------------------------

    def to_verify(
        self, *, verified_before: datetime | None, limit: int, after_id: str = ""
    ) -> list[VerifyCandidate]:
        """Hashed, present files of online roots, not verified since `verified_before`. A file
        never verified counts as verified when it was indexed (its hash was made then)."""
        stmt = (
            select(
                Asset.id,
                Root.path,
                Asset.rel_path,
                Asset.path_escaped,
                Asset.size,
                Asset.mtime_ns,
                Asset.hash,
                Asset.ctime_ns,
            )
            .join(Root, Root.id == Asset.root_id)
            .where(
                Asset.hash.is_not(None),
                Asset.status == AssetStatus.READY,
                Asset.asset_type != "collection",
                Asset.rel_path.is_not(None),
                Root.status == "online",
                Asset.id > after_id,
            )
            .order_by(Asset.id)
            .limit(limit)
        )
        if verified_before is not None:
            last_checked = func.coalesce(Asset.verified_at, Asset.created_at)
            stmt = stmt.where(last_checked < verified_before)
        return [VerifyCandidate._make(row) for row in self.session.execute(stmt)]

    def record_ctimes(self, ctimes: Iterable[tuple[str, int]]) -> None:
        """(asset id, ctime_ns) of files whose bytes were found as indexed."""
        rows = [{"id": asset_id, "ctime_ns": ctime_ns} for asset_id, ctime_ns in ctimes]
        AssetRepository(self.session).update_many(rows)

    def mark_rewritten(self, asset_ids: Iterable[str]) -> None:
        """Files whose bytes were replaced in place (same size and mtime): indexed again, as
        a scan indexes a changed file; the pipeline hashes and describes them anew."""
        ids = list(asset_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            self.session.execute(delete(AssetStep).where(AssetStep.asset_id.in_(chunk)))
            self.session.execute(
                update(Asset)
                .where(Asset.id.in_(chunk))
                .values(hash=None, status=AssetStatus.PROCESSING, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        self.resolve(ids)

    def mark_verified(self, asset_ids: Iterable[str], *, at: datetime) -> None:
        ids = list(asset_ids)
        for start in range(0, len(ids), 500):
            self.session.execute(
                update(Asset)
                .where(Asset.id.in_(ids[start : start + 500]))
                .values(verified_at=at)
                .execution_options(synchronize_session=False)
            )

    def record_corruption(self, asset_id: str, *, expected: str, actual: str) -> bool:
        """Add a finding unless the same one is already open; True when it is new."""
        open_same = self.session.scalar(
            select(func.count()).where(
                IntegrityFinding.asset_id == asset_id,
                IntegrityFinding.resolved_at.is_(None),
                IntegrityFinding.actual_hash == actual,
            )
        )
        if open_same:
            return False
        self.session.add(
            IntegrityFinding(
                id=new_id(),
                asset_id=asset_id,
                kind=CORRUPTED,
                expected_hash=expected,
                actual_hash=actual,
                found_at=utcnow(),
            )
        )
        return True

    def resolve(self, asset_ids: Sequence[str]) -> int:
        """Close the open findings of these assets (their bytes match again, or were replaced)."""
        resolved = 0
        for start in range(0, len(asset_ids), 500):
            resolved += rowcount(
                self.session.execute(
                    update(IntegrityFinding)
                    .where(
                        IntegrityFinding.asset_id.in_(asset_ids[start : start + 500]),
                        IntegrityFinding.resolved_at.is_(None),
                    )
                    .values(resolved_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
            )
        return resolved

    def open_findings_for(self, asset_id: str) -> list[IntegrityFinding]:
        return list(
            self.session.scalars(
                select(IntegrityFinding)
                .where(
                    IntegrityFinding.asset_id == asset_id, IntegrityFinding.resolved_at.is_(None)
                )
                .order_by(IntegrityFinding.found_at)
            )
        )

    def corrupted_among(self, asset_ids: Sequence[str]) -> set[str]:
        """Which of these assets have an open `corrupted` finding (a failed bitrot check)."""
        if not asset_ids:
            return set()
        return set(
            self.session.scalars(
                select(IntegrityFinding.asset_id).where(
                    IntegrityFinding.asset_id.in_(list(asset_ids)),
                    IntegrityFinding.kind == "corrupted",
                    IntegrityFinding.resolved_at.is_(None),
                )
            )
        )

    def findings(
        self, *, viewer: Viewer, include_resolved: bool, limit: int, after_id: str = ""
    ) -> list[tuple[IntegrityFinding, Asset, str | None]]:
        """Findings about assets the viewer may see, with the asset and its root's path, in
        the order they were found."""
        stmt = (
            select(IntegrityFinding, Asset, Root.path)
            .join(Asset, Asset.id == IntegrityFinding.asset_id)
            .outerjoin(Root, Root.id == Asset.root_id)
            .where(IntegrityFinding.id > after_id, visible_assets(viewer))
            .order_by(IntegrityFinding.id)
            .limit(limit)
        )
        if not include_resolved:
            stmt = stmt.where(IntegrityFinding.resolved_at.is_(None))
        return [(f, a, p) for f, a, p in self.session.execute(stmt)]

    def count_open_findings(self, *, viewer: Viewer) -> int:
        stmt = (
            select(func.count())
            .select_from(IntegrityFinding)
            .where(IntegrityFinding.resolved_at.is_(None))
        )
        if not viewer.sees_everything:
            stmt = stmt.join(Asset, Asset.id == IntegrityFinding.asset_id).where(
                visible_assets(viewer)
            )
        return int(self.session.scalar(stmt) or 0)

    # --- cache -----------------------------------------------------------------------------

    def referenced_hashes(self) -> set[str]:
        """Every hash any asset holds (missing and soft-deleted ones too: they may return),
        and the cache folders proxies live in (an edit render's is keyed by its edit list)."""
        held = {
            str(h) for h in self.session.scalars(select(Asset.hash).where(Asset.hash.is_not(None)))
        }
        proxies = self.session.scalars(
            select(Asset.storage_urn).where(
                Asset.asset_type == AssetType.PROXY, Asset.storage_urn.startswith(URN_PREFIX)
            )
        )
        return held | {urn.removeprefix(URN_PREFIX).partition("/")[0] for urn in proxies}
