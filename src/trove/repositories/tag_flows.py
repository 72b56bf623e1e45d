"""Inherited tags: an asset inherits every own tag of the assets above it through hierarchical
edges (a folder `contains` it, an album `includes` it, ...), with where each came from.

Rows (`inherited_tags`: asset, tag, source) are kept for the *holders* only, the nodes that have
hierarchical children (folders, albums); what a file inherits is read through its parents (their
own tags and their rows), one indexed join. So tagging a folder of 100k files writes a row per
sub-folder, not per file, and moving a file changes nothing stored. Each change moves only the
rows it can affect, with one statement over a depth-bounded recursive CTE that walks holders:

- a tag added to X: it flows to the holders below X; removed: the rows whose source is X go;
- an edge P -> C added: P's rows are completed from its parents (it may have just become a
  holder), then what P has (own tags and rows) flows to C and the holders below it;
- edges into C removed: C and the holders below it lose their rows and inherit again from what
  is still above them (a row whose source still reaches them by another path comes back); a
  parent left without children loses its rows (it is read through its parents from now on).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, exists, func, or_, select, text, union, union_all
from sqlalchemy.orm import Session

from trove.db.models import Asset, AssetTag, InheritedTag, Link
from trove.domain.enums import Relation
from trove.repositories._sql import depth_bounded, expanding

# Deeper hierarchies than this do not inherit further (and a cycle ends there).
MAX_HIERARCHY_DEPTH = 64
CHUNK = 5000
BUILTIN_HIERARCHICAL = (Relation.CONTAINS, Relation.INCLUDES, Relation.OWNS)
# `l` leads to a holder: a node with hierarchical children of its own.
_TO_HOLDER = (
    "EXISTS (SELECT 1 FROM links c WHERE c.source_id = l.target_id AND c.relation IN :hier)"
)


def tagged(tag: str, *, hierarchical: Sequence[str] | None = None) -> Select[Any]:
    """Ids of the assets that have `tag`, as their own or inherited: for a listing's filter."""
    relations = list(BUILTIN_HIERARCHICAL if hierarchical is None else hierarchical)
    own = select(AssetTag.asset_id).where(AssetTag.tag == tag)
    rows = select(InheritedTag.asset_id).where(InheritedTag.tag == tag)
    below = select(Link.target_id).where(
        Link.relation.in_(relations), Link.source_id.in_(union_all(own, rows))
    )
    return select(union_all(own, rows, below).subquery().c[0])


