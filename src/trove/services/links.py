"""LinkManager (seed 4.7): the knowledge graph's one service.

What other services (albums, the UI, the API, the CLI) may rely on:

- Nodes are assets and entities (`create_entity`, `list_entities`), named by id. A node is
  returned as `{"id", "type", "name", "asset"}`: `type` is "Asset" or the entity's type,
  `asset` the asset's summary (as in listings) or None.
- `link(source_id, target_id, relation, weight=1.0, metadata=None, position=None)` ->
  `Linked(link, created)`; `link` is `{"id", "source_id", "source_type", "target_id",
  "target_type", "relation", "weight", "metadata", "position", "created_at"}`. Unknown ids ->
  NotFound; unknown relation -> Invalid listing the known ones; a self-link -> Conflict; a
  hierarchical link that would close a cycle (an album inside its own descendant) -> Conflict.
  A link that exists already (for a symmetric relation: either way) is returned unchanged with
  `created=False`: linking is idempotent.
- `unlink(link_id)`. A link's `position` orders a source's edges of one relation (album
  members).
- `get_neighbors(node_id, relation=None, direction="both", depth=1, limit=50, cursor=None)` ->
  `{"items": [{"node", "relation", "direction", "link_id", "weight", "depth"}], "counts":
  {relation: n}, "next_cursor"}`: one page, in (depth, relation, direction, node id) order.
- `shortest_path(a, b, relations=None, max_depth=6, direction="both")` -> `{"nodes", "edges"}`
  (NoPath, a NotFound, when none is within the bound); `impact_analysis(node, depth=3)` ->
  `{"counts", "types", "items", "next_cursor"}`.
- Inherited tags follow hierarchical links by themselves: any write through LinkRepository or
  AssetService keeps them in step (repositories/tag_flows.py).
- Inside another service's transaction: `link_in(session, ...)` (same rules) and
  `repository(session)`, a LinkRepository that keeps inherited tags in step.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from trove.config import Settings
from trove.db.database import Database
from trove.db.models import Link
from trove.domain.access import Viewer
from trove.domain.enums import Relation
from trove.domain.queries import InvalidQuery
from trove.domain.relations import (
    Dependent,
    Direction,
    RelationRegistry,
    RelationSpec,
    UnknownRelation,
)
from trove.domain.serialize import asset_summary, iso_utc
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository
from trove.repositories.entities import EntityRepository
from trove.repositories.links import Branches, Hop, LinkRepository
from trove.services.collages import hidden_collages
from trove.services.errors import Conflict, Forbidden, Invalid, NotFound
from trove.services.storable import storable_json, storable_text

MAX_NEIGHBOR_DEPTH = 3
DEFAULT_PATH_DEPTH = 6
MAX_PATH_DEPTH = 10
DEFAULT_IMPACT_DEPTH = 3
MAX_IMPACT_DEPTH = 6
MAX_PAGE = 1000
DEFAULT_PAGE = 50
MAX_ENTITY_NAME = 1000
MAX_METADATA_CHARS = 100_000
_ENTITY_TYPE = re.compile(r"[A-Z][A-Za-z0-9_]{0,63}")


class NoPath(NotFound):
    """Both nodes exist, but no path joins them within the bound."""


class Linked(NamedTuple):
    link: dict[str, Any]
    created: bool


def load_relations(settings: Settings) -> RelationRegistry:
    """Every relation the built-in and installed plugins register (`register_relations`)."""
    from trove.pipeline.registry import plugin_modules
    from trove.plugins.manager import make_plugin_manager

    plugins = make_plugin_manager(extra_modules=plugin_modules(settings))
    return RelationRegistry(spec for specs in plugins.hook.register_relations() for spec in specs)


class LinkManager:
    def __init__(
        self, settings: Settings, database: Database, *, relations: RelationRegistry | None = None
    ) -> None:
        self.settings = settings
        self.database = database
        if relations is not None:
            self.__dict__["relations"] = relations

    @classmethod
    def open(cls, settings: Settings) -> LinkManager:
        """For a CLI command: the schema made current and the database opened."""
        from trove.db.migrate import ensure_schema

        ensure_schema(settings.resolved_database_url)
        return cls(settings, Database(settings.resolved_database_url))

    @cached_property
    def relations(self) -> RelationRegistry:
        return load_relations(self.settings)

    def repository(self, session: Session, *, viewer: Viewer | None = None) -> LinkRepository:
        """Links as `viewer` may see them (None: Trove's own work, all of them)."""
        return LinkRepository(session, hierarchical=self.relations.hierarchical(), viewer=viewer)

    # --- links --------------------------------------------------------------------------------

    def link(
        self,
        source_id: str,
        target_id: str,
        relation: str,
        *,
        viewer: Viewer,
        weight: float = 1.0,
        metadata: dict[str, Any] | None = None,
        position: float | None = None,
    ) -> Linked:
        """A link between two nodes the viewer may see (else NotFound, as for no node)."""
        with self.database.session() as session:
            self._require_node(session, source_id, viewer=viewer)
            self._require_node(session, target_id, viewer=viewer)
            if relation == Relation.INCLUDES:
                _require_manager(session, source_id, viewer)
            return self.link_in(
                session,
                source_id,
                target_id,
                relation,
                weight=weight,
                metadata=metadata,
                position=position,
            )

    def link_in(
        self,
        session: Session,
        source_id: str,
        target_id: str,
        relation: str,
        *,
        weight: float = 1.0,
        metadata: dict[str, Any] | None = None,
        position: float | None = None,
    ) -> Linked:
        """`link` inside the caller's transaction (an album created with its members)."""
        links = self.repository(session)
        types = self.check_link(session, source_id, target_id, relation)
        existing = links.find(source_id, target_id, relation)
        if existing is None and relation in self.relations.symmetric():
            existing = links.find(target_id, source_id, relation)
        if existing is not None:
            return Linked(link_out(existing), False)
        row = {
            "source_id": source_id,
            "source_type": types[source_id],
            "target_id": target_id,
            "target_type": types[target_id],
            "relation": relation,
            "weight": _weight(weight),
            "meta": _metadata(metadata),
            "position": position,
            "created_at": utcnow(),
        }
        link, created = links.add_if_new(row)
        return Linked(link_out(link), created)

    def check_link(
        self, session: Session, source_id: str, target_id: str, relation: str
    ) -> dict[str, str]:
        """The rules every new link obeys; returns each end's node type."""
        spec = self._relation(relation)
        if source_id == target_id:
            raise Conflict(f"a node cannot be linked to itself ({relation})")
        types = self.repository(session).node_types([source_id, target_id])
        for node_id in (source_id, target_id):
            if node_id not in types:
                raise NotFound(f"no asset or entity with id {node_id!r}")
        if spec.hierarchical and self.repository(session).is_above(
            target_id, source_id, self.relations.hierarchical()
        ):
            raise Conflict(
                f"{relation} from {source_id} to {target_id} would make a cycle: "
                f"{target_id} is already above {source_id}"
            )
        return types

    def unlink(self, link_id: str, *, viewer: Viewer) -> None:
        """Only a link whose both ends the viewer may see (else NotFound)."""
        with self.database.session() as session:
            links = self.repository(session)
            link = links.get(link_id)
            reachable = self.repository(session, viewer=viewer).node_types(
                [link.source_id, link.target_id] if link is not None else []
            )
            if link is None or len(reachable) < 2:
                raise NotFound(f"no link with id {link_id!r}")
            if link.relation == Relation.INCLUDES:
                _require_manager(session, link.source_id, viewer)
            links.remove(link)

    # --- traversal ----------------------------------------------------------------------------

    def get_neighbors(
        self,
        node_id: str,
        relation: str | Iterable[str] | None = None,
        direction: str = Direction.BOTH,
        depth: int = 1,
        limit: int = DEFAULT_PAGE,
        cursor: str | None = None,
        *,
        viewer: Viewer,
    ) -> dict[str, Any]:
        """One page of the nodes around `node_id` that the viewer may reach (never through
        an asset they may not see), with how many there are per relation."""
        branches = self._branches(_direction(direction), self._relations(relation))
        depth = _bounded(depth, "depth", 1, MAX_NEIGHBOR_DEPTH)
        limit = _bounded(limit, "limit", 1, MAX_PAGE)
        after = _neighbor_cursor(cursor)
        with self.database.session() as session:
            self._require_node(session, node_id, viewer=viewer)
            links = self.repository(session, viewer=viewer)
            if depth == 1:
                hops = links.adjacent_page(node_id, branches, limit=limit + 1, after=after)
                counts = links.adjacent_counts(node_id, branches)
            else:
                hops = links.walk_page(
                    node_id, branches, max_depth=depth, limit=limit + 1, after=after
                )
                counts = links.walk_counts(node_id, branches, max_depth=depth)
            return self._page(session, hops, limit=limit, extra={"counts": counts}, viewer=viewer)

    def shortest_path(
        self,
        source_id: str,
        target_id: str,
        relations: str | Iterable[str] | None = None,
        max_depth: int = DEFAULT_PATH_DEPTH,
        direction: str = Direction.BOTH,
        *,
        viewer: Viewer,
    ) -> dict[str, Any]:
        """The fewest links from one node to another (provenance: proxy -> original -> folder
        -> root): `{"nodes": [...], "edges": [...]}` in path order, each edge saying whether it
        points along the path (`forward`) or against it. `direction=out` follows links only
        the way they point (`in`: only against); a symmetric relation reads both ways.
        NotFound when no path is within `max_depth` links."""
        relation_names = self._relations(relations)
        bound = _bounded(max_depth, "max_depth", 1, MAX_PATH_DEPTH)
        way = _direction(direction)
        with self.database.session() as session:
            for node_id in (source_id, target_id):
                self._require_node(session, node_id, viewer=viewer)
            links = self.repository(session, viewer=viewer)
            search = PathSearch(
                links,
                forward=self._branches(way, relation_names),
                backward=self._branches(_reverse(way), relation_names),
            )
            hops = search.run(source_id, target_id, max_depth=bound)
            if hops is None:
                raise NoPath(f"no path from {source_id} to {target_id} within {bound} links")
            node_ids = [source_id, *(node for node, _link in hops)]
            found = self.nodes(session, node_ids, viewer=viewer)
            rows = links.get_many([link for _node, link in hops])
            edges = []
            for here, (_node, link_id) in zip(node_ids, hops, strict=False):
                edge = link_out(rows[link_id])
                edge["direction"] = "forward" if edge["source_id"] == here else "backward"
                edges.append(edge)
            return {"nodes": [found[n] for n in node_ids], "edges": edges}

    def impact_analysis(
        self,
        node_id: str,
        depth: int = DEFAULT_IMPACT_DEPTH,
        relations: str | Iterable[str] | None = None,
        limit: int = DEFAULT_PAGE,
        cursor: str | None = None,
        *,
        viewer: Viewer,
    ) -> dict[str, Any]:
        """What depends on the node, transitively within `depth` links: the far end of every
        relation whose registered `dependent` end is not this one (a proxy made from it, an
        album that includes it, a text extracted from it), counted per relation and per kind
        of node, with one page of them nearest first."""
        names = self._relations(relations)
        bound = _bounded(depth, "depth", 1, MAX_IMPACT_DEPTH)
        limit = _bounded(limit, "limit", 1, MAX_PAGE)
        after = _neighbor_cursor(cursor)
        branches = Branches(
            out=_within(self.relations.dependent_on(Dependent.TARGET), names),
            inward=_within(self.relations.dependent_on(Dependent.SOURCE), names),
        )
        with self.database.session() as session:
            self._require_node(session, node_id, viewer=viewer)
            links = self.repository(session, viewer=viewer)
            if branches.out == branches.inward == ():
                return {"counts": {}, "types": {}, "items": [], "next_cursor": None}
            hops = links.walk_page(node_id, branches, max_depth=bound, limit=limit + 1, after=after)
            extra = {
                "counts": links.walk_counts(node_id, branches, max_depth=bound),
                "types": links.walk_type_counts(node_id, branches, max_depth=bound),
            }
            return self._page(session, hops, limit=limit, extra=extra, viewer=viewer)

    # --- entities -----------------------------------------------------------------------------

    def create_entity(
        self, type: str, name: str, metadata: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        entity_type, entity_name = _entity_type(type), _entity_name(name)
        with self.database.session() as session:
            entity = EntityRepository(session).add(
                type=entity_type, name=entity_name, metadata=_metadata(metadata)
            )
            return entity_out(entity)

    def list_entities(
        self, *, type: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> dict[str, Any]:
        limit = _bounded(limit, "limit", 1, MAX_PAGE)
        after = _decode_key(cursor, (str, str, str)) if cursor else None
        with self.database.session() as session:
            rows = EntityRepository(session).list(type=type, limit=limit + 1, after=after)
            page = rows[:limit]
            last = page[-1] if page else None
            next_cursor = (
                _encode_key((last.type, last.name, last.id)) if last and len(rows) > limit else None
            )
            return {"items": [entity_out(e) for e in page], "next_cursor": next_cursor}

    # --- helpers ------------------------------------------------------------------------------

    def nodes(
        self, session: Session, node_ids: Sequence[str], *, viewer: Viewer
    ) -> dict[str, dict[str, Any]]:
        """Each id as a node: an asset the viewer may see (with its summary) or an entity;
        unknown and hidden ids left out."""
        ids = list(dict.fromkeys(node_ids))
        found: dict[str, dict[str, Any]] = {}
        assets = AssetRepository(session).visible_many(ids, viewer=viewer) if ids else []
        hidden = hidden_collages(session, assets, viewer=viewer)
        for asset in assets:
            summary = asset_summary(asset, collage_shown=asset.id not in hidden)
            name = asset.title or summary["filename"]
            found[asset.id] = {"id": asset.id, "type": "Asset", "name": name, "asset": summary}
        for entity in EntityRepository(session).get_many([i for i in ids if i not in found]):
            found[entity.id] = {
                "id": entity.id,
                "type": entity.type,
                "name": entity.name,
                "asset": None,
            }
        return found

    def _page(
        self,
        session: Session,
        hops: list[Hop],
        *,
        limit: int,
        extra: dict[str, Any],
        viewer: Viewer,
    ) -> dict[str, Any]:
        """`hops` holds one more than the page when there is a next one."""
        page = hops[:limit]
        next_cursor = _encode_hop(page[-1]) if len(hops) > limit else None
        items = self._items(session, page, viewer=viewer)
        return {**extra, "items": items, "next_cursor": next_cursor}

    def _items(self, session: Session, hops: list[Hop], *, viewer: Viewer) -> list[dict[str, Any]]:
        nodes = self.nodes(session, [h.node_id for h in hops], viewer=viewer)
        return [
            {
                "node": nodes.get(h.node_id)
                or {"id": h.node_id, "type": h.node_type, "name": h.node_id, "asset": None},
                "relation": h.relation,
                "direction": h.direction,
                "link_id": h.link_id,
                "weight": h.weight,
                "depth": h.depth,
            }
            for h in hops
        ]

    def _require_node(self, session: Session, node_id: str, *, viewer: Viewer) -> str:
        """The node's type, when the viewer may reach it; hidden and absent are one NotFound."""
        node_type = self.repository(session, viewer=viewer).node_types([node_id]).get(node_id)
        if node_type is None:
            raise NotFound(f"no asset or entity with id {node_id!r}")
        return node_type

    def _relation(self, name: str) -> RelationSpec:
        try:
            return self.relations.get(name)
        except UnknownRelation as exc:
            raise Invalid(str(exc)) from None

    def _relations(self, relation: str | Iterable[str] | None) -> tuple[str, ...] | None:
        names = [relation] if isinstance(relation, str) else list(relation or ())
        try:
            return self.relations.checked([n for n in names if n])
        except UnknownRelation as exc:
            raise Invalid(str(exc)) from None

    def _branches(self, direction: Direction, relations: tuple[str, ...] | None) -> Branches:
        """Which stored edges answer `direction`: a symmetric relation reads both ways, so its
        edges stored the other way round count too."""
        if direction == Direction.BOTH:
            return Branches(out=relations, inward=relations)
        symmetric = tuple(
            r for r in self.relations.symmetric() if relations is None or r in relations
        )
        if direction == Direction.OUT:
            return Branches(out=relations, inward=symmetric)
        return Branches(out=symmetric, inward=relations)


def link_out(link: Link) -> dict[str, Any]:
    return {
        "id": link.id,
        "source_id": link.source_id,
        "source_type": link.source_type,
        "target_id": link.target_id,
        "target_type": link.target_type,
        "relation": link.relation,
        "weight": link.weight,
        "metadata": link.meta or {},
        "position": link.position,
        "created_at": iso_utc(link.created_at),
    }


def entity_out(entity: Any) -> dict[str, Any]:
    return {
        "id": entity.id,
        "type": entity.type,
        "name": entity.name,
        "metadata": entity.meta or {},
        "created_at": iso_utc(entity.created_at),
    }


class PathSearch:
    """Breadth-first from both ends at once, one indexed query per level, always growing the
    smaller side, until the two meet or `max_depth` links are spent.

    Not a recursive CTE: a CTE has no visited set shared across its levels, so around a folder
    of many files it walks the same nodes again at every depth; here each node is expanded
    once. What is held in memory is the part of the graph seen within the bound (each side
    within half of it when they meet), never the whole graph.
    """

    def __init__(self, links: LinkRepository, *, forward: Branches, backward: Branches) -> None:
        self.links = links
        self.branches = {True: forward, False: backward}

    def run(self, source: str, target: str, *, max_depth: int) -> list[tuple[str, str]] | None:
        """[(next node, link id), ...] from `source` to `target`, or None."""
        if source == target:
            return []
        seen: dict[bool, dict[str, tuple[str, str, int] | None]] = {
            True: {source: None},
            False: {target: None},
        }
        frontier = {True: [source], False: [target]}
        spent = 0
        while spent < max_depth and frontier[True] and frontier[False]:
            side = len(frontier[True]) <= len(frontier[False])
            frontier[side] = self._grow(frontier[side], seen[side], self.branches[side])
            spent += 1
            met = [n for n in frontier[side] if n in seen[not side]]
            if met:
                other = seen[not side]
                best = min(met, key=lambda n: (other[n] or ("", "", 0))[2])
                return self._joined(best, seen[True], seen[False])
        return None

    def _grow(
        self,
        nodes: list[str],
        seen: dict[str, tuple[str, str, int] | None],
        branches: Branches,
    ) -> list[str]:
        depth = (seen[nodes[0]] or ("", "", 0))[2] + 1
        fresh: list[str] = []
        for direction, relations in (
            (Direction.OUT, branches.out),
            (Direction.IN, branches.inward),
        ):
            if relations == ():
                continue
            for here, there, link_id, _relation in self.links.expand(
                nodes, direction=direction, relations=relations
            ):
                if there not in seen:
                    seen[there] = (here, link_id, depth)
                    fresh.append(there)
        return fresh

    @staticmethod
    def _joined(
        meet: str,
        forward: dict[str, tuple[str, str, int] | None],
        backward: dict[str, tuple[str, str, int] | None],
    ) -> list[tuple[str, str]]:
        hops: list[tuple[str, str]] = []
        node = meet
        while (step := forward[node]) is not None:
            hops.append((node, step[1]))
            node = step[0]
        hops.reverse()
        node = meet
        while (step := backward[node]) is not None:
            hops.append((step[0], step[1]))
            node = step[0]
        return hops


def _reverse(direction: Direction) -> Direction:
    return {Direction.OUT: Direction.IN, Direction.IN: Direction.OUT}.get(direction, direction)


def _within(names: tuple[str, ...], wanted: tuple[str, ...] | None) -> tuple[str, ...]:
    return names if wanted is None else tuple(n for n in names if n in wanted)


def _bounded(value: int, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{name} must be an integer from {low} to {high}")
    return value


def _direction(value: str) -> Direction:
    try:
        return Direction(value)
    except ValueError:
        raise Invalid(f"direction must be one of {', '.join(d.value for d in Direction)}") from None


def _weight(value: float) -> float:
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise Invalid("weight must be a finite number")
    return number


def _metadata(value: dict[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid("metadata must be an object")
    if len(storable_json(value, field="metadata")) > MAX_METADATA_CHARS:
        raise Invalid(f"metadata is larger than {MAX_METADATA_CHARS} characters of JSON")
    return value


def _entity_type(value: str) -> str:
    if not _ENTITY_TYPE.fullmatch(value or "") or value == "Asset":
        raise Invalid(
            "entity type must be a capitalised word of letters, digits and _ "
            "(Person, Project, Machine), and not Asset"
        )
    return value


def _entity_name(value: str) -> str:
    name = storable_text(" ".join((value or "").split()), field="entity name")
    if not name or len(name) > MAX_ENTITY_NAME:
        raise Invalid(f"entity name must have 1 to {MAX_ENTITY_NAME} characters")
    return name


def _encode_hop(hop: Hop) -> str:
    return _encode_key(hop.key)


def _neighbor_cursor(cursor: str | None) -> tuple[int, str, str, str] | None:
    return _decode_key(cursor, (int, str, str, str)) if cursor else None


def _plain(part: Any) -> bool:
    """A key part the databases take: a small depth, or text without NUL or lone surrogates."""
    if isinstance(part, int):
        return 0 <= part <= MAX_IMPACT_DEPTH
    try:
        part.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in part and len(part) <= 1000


def _encode_key(key: tuple[Any, ...]) -> str:
    """A page's last sort key as an opaque cursor."""
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _decode_key(cursor: str, types: tuple[type, ...]) -> tuple[Any, ...]:
    """The key `_encode_key` made, each part of the type expected, else InvalidQuery (422)."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError):
        key = None
    if not (
        isinstance(key, list)
        and len(key) == len(types)
        and all(type(part) is kind for part, kind in zip(key, types, strict=True))
        and all(_plain(part) for part in key)
    ):
        raise InvalidQuery("cursor is not one this server issued")
    return tuple(key)


def _require_manager(session: Session, album_id: str, viewer: Viewer) -> None:
    """What an album includes is seen by everyone it is granted to (repositories/access.py):
    only its owner or an admin changes that, or a member who may see the album could hand
    the people it is granted to an asset of their own library."""
    album = AssetRepository(session).visible(album_id, viewer)
    if album is None or not viewer.may_manage(album.owner_id):
        raise Forbidden("only the album's owner or an admin changes what it includes")
