"""The one place that decides which assets a viewer may see, as a SQL predicate.

Every repository read of user-visible assets adds `visible_assets(viewer)` to its WHERE clause
(see domain/access.py for the rules). It is built from indexed lookups (owner, root members,
grants, album membership), so it narrows a query without scanning: an admin's predicate is
empty and costs nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from trove.db.models import Asset, AssetGrant, Link, RootMember
from trove.domain.access import Viewer
from trove.domain.enums import Relation, Visibility


def visible_assets(viewer: Viewer) -> ColumnElement[bool]:
    """True for the rows of `assets` the viewer may see."""
    if viewer.share is not None:
        return _in_share(viewer.share.asset_id, is_album=viewer.share.is_album)
    if viewer.sees_everything:
        return true()
    if viewer.user_id is None:
        return false()
    user = viewer.user_id
    granted = select(AssetGrant.asset_id).where(AssetGrant.user_id == user)
    return or_(
        Asset.owner_id == user,
        Asset.root_id.in_(select(RootMember.root_id).where(RootMember.user_id == user)),
        Asset.id.in_(granted),
        Asset.id.in_(_included_by(granted)),
        Asset.visibility == Visibility.PUBLIC,
    )


def visible_ids(viewer: Viewer) -> Select[Any]:
    """`SELECT id FROM assets WHERE <visible>`: for queries that hold asset ids in another
    table's column (a link's ends, a finding's asset)."""
    return select(Asset.id).where(visible_assets(viewer))


def visible_node(
    node_id: ColumnElement[Any], node_type: ColumnElement[Any], viewer: Viewer
) -> ColumnElement[bool]:
    """A graph node the viewer may reach: an entity (people, projects: names, not files), or
    an asset they may see. True outright for a viewer who sees everything."""
    if viewer.sees_everything and viewer.share is None:
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
    if not is_album:
        return Asset.id == asset_id
    return or_(Asset.id == asset_id, Asset.id.in_(_included_by([asset_id])))


def _included_by(albums: Select[Any] | list[str]) -> Select[Any]:
    """The assets an album includes (its `includes` links, one level: albums are flat)."""
    return select(Link.target_id).where(
        and_(Link.source_id.in_(albums), Link.relation == Relation.INCLUDES)
    )
