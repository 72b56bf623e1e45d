"""Graph edges (seed 3.3): one adjacency table, indexed both ways, and the queries over it.

Traversals run in the database: a page of one node's edges is an index range; anything
deeper is a recursive CTE with a depth bound (so cycles end), never the graph in memory.
Writes of hierarchical edges keep the inherited tags in step (repositories/tag_flows.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, aliased

from trove.db.models import Asset, Entity, Link
from trove.domain.access import Viewer
from trove.domain.enums import AssetType, Relation
from trove.domain.ids import new_id
from trove.repositories._sql import (
    depth_bounded,
    expanding,
    insert_if_absent,
    insert_ignoring_conflicts,
    utcnow,
)
from trove.repositories.access import visible_assets, visible_node, visible_node_sql
from trove.repositories.tag_flows import MAX_HIERARCHY_DEPTH, TagFlows

CHUNK = 5000


def edge(
    source_id: str, target_id: str, relation: str, *, at: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    """A Link row for bulk inserts between assets (made `at` that time, else now)."""
    return {
        "id": new_id(),
        "source_id": source_id,
        "source_type": "Asset",
        "target_id": target_id,
        "target_type": "Asset",
        "relation": relation,
        "weight": 1.0,
        "meta": {},
        "created_at": at or utcnow(),
        **extra,
    }


@dataclass(frozen=True)
class Hop:
    """One edge seen from a node: the node at its other end, and which way the edge points
    (`out`: stored node -> other). `depth` is how many edges from the start (1 = adjacent)."""

    node_id: str
    node_type: str
    relation: str
    direction: str
    link_id: str
    weight: float
    depth: int = 1

    @property
    def key(self) -> tuple[int, str, str, str]:
        """The order of a page, and what its cursor holds."""
        return (self.depth, self.relation, self.direction, self.node_id)


@dataclass(frozen=True)
class Branches:
    """Which stored edges a walk follows from a node: `out` relations (node is the source)
    and `in` relations (node is the target). None follows every relation, () none."""

    out: tuple[str, ...] | None
    inward: tuple[str, ...] | None


class LinkRepository:
    def __init__(
        self,
        session: Session,
        *,
        hierarchical: Sequence[str] | None = None,
        viewer: Viewer | None = None,
    ) -> None:
        """`hierarchical`: the relations whose edges carry tags down (the registry's).
        `viewer`: traversals (pages, walks, paths, node lookups) reach only the assets this
        viewer may see, and never pass through others; None is Trove's own work (all)."""
        self.session = session
        self.flows = TagFlows(session, hierarchical=hierarchical)
        self.viewer = viewer

    def _visible_here(self) -> ColumnElement[bool]:
        """For a query over `assets`: the rows the viewer may see."""
        return true() if self.viewer is None else visible_assets(self.viewer)

    def _reachable(self, node_id: Any, node_type: Any) -> ColumnElement[bool]:
        return true() if self.viewer is None else visible_node(node_id, node_type, self.viewer)

    # --- writes -----------------------------------------------------------------------------

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        insert_ignoring_conflicts(self.session, Link, rows)
        self.flows.edges_added([(r["source_id"], r["target_id"], r["relation"]) for r in rows])

    def add_if_new(self, row: dict[str, Any]) -> tuple[Link, bool]:
        """The link with row's (source, target, relation), and whether this call made it: two
        callers making the same link at once both get the one link, neither an error."""
        created = insert_if_absent(self.session, Link, {"id": new_id(), **row})
        link = self.find(row["source_id"], row["target_id"], row["relation"])
        assert link is not None  # just inserted, or committed by the caller that won the race
        if created:
            self.flows.edges_added([(link.source_id, link.target_id, link.relation)])
        return link, created

    def get(self, link_id: str) -> Link | None:
        return self.session.get(Link, link_id)

    def find(self, source_id: str, target_id: str, relation: str) -> Link | None:
        return self.session.scalar(
            select(Link).where(
                Link.source_id == source_id,
                Link.target_id == target_id,
                Link.relation == relation,
            )
        )

    def remove(self, link: Link) -> None:
        parent, child, relation = link.source_id, link.target_id, link.relation
        self.session.delete(link)
        self.session.flush()
        if relation in self.flows.hierarchical:
            self.flows.edges_removed([child], parents=[parent])

    def detach(self, target_ids: Sequence[str], *, relation: str) -> None:
        """Drop the `relation` edges into these nodes (an entry that moved leaves its folder)."""
        ids, parents = list(target_ids), list[str]()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            parents += self.session.scalars(
                select(Link.source_id).where(Link.target_id.in_(chunk), Link.relation == relation)
            )
            self.session.execute(
                delete(Link).where(Link.target_id.in_(chunk), Link.relation == relation)
            )
        if relation in self.flows.hierarchical:
            self.flows.edges_removed(ids, parents=parents)

    def remove_between(self, source_id: str, target_ids: Sequence[str], relation: str) -> None:
        """Drop `source -relation-> target` for each target (members leaving an album)."""
        ids = list(target_ids)
        for start in range(0, len(ids), CHUNK):
            self.session.execute(
                delete(Link).where(
                    Link.source_id == source_id,
                    Link.target_id.in_(ids[start : start + CHUNK]),
                    Link.relation == relation,
                )
            )
        if relation in self.flows.hierarchical:
            self.flows.edges_removed(ids, parents=[source_id])

    def delete_touching(self, node_ids: list[str]) -> None:
        """Orphan clean-up when nodes are dropped (seed 4.7, Integrity): their edges both ways
        go, and what inherited tags through them inherits again from what is left."""
        hierarchical = self.flows.hierarchical
        children = self.targets_of(node_ids, hierarchical)
        parents = self.sources_of(node_ids, hierarchical)
        self.session.execute(
            delete(Link).where(or_(Link.source_id.in_(node_ids), Link.target_id.in_(node_ids)))
        )
        self.flows.nodes_removed(node_ids)
        gone = set(node_ids)
        self.flows.edges_removed(
            [c for c in children if c not in gone], parents=[p for p in parents if p not in gone]
        )

    def set_position(self, link_id: str, position: float | None) -> None:
        self.session.execute(update(Link).where(Link.id == link_id).values(position=position))

    def shift_positions(self, source_id: str, relation: str, *, at: float, by: float) -> None:
        """Move the source's `relation` edges at or after position `at` back by `by` (room
        for what is put in at `at`)."""
        self.session.execute(
            update(Link)
            .where(Link.source_id == source_id, Link.relation == relation, Link.position >= at)
            .values(position=Link.position + by)
        )

    # --- reads ------------------------------------------------------------------------------

    def targets_of(self, source_ids: Sequence[str], relations: Sequence[str]) -> list[str]:
        if not source_ids or not relations:
            return []
        return list(
            self.session.scalars(
                select(Link.target_id).where(
                    Link.source_id.in_(list(source_ids)), Link.relation.in_(list(relations))
                )
            )
        )

    def pairs_from(self, source_ids: Sequence[str], relation: str) -> list[tuple[str, str]]:
        """(source, target) of the `relation` edges leaving these nodes."""
        if not source_ids:
            return []
        rows = self.session.execute(
            select(Link.source_id, Link.target_id).where(
                Link.source_id.in_(list(source_ids)), Link.relation == relation
            )
        )
        return [(str(source), str(target)) for source, target in rows]

    def sources_of(self, target_ids: Sequence[str], relations: Sequence[str]) -> list[str]:
        if not target_ids or not relations:
            return []
        return list(
            self.session.scalars(
                select(Link.source_id).where(
                    Link.target_id.in_(list(target_ids)), Link.relation.in_(list(relations))
                )
            )
        )

    def is_above(self, upper: str, lower: str, relations: Sequence[str]) -> bool:
        """Whether `upper` reaches `lower` down `relations` edges: walked upwards from `lower`,
        whose ancestors are few where a folder's descendants may be many."""
        if not relations:
            return False
        sql = depth_bounded(
            "WITH RECURSIVE up(node, depth) AS (SELECT CAST(:lower AS TEXT), 0 "
            "UNION SELECT CAST(l.source_id AS TEXT), u.depth + 1 FROM links l "
            "JOIN up u ON l.target_id = u.node "
            "WHERE l.relation IN :relations AND BOUND(u)) "
            "SELECT 1 FROM up WHERE node = :upper LIMIT 1",
            dialect=self._dialect(),
        )
        rows = self.session.execute(
            text(sql).bindparams(bindparam("relations", expanding=True)),
            {
                "lower": lower,
                "upper": upper,
                "relations": tuple(relations),
                "max_depth": MAX_HIERARCHY_DEPTH,
            },
        )
        return rows.first() is not None

    def derivatives_only_of(self, node_id: str) -> list[str]:
        """Proxy assets made from this node and from no other (a copy with the same bytes
        shares its proxies): what goes with it when it is deleted for good. Made from it means
        linked from it (`transformed_to`), or linking to it as a download (`downloaded_by`: a
        URL's screenshot)."""
        other = aliased(Link)
        made = select(Link.target_id).join(Asset, Asset.id == Link.target_id)
        made = made.where(
            Link.source_id == node_id,
            Asset.asset_type == AssetType.PROXY,
            ~exists().where(other.target_id == Link.target_id, other.source_id != node_id),
        )
        downloaded = select(Link.source_id).join(Asset, Asset.id == Link.source_id)
        downloaded = downloaded.where(
            Link.target_id == node_id,
            Link.relation == Relation.DOWNLOADED_BY,
            Asset.asset_type == AssetType.PROXY,
            ~exists().where(other.source_id == Link.source_id, other.target_id != node_id),
        )
        return [*self.session.scalars(made), *self.session.scalars(downloaded)]

    def adjacent_page(
        self,
        node_id: str,
        branches: Branches,
        *,
        limit: int,
        after: tuple[int, str, str, str] | None,
    ) -> list[Hop]:
        """Up to `limit` edges of one node in (relation, direction, other node) order, after the
        cursor key: two index ranges (out, in), each read no further than one page."""
        hops: list[Hop] = []
        for direction, relations in (("in", branches.inward), ("out", branches.out)):
            if relations == ():
                continue
            hops += self._one_way_page(node_id, direction, relations, limit=limit, after=after)
        return sorted(hops, key=lambda h: h.key)[:limit]

    def _one_way_page(
        self,
        node_id: str,
        direction: str,
        relations: tuple[str, ...] | None,
        *,
        limit: int,
        after: tuple[int, str, str, str] | None,
    ) -> list[Hop]:
        here, other, other_type = (
            (Link.source_id, Link.target_id, Link.target_type)
            if direction == "out"
            else (Link.target_id, Link.source_id, Link.source_type)
        )
        stmt = select(Link.id, Link.relation, other, other_type, Link.weight).where(
            here == node_id, self._reachable(other, other_type)
        )
        if relations is not None:
            stmt = stmt.where(Link.relation.in_(relations))
        if after is not None:
            _depth, relation, after_direction, after_node = after
            if direction > after_direction:
                stmt = stmt.where(Link.relation >= relation)
            elif direction == after_direction:
                stmt = stmt.where(tuple_(Link.relation, other) > tuple_(relation, after_node))
            else:
                stmt = stmt.where(Link.relation > relation)
        stmt = stmt.order_by(Link.relation, other).limit(limit)
        return [
            Hop(node, node_type, relation, direction, link_id, weight)
            for link_id, relation, node, node_type, weight in self.session.execute(stmt)
        ]

    def adjacent_counts(self, node_id: str, branches: Branches) -> dict[str, int]:
        counts: dict[str, int] = {}
        for here, other, other_type, relations in (
            (Link.source_id, Link.target_id, Link.target_type, branches.out),
            (Link.target_id, Link.source_id, Link.source_type, branches.inward),
        ):
            if relations == ():
                continue
            stmt = select(Link.relation, func.count()).where(
                here == node_id, self._reachable(other, other_type)
            )
            if relations is not None:
                stmt = stmt.where(Link.relation.in_(relations))
            for relation, n in self.session.execute(stmt.group_by(Link.relation)):
                counts[relation] = counts.get(relation, 0) + int(n)
        return dict(sorted(counts.items()))

    def walk_page(
        self,
        node_id: str,
        branches: Branches,
        *,
        max_depth: int,
        limit: int,
        after: tuple[int, str, str, str] | None,
    ) -> list[Hop]:
        """Nodes within `max_depth` edges, each once at its nearest depth, in key order."""
        sql, params = self._walk(node_id, branches, max_depth)
        keyset = ""
        if after is not None:
            keyset = "WHERE (depth, relation, direction, node) > (:ad, :ar, :adir, :an)"
            params.update(ad=after[0], ar=after[1], adir=after[2], an=after[3])
        rows = self.session.execute(
            text(
                f"{sql} SELECT node, node_type, relation, direction, link_id, weight, depth "
                f"FROM nearest {keyset} ORDER BY depth, relation, direction, node LIMIT :limit"
            ).bindparams(*expanding(params)),
            {**params, "limit": limit},
        )
        return [Hop(*row) for row in rows]

    def walk_counts(self, node_id: str, branches: Branches, *, max_depth: int) -> dict[str, int]:
        sql, params = self._walk(node_id, branches, max_depth)
        rows = self.session.execute(
            text(
                f"{sql} SELECT relation, COUNT(*) FROM nearest GROUP BY relation ORDER BY relation"
            ).bindparams(*expanding(params)),
            params,
        )
        return {relation: int(n) for relation, n in rows}

    def walk_type_counts(
        self, node_id: str, branches: Branches, *, max_depth: int
    ) -> dict[str, int]:
        """How many of the reached nodes are of each kind: an asset's type, or an entity's."""
        sql, params = self._walk(node_id, branches, max_depth)
        rows = self.session.execute(
            text(
                f"{sql} SELECT COALESCE(a.asset_type, n.node_type), COUNT(*) FROM nearest n "
                "LEFT JOIN assets a ON a.id = n.node GROUP BY COALESCE(a.asset_type, n.node_type)"
            ).bindparams(*expanding(params)),
            params,
        )
        return {str(kind): int(n) for kind, n in sorted(rows)}

    def expand(
        self, node_ids: Iterable[str], *, direction: str, relations: tuple[str, ...] | None
    ) -> list[tuple[str, str, str, str]]:
        """One breadth-first level: (from node, to node, link id, relation) for every edge
        leaving these nodes the given way (`out`: node is the source)."""
        here, other = (
            (Link.source_id, Link.target_id)
            if direction == "out"
            else (Link.target_id, Link.source_id)
        )
        ids = list(node_ids)
        found: list[tuple[str, str, str, str]] = []
        for start in range(0, len(ids), CHUNK):
            other_type = Link.target_type if direction == "out" else Link.source_type
            stmt = select(here, other, Link.id, Link.relation).where(
                here.in_(ids[start : start + CHUNK]), self._reachable(other, other_type)
            )
            if relations is not None:
                stmt = stmt.where(Link.relation.in_(relations))
            found += [(a, b, link_id, name) for a, b, link_id, name in self.session.execute(stmt)]
        return found

    def get_many(self, link_ids: Sequence[str]) -> dict[str, Link]:
        if not link_ids:
            return {}
        rows = self.session.scalars(select(Link).where(Link.id.in_(list(link_ids))))
        return {link.id: link for link in rows}

    def node_types(self, node_ids: Sequence[str]) -> dict[str, str]:
        """Which of these ids are nodes, and their type: `Asset` or the entity's type."""
        ids = list(node_ids)
        assets = select(Asset.id).where(Asset.id.in_(ids), self._visible_here())
        found = {i: "Asset" for i in self.session.scalars(assets)}
        for entity_id, kind in self.session.execute(
            select(Entity.id, Entity.type).where(Entity.id.in_(ids))
        ):
            found[entity_id] = kind
        return found

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _walk(self, start: str, branches: Branches, max_depth: int) -> tuple[str, dict[str, Any]]:
        reachable = None
        if self.viewer is not None:
            dialect = self.session.get_bind().dialect

            def reachable(other: str) -> str | None:
                node, kind = f"l.{other}_id", f"l.{other}_type"
                assert self.viewer is not None
                return visible_node_sql(self.viewer, node=node, node_type=kind, dialect=dialect)

        return _walk(self._dialect(), start, branches, max_depth, reachable=reachable)


def _walk(
    dialect: str,
    start: str,
    branches: Branches,
    max_depth: int,
    *,
    reachable: Callable[[str], str | None] | None = None,
) -> tuple[str, dict[str, Any]]:
    """`WITH RECURSIVE walk ..., nearest ...`: every node within `max_depth` edges of `start`
    (never `start` itself) with the edge that reached it, then each node once at its nearest
    depth. UNION ALL with the depth bound: a cycle is walked at most `max_depth` times.
    `reachable(end)` (SQL for whether the link's `source` or `target` end may be reached):
    the walk steps only onto nodes the viewer may reach (repositories/access.py)."""
    params: dict[str, Any] = {"start": start, "max_depth": max_depth}
    arms = []
    for direction, relations in (("out", branches.out), ("in", branches.inward)):
        if relations == ():
            continue
        here, other = ("source", "target") if direction == "out" else ("target", "source")
        where = ""
        if relations is not None:
            params[f"rel_{direction}"] = relations
            where = f" AND l.relation IN :rel_{direction}"
        condition = reachable(other) if reachable is not None else None
        if condition is not None:
            where += f" AND ({condition})"
        arms.append((direction, here, other, where))

    def arm(direction: str, here: str, other: str, where: str, *, frm: str, depth: str) -> str:
        return (
            f"SELECT CAST(l.{other}_id AS TEXT) AS node, CAST(l.{other}_type AS TEXT) AS "
            f"node_type, CAST(l.relation AS TEXT) AS relation, CAST('{direction}' AS TEXT) "
            f"AS direction, CAST(l.id AS TEXT) AS link_id, l.weight AS weight, {depth} AS depth "
            f"{frm.format(here=here)} AND l.{other}_id <> :start{where}"
        )

    def hops(*, frm: str, depth: str) -> str:
        return " UNION ALL ".join(arm(*a, frm=frm, depth=depth) for a in arms)

    anchor = hops(frm="FROM links l WHERE l.{here}_id = :start", depth="1")
    if dialect == "postgresql":  # one recursive reference only: both ways in a LATERAL
        inner = hops(frm="FROM links l WHERE l.{here}_id = w.node", depth="w.depth + 1")
        step = f"SELECT e.* FROM walk w CROSS JOIN LATERAL ({inner}) e WHERE BOUND(w)"
    else:  # SQLite has no LATERAL but takes one recursive SELECT per direction
        step = hops(
            frm="FROM walk w JOIN links l ON l.{here}_id = w.node WHERE BOUND(w)",
            depth="w.depth + 1",
        )
    sql = (
        "WITH RECURSIVE walk(node, node_type, relation, direction, link_id, weight, depth) AS ("
        f"{anchor} UNION ALL {step}), "
        "ranked AS (SELECT walk.*, ROW_NUMBER() OVER (PARTITION BY node "
        "ORDER BY depth, relation, direction, link_id) AS rn FROM walk), "
        "nearest AS (SELECT node, node_type, relation, direction, link_id, weight, depth "
        "FROM ranked WHERE rn = 1) "
    )
    return depth_bounded(sql, dialect=dialect), params
