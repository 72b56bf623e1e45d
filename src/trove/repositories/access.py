"""The one place that decides which assets a viewer may see, as a SQL predicate.

Every repository read of user-visible assets adds `visible_assets(viewer)` to its WHERE clause
(see domain/access.py for the rules). It is built from indexed lookups (owner, root members,
grants, album membership), so it narrows a query without scanning: an admin's predicate is
empty and costs nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from trove.db.models import Asset, AssetGrant, Link, RootMember
from trove.domain.access import ShareScope, Viewer
from trove.domain.enums import AssetType, Relation, Visibility

# A region's picture, in the term that lets a region follow it; made once (an alias costs
# 2-3 ms of CPU to make, ten times the rest of the predicate).
_PICTURE = aliased(Asset, name="picture")


def visible_assets(viewer: Viewer) -> ColumnElement[bool]:
    """True for the rows of `assets` the viewer may see.

    Each way in is a probe of a primary key or an index for the row at hand: a listing walks
    the timeline index and stops after one page, so a few hundred rows are checked. Not
    `id IN (SELECT ...)` (SQLite builds the whole list first) and not EXISTS (PostgreSQL
    hashes the whole subquery first): with 100,000 grants either took 0.4-0.7 s a page,
    where `(SELECT 1 ... LIMIT 1) IS NOT NULL` stays a per-row probe on both (bench/access.py).
    """
    if viewer.share is not None:
        return _in_share(viewer.share)
    if viewer.sees_everything:
        return true()
    if viewer.user_id is None:
        return false()
    user = viewer.user_id
    return or_(
        *_ways_in(Asset, user),
        and_(  # a region its picture's owner drew, on a picture they see (domain/access.py)
            Asset.asset_type == AssetType.REGION,
            _region_on_a_picture(
                _PICTURE.owner_id == Asset.owner_id, or_(*_ways_in(_PICTURE, user))
            ),
        ),
    )


def _region_on_a_picture(*picture_is: ColumnElement[bool]) -> ColumnElement[bool]:
    """Whether the enclosing query's asset is a region of a picture (`_PICTURE`) such that
    `picture_is`: one probe of its `extracted_from` link."""
    return _probe(
        select(literal(1))
        .select_from(Link)
        .join(_PICTURE, _PICTURE.id == Link.target_id)
        .where(Link.source_id == Asset.id, Link.relation == Relation.EXTRACTED_FROM, *picture_is)
    )


def _ways_in(asset: Any, user: str) -> list[ColumnElement[bool]]:
    """Each way a user sees the row of `asset` (the `assets` table or an alias of it)."""
    return [
        asset.owner_id == user,
        asset.visibility == Visibility.PUBLIC,
        _probe(
            select(literal(1)).where(
                RootMember.root_id == asset.root_id, RootMember.user_id == user
            ),
            asset,
        ),
        _probe(  # granted to them
            select(literal(1)).where(AssetGrant.asset_id == asset.id, AssetGrant.user_id == user),
            asset,
        ),
        _probe(  # granted through an album that includes it
            select(literal(1))
            .select_from(Link)
            .join(
                AssetGrant,
                and_(AssetGrant.asset_id == Link.source_id, AssetGrant.user_id == user),
            )
            .where(Link.target_id == asset.id, Link.relation == Relation.INCLUDES),
            asset,
        ),
    ]


def has_visible_copy(viewer: Viewer) -> ColumnElement[bool]:
    """True for the rows of `assets` with another copy (the same content, not in the Trash)
    that the viewer may see too: `is:duplicate` tells nothing of files in libraries they
    cannot open. A per-row probe of the hash index; everything at once for who sees all."""
    if viewer.sees_everything:
        copies = Asset.__table__.alias("copies")
        shared = (
            select(copies.c.hash)
            .where(copies.c.hash.is_not(None), copies.c.deleted_at.is_(None))
            .group_by(copies.c.hash)
            .having(func.count() > 1)
        )
        return Asset.hash.in_(shared)
    if viewer.share is not None or viewer.user_id is None:
        return false()  # a share link's holder is shown one asset or album, not its copies
    copy = aliased(Asset, name="copy")
    other = select(literal(1)).where(
        copy.hash == Asset.hash,
        copy.id != Asset.id,
        copy.deleted_at.is_(None),
        or_(*_ways_in(copy, viewer.user_id)),
    )
    return and_(Asset.hash.is_not(None), _probe(other))


def changeable_assets(viewer: Viewer) -> ColumnElement[bool]:
    """True for the rows of `assets` the viewer may change (domain/access.py): an admin's
    all; a writing user's own and those of the libraries assigned to them with `can_write`;
    none for a read-only credential or a share link. Seeing is not changing: a public asset,
    a granted one, one in a library assigned read-only stays as it is."""
    if viewer.share is not None or not viewer.can_write:
        return false()
    if viewer.sees_everything:
        return true()
    if viewer.user_id is None:
        return false()
    user = viewer.user_id
    return or_(
        Asset.owner_id == user,
        _probe(
            select(literal(1)).where(
                RootMember.root_id == Asset.root_id,
                RootMember.user_id == user,
                RootMember.can_write.is_(True),
            )
        ),
    )


def _probe(subquery: Select[Any], asset: Any = Asset) -> ColumnElement[bool]:
    """Whether the subquery finds a row for the enclosing query's asset, as a per-row probe
    (see above). Only `asset` is correlated: its other tables stay its own even when the
    enclosing query reads them too (a page of links)."""
    return subquery.correlate(asset).limit(1).scalar_subquery().is_not(None)


def visible_node(
    node_id: ColumnElement[Any], node_type: ColumnElement[Any], viewer: Viewer
) -> ColumnElement[bool]:
    """A graph node the viewer may reach: an entity (people, projects: names, not files), or
    an asset they may see that is not in the Trash (deleting hides an asset everywhere, the
    graph too, for an admin as well); for a share-link holder, only the share's assets."""
    if viewer.share is not None:  # a share holds assets only
        return _visible_asset(node_id, viewer)
    return or_(node_type != "Asset", _visible_asset(node_id, viewer))