class TagFlows:
    def __init__(self, session: Session, *, hierarchical: Sequence[str] | None = None) -> None:
        """`hierarchical`: the relations that carry tags (the registry's); by default Trove's
        own, which are all the scanner and the pipeline write."""
        self.session = session
        self.hierarchical = tuple(BUILTIN_HIERARCHICAL if hierarchical is None else hierarchical)

    # --- tags changed -------------------------------------------------------------------------

    def tags_added(self, source_ids: Sequence[str], tags: Sequence[str]) -> None:
        """Own `tags` of these assets (already written) flow to the holders below them."""
        if not self.hierarchical or not source_ids or not tags:
            return
        for start in range(0, len(source_ids), CHUNK):
            self._execute(
                "WITH RECURSIVE down(node, source, depth) AS ("
                "SELECT l.target_id, l.source_id, 1 FROM links l "
                f"WHERE l.source_id IN :sources AND l.relation IN :hier AND {_TO_HOLDER} "
                "UNION SELECT l.target_id, d.source, d.depth + 1 FROM links l "
                "JOIN down d ON l.source_id = d.node "
                f"WHERE l.relation IN :hier AND BOUND(d) AND {_TO_HOLDER}) "
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
        """(source, target, relation) edges just written: each hierarchical source is a holder
        now, with rows from its parents; what it has flows to its new child and the holders
        below. Two indexed statements when no parent has a tag (a scan's batches)."""
        pairs = [(s, t) for s, t, relation in edges if relation in self.hierarchical]
        parents = sorted({s for s, _t in pairs})
        if not parents:
            return
        self._complete_rows(parents)
        holders = set(self._with_tags(parents))
        if not holders:
            return
        children = sorted({t for s, t in pairs if s in holders})
        self._execute(
            "WITH RECURSIVE down(node, parent, depth) AS ("
            "SELECT l.target_id, l.source_id, 1 FROM links l WHERE l.source_id IN :parents "
            f"AND l.target_id IN :children AND l.relation IN :hier AND {_TO_HOLDER} "
            "UNION SELECT l.target_id, d.parent, d.depth + 1 FROM links l "
            "JOIN down d ON l.source_id = d.node "
            f"WHERE l.relation IN :hier AND BOUND(d) AND {_TO_HOLDER}), "
            "flows(holder, tag, source) AS ("
            "SELECT asset_id, tag, asset_id FROM asset_tags WHERE asset_id IN :parents "
            "UNION ALL SELECT asset_id, tag, source_id FROM inherited_tags "
            "WHERE asset_id IN :parents) "
            "{insert} SELECT d.node, f.tag, f.source FROM down d "
            "JOIN flows f ON f.holder = d.parent JOIN assets a ON a.id = d.node "
            "WHERE d.node <> f.source",
            parents=tuple(sorted(holders)),
            children=tuple(children),
        )

    def edges_removed(self, children: Sequence[str], *, parents: Sequence[str] = ()) -> None:
        """Hierarchical edges from `parents` into `children` are gone: the children and the
        holders below them inherit again from what is still above them, and a parent left
        without children keeps no rows."""
        children = list(dict.fromkeys(children))
        if not self.hierarchical or not children:
            return
        if parents:
            self._execute(
                "DELETE FROM inherited_tags WHERE asset_id IN :parents AND NOT EXISTS ("
                "SELECT 1 FROM links l WHERE l.source_id = inherited_tags.asset_id "
                "AND l.relation IN :hier)",
                parents=tuple(dict.fromkeys(parents)),
            )
        if not self._inherits_any(children):
            return
        subtree = (
            "WITH RECURSIVE sub(node, depth) AS ("
            "SELECT a.id, 0 FROM assets a WHERE a.id IN :children "
            "UNION SELECT l.target_id, s.depth + 1 FROM links l JOIN sub s "
            f"ON l.source_id = s.node WHERE l.relation IN :hier AND BOUND(s) AND {_TO_HOLDER})"
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
            "WHERE u.node <> u.ancestor "
            "AND EXISTS (SELECT 1 FROM links c WHERE c.source_id = u.node AND c.relation IN :hier)",
            children=tuple(children),
        )

    # --- reads --------------------------------------------------------------------------------

    def inherited_of(self, asset_ids: Sequence[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """asset -> tag -> where it comes from (`id`, `name`, `asset_type` of each source):
        the asset's rows, and its parents' own tags and rows."""
        if not asset_ids:
            return {}
        ids, relations = list(asset_ids), list(self.hierarchical)
        parent = Link.__table__.alias("parent")
        rows = union(
            select(InheritedTag.asset_id, InheritedTag.tag, InheritedTag.source_id).where(
                InheritedTag.asset_id.in_(ids)
            ),
            select(parent.c.target_id, AssetTag.tag, AssetTag.asset_id)
            .join(AssetTag, AssetTag.asset_id == parent.c.source_id)
            .where(parent.c.target_id.in_(ids), parent.c.relation.in_(relations)),
            select(parent.c.target_id, InheritedTag.tag, InheritedTag.source_id)
            .join(InheritedTag, InheritedTag.asset_id == parent.c.source_id)
            .where(parent.c.target_id.in_(ids), parent.c.relation.in_(relations)),
        ).subquery()
        named = self.session.execute(
            select(
                rows.c[0],
                rows.c[1],
                Asset.id,
                func.coalesce(func.nullif(Asset.title, ""), Asset.filename),
                Asset.asset_type,
            )
            .join(Asset, Asset.id == rows.c[2])
            .where(rows.c[0] != rows.c[2])
            .order_by(rows.c[0], rows.c[1], Asset.filename)
        )
        found: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for asset_id, tag, source_id, name, asset_type in named:
            source = {"id": source_id, "name": name, "asset_type": asset_type}
            found.setdefault(asset_id, {}).setdefault(tag, []).append(source)
        return found

    def _complete_rows(self, parents: list[str]) -> None:
        """Rows of these holders from their own parents (their own tags and rows)."""
        for sql in (
            "{insert} SELECT l.target_id, t.tag, t.asset_id FROM links l "
            "JOIN asset_tags t ON t.asset_id = l.source_id "
            "WHERE l.target_id IN :parents AND l.relation IN :hier",
            "{insert} SELECT l.target_id, r.tag, r.source_id FROM links l "
            "JOIN inherited_tags r ON r.asset_id = l.source_id "
            "WHERE l.target_id IN :parents AND l.relation IN :hier AND r.source_id <> l.target_id",
        ):
            self._execute(sql, parents=tuple(parents))

    def _with_tags(self, node_ids: list[str]) -> list[str]:
        """Those of the nodes that have an own or inherited tag to pass on."""
        if not node_ids:
            return []
        own = select(AssetTag.asset_id).where(AssetTag.asset_id.in_(node_ids))
        inherited = select(InheritedTag.asset_id).where(InheritedTag.asset_id.in_(node_ids))
        return sorted(set(self.session.scalars(own.union(inherited))))

    def _inherits_any(self, node_ids: list[str]) -> bool:
        chunks = [node_ids[i : i + CHUNK] for i in range(0, len(node_ids), CHUNK)]
        inherits = or_(*[InheritedTag.asset_id.in_(chunk) for chunk in chunks])
        return bool(self.session.scalar(select(exists().where(inherits))))

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
