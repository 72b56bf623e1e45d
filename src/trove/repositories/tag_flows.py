"""Inherited tags: an asset inherits every own tag of the assets above it through hierarchical
edges (a folder `contains` it, an album `includes` it, ...), with where each came from.

The rows are materialised (`inherited_tags`: asset, tag, source) so a tag filter stays one index
lookup. Each change moves only the rows it can affect, with one INSERT ... SELECT or DELETE over
a depth-bounded recursive CTE (a row met twice, by two paths down, is ignored by the insert):

- a tag added to X: X's tag flows to X's descendants; removed: the rows whose source is X go;
- an edge P -> C added: what P has (own tags and inherited rows) flows to C and below;
- edges into C removed: C's subtree loses its rows and inherits again from what is still above
  it (a row whose source still reaches it by another path comes back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, text
from sqlalchemy.orm import Session

from trove.db.models import Asset, AssetTag, InheritedTag
from trove.domain.enums import Relation
from trove.repositories._sql import depth_bounded, expanding

# Deeper hierarchies than this do not inherit further (and a cycle ends there).
MAX_HIERARCHY_DEPTH = 64
CHUNK = 5000
BUILTIN_HIERARCHICAL = (Relation.CONTAINS, Relation.INCLUDES, Relation.OWNS)


class TagFlows:
    def __init__(self, session: Session, *, hierarchical: Sequence[str] | None = None) -> None:
        """`hierarchical`: the relations that carry tags (the registry's); by default Trove's
        own, which are all the scanner and the pipeline write."""
        self.session = session
        self.hierarchical = tuple(BUILTIN_HIERARCHICAL if hierarchical is None else hierarchical)

    # --- tags changed -------------------------------------------------------------------------

    def tags_added(self, source_ids: Sequence[str], tags: Sequence[str]) -> None:
        """Own `tags` of these assets (already written) flow to everything below them."""
        if not self.hierarchical or not source_ids or not tags:
            return
        for start in range(0, len(source_ids), CHUNK):
            self._execute(
                "WITH RECURSIVE down(node, source, depth) AS ("
                "SELECT l.target_id, l.source_id, 1 FROM links l "
                "WHERE l.source_id IN :sources AND l.relation IN :hier "
                "UNION SELECT l.target_id, d.source, d.depth + 1 FROM links l "
                "JOIN down d ON l.source_id = d.node "
                "WHERE l.relation IN :hier AND BOUND(d)) "
                "{insert} SELECT d.node, t.tag, d.source FROM down d "
                "JOIN asset_tags t ON t.asset_id = d.source AND t.tag IN :tags "
                "JOIN assets a ON a.id = d.node WHERE d.node <> d.source",
                sources=tuple(source_ids[start : start + CHUNK]),
                tags=tuple(tags),
            )

    def tags_removed(self, source_id: str, tags: Sequence[str]) -> None:
        if tags:
            self.session.execute(
                delete(InheritedTag).where(
                    InheritedTag.source_id == source_id, InheritedTag.tag.in_(list(tags))
                )
            )

    def nodes_removed(self, node_ids: Sequence[str]) -> None:
        """Nodes that are going: their rows, and everything inherited from them."""
        ids = list(node_ids)
        self.session.execute(
            delete(InheritedTag).where(
                or_(InheritedTag.asset_id.in_(ids), InheritedTag.source_id.in_(ids))
            )
        )

    # --- edges changed ------------------------------------------------------------------------

    def edges_added(self, edges: Sequence[tuple[str, str, str]]) -> None:
        """(source, target, relation) edges just written: what each hierarchical source has
        flows down to its new child and below. One cheap lookup when no parent has a tag."""
        pairs = [(s, t) for s, t, relation in edges if relation in self.hierarchical]
        parents = self._with_tags(sorted({s for s, _t in pairs}))
        if not parents:
            return
        holders = set(parents)
        children = sorted({t for s, t in pairs if s in holders})
        self._execute(
            "WITH RECURSIVE down(node, parent, depth) AS ("
            "SELECT l.target_id, l.source_id, 1 FROM links l WHERE l.source_id IN :parents "
            "AND l.target_id IN :children AND l.relation IN :hier "
            "UNION SELECT l.target_id, d.parent, d.depth + 1 FROM links l "
            "JOIN down d ON l.source_id = d.node "
            "WHERE l.relation IN :hier AND BOUND(d)), "
            "flows(holder, tag, source) AS ("
            "SELECT asset_id, tag, asset_id FROM asset_tags WHERE asset_id IN :parents "
            "UNION ALL SELECT asset_id, tag, source_id FROM inherited_tags "
            "WHERE asset_id IN :parents) "
            "{insert} SELECT d.node, f.tag, f.source FROM down d "
            "JOIN flows f ON f.holder = d.parent JOIN assets a ON a.id = d.node "
            "WHERE d.node <> f.source",
            parents=tuple(parents),
            children=tuple(children),
        )

    def edges_removed(self, children: Sequence[str]) -> None:
        """Hierarchical edges into `children` are gone: their subtrees inherit again from what
        is still above them. Nothing to do when none of them inherited anything."""
        children = list(dict.fromkeys(children))
        if not self.hierarchical or not children or not self._inherits_any(children):
            return
        subtree = (
            "WITH RECURSIVE sub(node, depth) AS ("
            "SELECT a.id, 0 FROM assets a WHERE a.id IN :children "
            "UNION SELECT l.target_id, s.depth + 1 FROM links l JOIN sub s "
            "ON l.source_id = s.node WHERE l.relation IN :hier AND BOUND(s))"
        )
        self._execute(
            f"{subtree} DELETE FROM inherited_tags WHERE asset_id IN (SELECT node FROM sub)",
            children=tuple(children),
        )
        self._execute(
            f"{subtree}, up(node, ancestor, depth) AS ("
            "SELECT l.target_id, l.source_id, 1 FROM links l "
            "WHERE l.target_id IN (SELECT node FROM sub) AND l.relation IN :hier "
            "UNION SELECT u.node, l.source_id, u.depth + 1 FROM links l "
            "JOIN up u ON l.target_id = u.ancestor "
            "WHERE l.relation IN :hier AND BOUND(u)) "
            "{insert} SELECT u.node, t.tag, u.ancestor FROM up u "
            "JOIN asset_tags t ON t.asset_id = u.ancestor JOIN assets a ON a.id = u.node "
            "WHERE u.node <> u.ancestor",
            children=tuple(children),
        )

    # --- reads --------------------------------------------------------------------------------

    def inherited_of(self, asset_ids: Sequence[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """asset -> tag -> where it comes from (`id`, `name`, `asset_type` of each source)."""
        if not asset_ids:
            return {}
        rows = self.session.execute(
            select(
                InheritedTag.asset_id,
                InheritedTag.tag,
                Asset.id,
                func.coalesce(Asset.title, Asset.filename),
                Asset.asset_type,
            )
            .join(Asset, Asset.id == InheritedTag.source_id)
            .where(InheritedTag.asset_id.in_(list(asset_ids)))
            .order_by(InheritedTag.asset_id, InheritedTag.tag, Asset.filename)
        )
        found: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for asset_id, tag, source_id, name, asset_type in rows:
            source = {"id": source_id, "name": name, "asset_type": asset_type}
            found.setdefault(asset_id, {}).setdefault(tag, []).append(source)
        return found

    def _with_tags(self, node_ids: list[str]) -> list[str]:
        """Those of the nodes that have an own or inherited tag to pass on."""
        if not node_ids:
            return []
        own = select(AssetTag.asset_id).where(AssetTag.asset_id.in_(node_ids))
        inherited = select(InheritedTag.asset_id).where(InheritedTag.asset_id.in_(node_ids))
        return sorted(set(self.session.scalars(own.union(inherited))))

    def _inherits_any(self, node_ids: list[str]) -> bool:
        return bool(
            self.session.scalar(
                select(
                    exists().where(
                        or_(
                            *[
                                InheritedTag.asset_id.in_(node_ids[i : i + CHUNK])
                                for i in range(0, len(node_ids), CHUNK)
                            ]
                        )
                    )
                )
            )
        )

    def _execute(self, sql: str, **params: Any) -> None:
        dialect = self.session.get_bind().dialect.name
        insert = (
            "INSERT INTO inherited_tags (asset_id, tag, source_id)"
            if dialect == "postgresql"
            else "INSERT OR IGNORE INTO inherited_tags (asset_id, tag, source_id)"
        )
        statement = depth_bounded(sql.replace("{insert}", insert), dialect=dialect)
        if dialect == "postgresql" and "{insert}" in sql:
            statement += " ON CONFLICT DO NOTHING"
        values = {**params, "hier": self.hierarchical, "max_depth": MAX_HIERARCHY_DEPTH}
        self.session.execute(text(statement).bindparams(*expanding(values)), values)