def visible_node_sql(viewer: Viewer, *, node: str, node_type: str, dialect: Any) -> str:
    """`visible_node` as SQL text for the hand-written recursive walks, over the columns named
    `node` and `node_type`. Its only values are ids and enum names, never input."""
    condition = visible_node(literal_column(node), literal_column(node_type), viewer)
    return str(condition.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _visible_asset(node_id: ColumnElement[Any], viewer: Viewer) -> ColumnElement[bool]:
    """The asset with this id is one the viewer may see and not deleted: one probe, not a
    list of them all. For a query over another table (links); over `assets` itself, use
    `visible_assets`."""
    found = select(literal(1)).where(
        Asset.id == node_id, Asset.deleted_at.is_(None), visible_assets(viewer)
    )
    return found.correlate_except(Asset).limit(1).scalar_subquery().is_not(None)


def _in_share(scope: ShareScope) -> ColumnElement[bool]:
    """The shared asset; for an album, also what it includes (one level: members); of
    these, what its sharer may share (domain/access.py)."""
    shared = Asset.id == scope.asset_id
    if scope.is_album:
        member = select(literal(1)).where(
            Link.source_id == scope.asset_id,
            Link.relation == Relation.INCLUDES,
            Link.target_id == Asset.id,
        )
        shared = or_(shared, _probe(member))
    if scope.owner_id is None:
        return shared
    return and_(shared, shareable_by(scope.owner_id))


def shareable_by(user: str) -> ColumnElement[bool]:
    """True for the rows of `assets` a member may put behind a share link: their own, and of
    those a region only on a picture of theirs (a region they drew on another's picture is
    theirs, but it shows that picture, whole if drawn over the whole frame)."""
    on_own_picture = _region_on_a_picture(_PICTURE.owner_id == user)
    return and_(Asset.owner_id == user, or_(Asset.asset_type != AssetType.REGION, on_own_picture))
