"""Albums: `collection` assets without a file, their members by `includes` links in order.

Order is the `includes` link's `position`: smaller first, ties by asset id. What is put
between two members takes positions in the gap between theirs, so a drag writes one row
however large the album; only when a gap has been halved down to nothing are the links
behind it moved back, in one UPDATE (LinkRepository.shift_positions). Links are written
through LinkManager; this module writes only the album's own record, and reads albums, their
parents, and their members.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select, true, tuple_
from sqlalchemy.orm import Session, aliased

from trove.db.models import Asset, Link
from trove.domain.access import Viewer
from trove.domain.enums import AssetCategory, AssetStatus, AssetType, Relation
from trove.domain.ids import new_id
from trove.repositories._sql import utcnow
from trove.repositories.access import visible_assets
from trove.repositories.assets import listing_options


def is_album() -> ColumnElement[bool]:
    return and_(
        Asset.asset_type == AssetType.COLLECTION,
        Asset.category == AssetCategory.VIRTUAL,
        Asset.deleted_at.is_(None),
    )


# A member linked without a position (through the generic links API) sorts as position 0, the
# same on both databases (which otherwise put NULL first or last).
_POSITION = func.coalesce(Link.position, 0.0)


def _includes(album_id: str) -> ColumnElement[bool]:
    return and_(Link.source_id == album_id, Link.relation == Relation.INCLUDES)


class AlbumRepository:
    def __init__(self, session: Session, *, viewer: Viewer | None = None) -> None:
        """`viewer`: the albums, and the members, read are those this viewer may see (None:
        Trove's own work, such as redrawing a collage, which sees them all)."""
        self.session = session
        self.viewer = viewer

    def _visible(self) -> ColumnElement[bool]:
        return true() if self.viewer is None else visible_assets(self.viewer)

    # --- albums ----------------------------------------------------------------------------

    def add(
        self, *, name: str, description: str | None, meta: dict[str, Any], owner_id: str
    ) -> Asset:
        """A new album record: a `collection` asset with no file, dated now."""
        now = utcnow()
        album_id = new_id()
        album = Asset(
            id=album_id,
            filename=name,
            description=description,
            is_virtual=True,
            category=AssetCategory.VIRTUAL,
            asset_type=AssetType.COLLECTION,
            status=AssetStatus.READY,
            storage_urn=f"virtual://collection/{album_id}",
            owner_id=owner_id,
            thumbnails={},
            meta=meta,
            created_at=now,
            updated_at=now,
            timeline_at=now,
        )
        self.session.add(album)
        self.session.flush()
        return album

    def get(self, album_id: str) -> Asset | None:
        return self.session.scalar(
            select(Asset).where(Asset.id == album_id, is_album(), self._visible())
        )

    def get_many(self, album_ids: Sequence[str]) -> list[Asset]:
        return list(
            self.session.scalars(
                select(Asset).where(Asset.id.in_(album_ids), is_album(), self._visible())
            )
        )

    def all(self) -> list[Asset]:
        return list(
            self.session.scalars(
                select(Asset).where(is_album(), self._visible()).order_by(Asset.filename)
            )
        )

    def parents(self) -> dict[str, str]:
        """child album id -> parent album id, for every nested album."""
        parent = select(Asset.id).where(is_album())
        rows = self.session.execute(
            select(Link.target_id, Link.source_id).where(
                Link.relation == Relation.CONTAINS,
                Link.source_id.in_(parent),
                Link.target_id.in_(parent),
            )
        )
        return {child: parent_id for child, parent_id in rows}

    def parent_of(self, album_id: str) -> Link | None:
        return self.session.scalar(
            select(Link).where(
                Link.target_id == album_id,
                Link.relation == Relation.CONTAINS,
                Link.source_id.in_(select(Asset.id).where(is_album())),
            )
        )

    def ancestors(self, album_id: str, *, limit: int = 64) -> list[Asset]:
        """The albums this one is inside, outermost first (at most `limit` levels)."""
        found: list[Asset] = []
        link = self.parent_of(album_id)
        while link is not None and len(found) < limit:
            parent = self.get(link.source_id)
            if parent is None or parent in found:
                break
            found.insert(0, parent)
            link = self.parent_of(parent.id)
        return found

    def children_of(self, album_id: str) -> list[str]:
        return list(
            self.session.scalars(
                select(Link.target_id).where(
                    Link.source_id == album_id,
                    Link.relation == Relation.CONTAINS,
                    Link.target_id.in_(select(Asset.id).where(is_album())),
                )
            )
        )

    def with_members_changed_since(self) -> list[Asset]:
        """Albums including an asset edited (or processed) after the album itself was."""
        member = aliased(Asset)
        changed = (
            select(Link.source_id)
            .join(member, member.id == Link.target_id)
            .where(
                Link.relation == Relation.INCLUDES,
                Link.source_id == Asset.id,
                member.updated_at > Asset.updated_at,
            )
            .exists()
        )
        return list(self.session.scalars(select(Asset).where(is_album(), changed)))

    def member_counts(self) -> dict[str, int]:
        """album id -> how many visible assets it includes."""
        rows = self.session.execute(
            select(Link.source_id, func.count())
            .join(Asset, Asset.id == Link.target_id)
            .where(Link.relation == Relation.INCLUDES, Asset.deleted_at.is_(None), self._visible())
            .group_by(Link.source_id)
        )
        return {album_id: int(n) for album_id, n in rows}

    def member_count(self, album_id: str) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(Link)
                .join(Asset, Asset.id == Link.target_id)
                .where(_includes(album_id), Asset.deleted_at.is_(None), self._visible())
            )
            or 0
        )

    # --- members in order ------------------------------------------------------------------

    def members(
        self, album_id: str, *, limit: int, after: tuple[float, str] | None = None
    ) -> list[tuple[Asset, float]]:
        """One page of visible members in album order, each with its position."""
        key = tuple_(_POSITION, Asset.id)
        stmt = (
            select(Asset, _POSITION)
            .options(*listing_options(self.session))
            .join(Link, and_(Link.target_id == Asset.id, _includes(album_id)))
            .where(Asset.deleted_at.is_(None), self._visible())
        )
        if after is not None:
            stmt = stmt.where(key > tuple_(literal(after[0]), literal(after[1])))
        rows = self.session.execute(stmt.order_by(_POSITION, Asset.id).limit(limit))
        return [(asset, float(position or 0)) for asset, position in rows]

    def first_with_previews(self, album_id: str, *, limit: int) -> list[Asset]:
        stmt = (
            select(Asset)
            .join(Link, and_(Link.target_id == Asset.id, _includes(album_id)))
            .where(Asset.deleted_at.is_(None), Asset.hash.is_not(None))
            .order_by(_POSITION, Asset.id)
            .limit(limit * 4)
        )
        return [a for a in self.session.scalars(stmt) if a.thumbnails][:limit]

    def first_member_id(self, album_id: str) -> str | None:
        return self.session.scalar(
            select(Asset.id)
            .join(Link, and_(Link.target_id == Asset.id, _includes(album_id)))
            .where(Asset.deleted_at.is_(None), self._visible())
            .order_by(_POSITION, Asset.id)
            .limit(1)
        )

    def is_visible_member(self, album_id: str, asset_id: str) -> bool:
        """The album includes this asset, and it is not deleted."""
        found = self.session.scalar(
            select(Link.id)
            .join(Asset, Asset.id == Link.target_id)
            .where(_includes(album_id), Link.target_id == asset_id, Asset.deleted_at.is_(None))
            .limit(1)
        )
        return found is not None

    def member_ids(self, album_id: str, asset_ids: Sequence[str]) -> set[str]:
        return set(
            self.session.scalars(
                select(Link.target_id).where(_includes(album_id), Link.target_id.in_(asset_ids))
            )
        )

    def gap_at(
        self, album_id: str, index: int, *, leaving_out: Sequence[str] = ()
    ) -> tuple[float | None, float | None]:
        """The positions on either side of `index` (0-based, album order, not counting
        `leaving_out`): where something put "at index" goes. None past either end."""
        stmt = select(_POSITION).where(_includes(album_id))
        if leaving_out:
            stmt = stmt.where(Link.target_id.not_in(list(leaving_out)))
        ordered = stmt.order_by(_POSITION, Link.target_id)
        if index == 0:
            return None, self.session.scalar(ordered.limit(1))
        pair = list(self.session.scalars(ordered.offset(index - 1).limit(2)))
        if not pair:  # past the end
            return self.session.scalar(stmt.order_by(_POSITION.desc()).limit(1)), None
        return pair[0], pair[1] if len(pair) > 1 else None

    def end_position(self, album_id: str) -> float:
        last = self.session.scalar(select(func.max(_POSITION)).where(_includes(album_id)))
        return 0 if last is None else last + 1
