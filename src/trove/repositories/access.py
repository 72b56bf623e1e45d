"""The one place that decides which assets a viewer may see, as a SQL predicate.

Every repository read of user-visible assets adds `visible_assets(viewer)` to its WHERE clause
(see domain/access.py for the rules). It is built from indexed lookups (owner, root members,
grants, album membership), so it narrows a query without scanning: an admin's predicate is
empty and costs nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, or_, select, true
from sqlalchemy.orm import aliased

from trove.db.models import Asset, AssetGrant, Link, RootMember
from trove.domain.access import Viewer
from trove.domain.enums import Relation, Visibility


def visible_assets(viewer: Viewer) -> ColumnElement[bool]:
    """True for the rows of `assets` the viewer may see.

    Each way in is a correlated EXISTS that probes a primary key or an index for the row at
    hand, never `id IN (SELECT ...)`: a listing walks the timeline index and stops after one
    page, so it checks a few hundred rows, where an IN list is built in full first (100,000
    grants: 0.7 s a page on SQLite instead of milliseconds; bench/access.py).
    """
    if viewer.share is not None:
        return _in_share(viewer.share.asset_id, is_album=viewer.share.is_album)
    if viewer.sees_everything:
        return true()
    if viewer.user_id is None:
        return false()
    user = viewer.user_id
    album = aliased(Link)
    return or_(
        Asset.owner_id == user,
        Asset.visibility == Visibility.PUBLIC,
        exists().where(RootMember.root_id == Asset.root_id, RootMember.user_id == user),
        exists().where(AssetGrant.asset_id == Asset.id, AssetGrant.user_id == user),
        exists()
        .where(album.target_id == Asset.id, album.relation == Relation.INCLUDES)
        .where(exists().where(AssetGrant.asset_id == album.source_id, AssetGrant.user_id == user)),
    )


def visible_ids(viewer: Viewer) -> Select[Any]:
    """`SELECT id FROM assets WHERE <visible>`: for queries that hold asset ids in another
    table's column (a link's ends, a finding's asset)."""
    return select(Asset.id).where(visible_assets(viewer))


def visible_node(
    node_id: ColumnElement[Any], node_type: ColumnElement[Any], viewer: Viewer
) -> ColumnElement[bool]:
    """A graph node the viewer may reach: an entity (people, projects: names, not files), or
    an asset they may see; for a share-link holder, only the share's assets. True outright
    for a viewer who sees everything."""
    if viewer.share is not None:  # a share holds assets only
        return node_id.in_(visible_ids(viewer))
    if viewer.sees_everything:
        return true()
    return or_(node_type != "Asset", node_id.in_(visible_ids(viewer)))


def visible_ids_sql(viewer: Viewer, *, dialect: Any) -> str | None:
    """`visible_ids` as SQL text for the hand-written recursive walks; None when the viewer
    sees everything (nothing to add). Its only values are ids and enum names, never input."""
    if viewer.sees_everything and viewer.share is None:
        return None
    compiled = visible_ids(viewer).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return str(compiled)


def _in_share(asset_id: str, *, is_album: bool) -> ColumnElement[bool]:
    """The shared asset; for an album, also what it includes (one level: members)."""
    if not is_album:
        return Asset.id == asset_id
    member = exists().where(
        Link.source_id == asset_id, Link.relation == Relation.INCLUDES, Link.target_id == Asset.id
    )
    return or_(Asset.id == asset_id, member)
