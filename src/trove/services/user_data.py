"""What users made survives the database: `trove export` writes it as JSON lines keyed by
content hash and path, `trove import` puts it back into an index rebuilt from the disk.

The index can always be rebuilt from the files; tags, titles, descriptions, ratings, albums,
entities and links cannot, so they are what is exported. Lines, one record each:

    {"kind": "header", "format": "trove-user-data", "version": 1, "exported_at": ...}
    {"kind": "asset", "ref": REF, "title": ..., "description": ..., "tags": [...],
     "visibility": ..., "metadata": {writable namespace: {...}}, "edits": [op, ...]}
    {"kind": "entity", "key": ..., "type": "Person", "name": ..., "metadata": {...}}
    {"kind": "album", "key": ..., "name": ..., "description": ..., "parent": key | null,
     "members": [REF, ...] (in order), "cover": REF | null, "tags": [...]}
    {"kind": "link", "source": REF, "target": REF, "relation": ..., "weight": ...,
     "metadata": {...}}

A REF names a file or folder by `{"hash", "root", "path"}` (hash may be null for a folder or
an unhashed file), an album by `{"album": key}`, an entity by `{"entity": key}`. Import finds a
file by its hash first (the copy at the same path when there are several), then by its path:
files moved or renamed since the export are found, and a library mounted elsewhere is matched
by content. Importing twice changes nothing the second time.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from trove import __version__
from trove.config import Settings
from trove.db.database import Database
from trove.domain import edits as edit_domain
from trove.domain.access import Viewer
from trove.domain.albums import COVER_KEY, NAMESPACE
from trove.domain.enums import AssetCategory, AssetType, Relation
from trove.repositories.user_data import UserDataRepository
from trove.services.albums import AlbumPatch, AlbumService
from trove.services.assets import AssetPatch, AssetService
from trove.services.edits import EditService
from trove.services.errors import Conflict, Invalid, NotFound, Unavailable
from trove.services.links import LinkManager

FORMAT, VERSION = "trove-user-data", 1
# Links Trove makes by itself, made again by a rescan and the pipeline (folders, copies,
# look-alikes, previews and derivatives) or carried by the album records (membership, nesting).
REMADE_BY_TROVE = (
    Relation.CONTAINS,
    Relation.INCLUDES,
    Relation.DUPLICATE_OF,
    Relation.VISUALLY_SIMILAR_TO,
    Relation.TRANSFORMED_TO,
    Relation.DOWNLOADED_BY,
    Relation.EXTRACTED_FROM,
)
MAX_UNMATCHED_LISTED = 50


@dataclass
class ImportReport:
    matched: Counter[str] = field(default_factory=Counter)
    unmatched: Counter[str] = field(default_factory=Counter)
    unmatched_refs: list[str] = field(default_factory=list)

    def miss(self, kind: str, what: str) -> None:
        self.unmatched[kind] += 1
        if len(self.unmatched_refs) < MAX_UNMATCHED_LISTED:
            self.unmatched_refs.append(f"{kind}: {what}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "matched": dict(self.matched),
            "unmatched": dict(self.unmatched),
            "unmatched_refs": self.unmatched_refs,
        }


class UserDataService:
    def __init__(
        self,
        database: Database,
        *,
        assets: AssetService,
        albums: AlbumService,
        links: LinkManager,
        edits: EditService,
    ) -> None:
        self.database = database
        self.assets = assets
        self.albums = albums
        self.links = links
        self.edits = edits

    @classmethod
    def open(cls, settings: Settings) -> UserDataService:
        """For a CLI command: the schema made current and the database opened."""
        from trove.db.migrate import ensure_schema

        ensure_schema(settings.resolved_database_url)
        database = Database(settings.resolved_database_url)
        links = LinkManager(settings, database)
        assets = AssetService(
            settings, database, hierarchical=links.relations.hierarchical(), links=links
        )
        return cls(
            database,
            assets=assets,
            albums=AlbumService(settings, database, links=links),
            links=links,
            edits=EditService(settings, database, assets=assets),
        )

    # --- export ----------------------------------------------------------------------------

    def export(self, out: IO[str]) -> Counter[str]:
        """Write every record to `out`; how many of each kind."""
        written: Counter[str] = Counter()
        for record in self._records():
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            written[record["kind"]] += 1
        return written

    def _records(self) -> Iterator[dict[str, Any]]:
        yield {
            "kind": "header",
            "format": FORMAT,
            "version": VERSION,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "trove": __version__,
        }
        writable = self.assets.drivers.metadata.writable_namespaces()
        with self.database.session() as session:
            repo = UserDataRepository(session)
            touched = [*writable, edit_domain.NAMESPACE]  # the editor's list is users' work
            for asset, root_path, tags in repo.physical_assets_with_user_data(touched):
                yield _asset_record(asset, root_path, tags, writable)
            for entity in repo.entities():
                yield {
                    "kind": "entity",
                    "key": entity.id,
                    "type": entity.type,
                    "name": entity.name,
                    "metadata": entity.meta or {},
                }
            yield from _album_records(repo)
            for link in repo.links(relations=REMADE_BY_TROVE, exclude=True):
                ends = _refs(repo, [link.source_id, link.target_id])
                if None in ends:  # a virtual asset other than an album: not exported yet
                    continue
                yield {
                    "kind": "link",
                    "source": ends[0],
                    "target": ends[1],
                    "relation": link.relation,
                    "weight": link.weight,
                    "metadata": link.meta or {},
                }

    # --- import ----------------------------------------------------------------------------

    def import_lines(self, lines: Iterable[str]) -> ImportReport:
        """Apply an export to this index; what matched and what did not."""
        report = ImportReport()
        keys: dict[str, str] = {}  # album / entity key in the file -> id here
        records = _parsed(lines)
        header = next(records, None)
        if not header or header.get("format") != FORMAT or header.get("version") != VERSION:
            raise Invalid(f"not a {FORMAT} file of version {VERSION}")
        for record in records:
            apply = getattr(self, f"_import_{record.get('kind')}", None)
            if apply is None:
                report.miss("unknown record", str(record.get("kind")))
                continue
            apply(record, keys=keys, report=report)
        return report

    def _import_asset(self, record: dict[str, Any], *, keys: dict[str, str], report: Any) -> None:
        asset_id = self._find(record["ref"], keys)
        if asset_id is None:
            report.miss("asset", _describe(record["ref"]))
            return
        system = Viewer.system()
        patch = AssetPatch(
            title=record.get("title"),
            description=record.get("description"),
            tags=record.get("tags") or [],
            visibility=record.get("visibility") or "private",
        )
        self.assets.update(asset_id, patch, viewer=system)
        for namespace, values in (record.get("metadata") or {}).items():  # one per PATCH
            self.assets.update(asset_id, AssetPatch(metadata={namespace: values}), viewer=system)
        if record.get("edits"):
            self._import_edits(asset_id, record["edits"], report=report)
        report.matched["asset"] += 1

    def _import_edits(self, asset_id: str, edits: Any, *, report: Any) -> None:
        """The edit list, rendered again from the file (unless it is already the current
        one: a second import adds no version)."""
        system = Viewer.system()
        try:
            wanted = edit_domain.canonical(edit_domain.parse(edits))
            if self.edits.get(asset_id, viewer=system)["edits"] != wanted:
                self.edits.save(asset_id, wanted, viewer=system)
        except (edit_domain.InvalidEdit, Invalid, Conflict, Unavailable) as exc:
            report.miss("edits", f"{asset_id}: {exc}")

    def _import_entity(self, record: dict[str, Any], *, keys: dict[str, str], report: Any) -> None:
        with self.database.session() as session:
            existing = UserDataRepository(session).entity_named(record["type"], record["name"])
        if existing is None:
            existing = self.links.create_entity(
                record["type"], record["name"], record.get("metadata")
            )["id"]
        keys[f"entity:{record['key']}"] = existing
        report.matched["entity"] += 1

    def _import_album(self, record: dict[str, Any], *, keys: dict[str, str], report: Any) -> None:
        system = Viewer.system()
        members = [self._find(ref, keys) for ref in record.get("members", [])]
        for ref, found in zip(record.get("members", []), members, strict=True):
            if found is None:
                report.miss("album member", f"{record['name']}: {_describe(ref)}")
        parent = keys.get(f"album:{record['parent']}") if record.get("parent") else None
        with self.database.session() as session:
            album_id = UserDataRepository(session).album_named(record["name"], parent_id=parent)
        if album_id is None:
            album_id = self.albums.create(
                record["name"],
                description=record.get("description"),
                viewer=system,
                parent_id=parent,
            )["id"]
        self.albums.add(album_id, [m for m in members if m is not None], viewer=system)
        cover = self._find(record["cover"], keys) if record.get("cover") else None
        if cover is not None:
            self.albums.update(album_id, AlbumPatch(cover_id=cover), viewer=system)
        if record.get("tags"):
            self.assets.update(album_id, AssetPatch(tags=record["tags"]), viewer=system)
        keys[f"album:{record['key']}"] = album_id
        report.matched["album"] += 1

    def _import_link(self, record: dict[str, Any], *, keys: dict[str, str], report: Any) -> None:
        source, target = self._find(record["source"], keys), self._find(record["target"], keys)
        if source is None or target is None:
            report.miss("link", f"{record['relation']} {_describe(record['source'])}")
            return
        try:
            self.links.link(
                source,
                target,
                record["relation"],
                viewer=Viewer.system(),
                weight=record.get("weight", 1.0),
                metadata=record.get("metadata") or None,
            )
        except (Invalid, NotFound) as exc:  # a relation no plugin here declares, ...
            report.miss("link", f"{record['relation']}: {exc}")
            return
        report.matched["link"] += 1

    def _find(self, ref: dict[str, Any], keys: dict[str, str]) -> str | None:
        for kind in ("album", "entity"):
            if kind in ref:
                return keys.get(f"{kind}:{ref[kind]}")
        with self.database.session() as session:
            repo = UserDataRepository(session)
            if ref.get("hash"):
                copies = repo.live_ids_with_hash(ref["hash"])
                same_place = [
                    i for i, root, rel in copies if (root, rel) == (ref["root"], ref["path"])
                ]
                if same_place or copies:
                    return (same_place or [copies[0][0]])[0]
            return repo.id_at_path(ref["root"], ref["path"])


def _parsed(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise Invalid(f"line {number} is not JSON: not a {FORMAT} file") from None
        if not isinstance(record, dict):
            raise Invalid(f"line {number} is not a record: not a {FORMAT} file")
        yield record


def _asset_record(
    asset: Any, root_path: str, tags: list[str], writable: Iterable[str]
) -> dict[str, Any]:
    meta = asset.meta or {}
    return {
        "kind": "asset",
        "ref": _file_ref(asset, root_path),
        "title": asset.title,
        "description": asset.description,
        "tags": tags,
        "visibility": asset.visibility,
        "metadata": {name: meta[name] for name in writable if meta.get(name)},
        "edits": edit_domain.state_of(meta).get("edits", []),
    }


def _album_records(repo: UserDataRepository) -> Iterator[dict[str, Any]]:
    """Parents before their children, so an import can nest each album as it comes."""
    albums = repo.albums()
    parents = repo.album_parents()
    tags = repo.tags_of([a.id for a in albums])
    for album in _parents_first(albums, parents):
        member_ids = repo.members_in_order(album.id)
        cover = (album.meta or {}).get(NAMESPACE, {}).get(COVER_KEY)
        refs = _refs(repo, [*member_ids, *([cover] if cover else [])])
        yield {
            "kind": "album",
            "key": album.id,
            "name": album.filename,
            "description": album.description,
            "parent": parents.get(album.id),
            "members": [r for r in refs[: len(member_ids)] if r is not None],
            "cover": refs[-1] if cover else None,
            "tags": tags.get(album.id, []),
        }


def _parents_first(albums: list[Any], parents: dict[str, str]) -> list[Any]:
    ordered: list[Any] = []
    placed: set[str] = set()
    pending = list(albums)
    while pending:
        ready = [a for a in pending if parents.get(a.id) in (None, *placed)]
        if not ready:  # a cycle cannot be stored, but never loop on one
            ready = pending
        ordered += ready
        placed |= {a.id for a in ready}
        pending = [a for a in pending if a.id not in placed]
    return ordered


def _refs(repo: UserDataRepository, ids: list[str]) -> list[dict[str, Any] | None]:
    """The REF of each id: a file or folder, an album, an entity; None for what has none."""
    assets = repo.assets_by_id(ids)
    entity_ids = repo.entity_ids([i for i in ids if i not in assets])
    refs: list[dict[str, Any] | None] = []
    for node_id in ids:
        if node_id in assets:
            asset, root_path = assets[node_id]
            refs.append(_asset_ref(asset, root_path))
        else:
            refs.append({"entity": node_id} if node_id in entity_ids else None)
    return refs


def _asset_ref(asset: Any, root_path: str | None) -> dict[str, Any] | None:
    if asset.asset_type == AssetType.COLLECTION and asset.category == AssetCategory.VIRTUAL:
        return {"album": asset.id}
    if asset.is_virtual or root_path is None:
        return None
    return _file_ref(asset, root_path)


def _file_ref(asset: Any, root_path: str) -> dict[str, Any]:
    return {"hash": asset.hash, "root": root_path, "path": asset.rel_path}


def _describe(ref: dict[str, Any]) -> str:
    if "path" in ref:
        return f"{ref['root']}/{ref['path']}"
    return json.dumps(ref)
