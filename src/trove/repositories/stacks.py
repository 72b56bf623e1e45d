"""Stacks: the copies of one file (one SHA-256) shown as one tile, under the copy a person
preferred (`preferred_copies`) or else the first indexed one the viewer may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, delete, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from trove.db.models import Asset, PreferredCopy
from trove.domain.access import Viewer
from trove.domain.enums import AssetStatus, AssetType
from trove.repositories._sql import utcnow
from trove.repositories.access import visible_assets


def stacked_under_another(viewer: Viewer) -> ColumnElement[bool]:
    """True for a listed asset that another copy the viewer sees stands for: the preferred
    copy, or (none preferred, or not one they see) a copy indexed before it.

    Per listed row one probe of the hash index (a page reads a few hundred rows); a file
    without a hash, a folder, an empty file is never stacked.
    """
    other = aliased(Asset, name="stack_other")
    preferred = (
        select(PreferredCopy.asset_id)
        .where(PreferredCopy.hash == Asset.hash)
        .correlate(Asset)
        .scalar_subquery()
    )
    conditions = [
        other.hash == Asset.hash,
        other.id != Asset.id,
        *_is_copy(other),
        or_(
            other.id == preferred,
            and_(or_(preferred.is_(None), Asset.id != preferred), other.id < Asset.id),
        ),
    ]
    if not (viewer.sees_everything and viewer.share is None):
        conditions.append(_visible(other, viewer))
    return exists(select(literal(1)).select_from(other).where(*conditions).correlate(Asset))


def _is_copy(copy: type[Asset]) -> list[ColumnElement[bool]]:
    """As repositories/integrity.py `is_copy`: a present, visible file with content."""
    return [
        copy.size > 0,
        copy.deleted_at.is_(None),
        copy.status != AssetStatus.MISSING,
        copy.asset_type != AssetType.COLLECTION,
        copy.rel_path.is_not(None),
    ]


def _visible(other: type[Asset], viewer: Viewer) -> ColumnElement[bool]:
    """The other copy is one the viewer may see: `visible_assets` over a FROM of its own
    (its probes name `assets`, which SQL resolves to the innermost query holding it)."""
    table = Asset.__table__
    probe = (
        select(literal(1))
        .select_from(table)
        .where(Asset.id == other.id, visible_assets(viewer))
        .correlate_except(table)
    )
    return exists(probe)


class StackRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def preferred(self, hashes: Sequence[str]) -> dict[str, str]:
        """hash -> the preferred copy's id, for those that have one."""
        if not hashes:
            return {}
        rows = self.session.execute(
            select(PreferredCopy.hash, PreferredCopy.asset_id).where(
                PreferredCopy.hash.in_(list(hashes))
            )
        )
        return {str(h): str(a) for h, a in rows}

    def all_preferred(self) -> list[tuple[str, str]]:
        """Every (hash, asset id) choice, for the export."""
        rows = self.session.execute(select(PreferredCopy.hash, PreferredCopy.asset_id))
        return [(str(h), str(a)) for h, a in rows]

    def prefer(self, content_hash: str, asset_id: str, *, chosen_by: str | None) -> None:
        self.session.execute(delete(PreferredCopy).where(PreferredCopy.hash == content_hash))
        self.session.add(
            PreferredCopy(
                hash=content_hash, asset_id=asset_id, chosen_by=chosen_by, chosen_at=utcnow()
            )
        )
        self.session.flush()

    def counts(self, hashes: Sequence[str], *, viewer: Viewer) -> dict[str, int]:
        """hash -> how many copies the viewer sees, for the hashes held more than once."""
        if not hashes:
            return {}
        rows = self.session.execute(
            select(Asset.hash, func.count())
            .where(Asset.hash.in_(list(hashes)), *_is_copy(Asset), visible_assets(viewer))
            .group_by(Asset.hash)
            .having(func.count() > 1)
        )
        return {str(h): int(n) for h, n in rows}

    def members(self, content_hash: str, *, viewer: Viewer) -> list[Asset]:
        """The copies of one file the viewer sees, the preferred first, then oldest first."""
        preferred = self.preferred([content_hash]).get(content_hash)
        rows = self.session.scalars(
            select(Asset)
            .where(Asset.hash == content_hash, *_is_copy(Asset), visible_assets(viewer))
            .order_by(Asset.id)
        )
        return sorted(rows, key=lambda a: a.id != preferred)
