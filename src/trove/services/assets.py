"""AssetService (seed 4.1): reading and editing assets, serving originals, uploads.

Originals are only ever read; uploads (services/uploads.py) are the one way files are written.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from trove.config import Settings
from trove.db.database import Database
from trove.db.models import Asset
from trove.domain import sidecars
from trove.domain.access import Viewer
from trove.domain.albums import NAMESPACE as ALBUM_NAMESPACE
from trove.domain.albums import without_preview_sources
from trove.domain.edits import NAMESPACE as EDIT_NAMESPACE
from trove.domain.enums import AssetStatus, AssetType, RootStatus, Visibility
from trove.domain.filters import AssetFilters
from trove.domain.queries import AssetQuery, InvalidQuery
from trove.domain.serialize import asset_detail, asset_summary, web_copy
from trove.domain.snippets import Snippet
from trove.repositories.albums import AlbumRepository
from trove.repositories.assets import AssetRepository
from trove.repositories.links import LinkRepository
from trove.repositories.proxies import ProxyRepository
from trove.repositories.roots import RootRepository
from trove.repositories.search import SearchRepository
from trove.repositories.stacks import StackRepository
from trove.repositories.tag_flows import TagFlows
from trove.services import search
from trove.services.collages import hidden_collages
from trove.services.errors import Forbidden, Invalid, NotFound, Unavailable
from trove.services.storable import storable_json, storable_text
from trove.storage import cache
from trove.storage.originals import OriginalUnavailable, PathOutsideRoot, open_below_root

if TYPE_CHECKING:
    from trove.domain.access import Viewer
    from trove.drivers.manager import AssetDriverManager
    from trove.drivers.metadata import MetadataRegistry
    from trove.services.links import LinkManager
    from trove.services.semantic import Blended, SemanticSearch

# Namespaces the pipeline extracts from the file or from other tools' sidecars beside it
# (an XMP, a Takeout JSON): what the files say, not what someone typed, and a PATCH of one
# would be overwritten by the next pass anyway.
EXTRACTED_NAMESPACES = frozenset(
    {"exif", "iptc", "xmp", "geo", "place", "ffprobe", "probe", "ocr", "text", "folder", "file"}
    | {sidecars.NAMESPACE, sidecars.TAKEOUT_NAMESPACE}
)
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# A user namespace holds what people type (ratings, notes, a few links), not documents: its
# JSON is bounded so that one asset's record stays small for every listing that loads it.
MAX_NAMESPACE_BYTES = 64 * 1024
_UNSET: Any = object()


@dataclass(frozen=True, kw_only=True)
class AssetPatch:
    title: str | None = _UNSET
    description: str | None = _UNSET
    tags: list[str] | None = _UNSET
    visibility: str = _UNSET
    metadata: dict[str, dict[str, Any]] = _UNSET
    # Views of metadata.gallery, applied over `metadata` when both are sent.
    favorite: bool = _UNSET
    rating: int = _UNSET


_EMPTY_PATCH = AssetPatch()


@dataclass
class AssetPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class OriginalFile:
    file: BinaryIO
    filename: str
    mime_type: str | None


class AssetService:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        hierarchical: Sequence[str] | None = None,
        drivers: AssetDriverManager | None = None,
        links: LinkManager | None = None,
        semantic: SemanticSearch | None = None,
    ) -> None:
        """`hierarchical`: the relations tags flow down (the registry's; Trove's own if None).
        `drivers` and `links` are the running Trove's; loaded from the settings if None.
        `semantic`: search by meaning, blended into searches when `ai_semantic` is on."""
        self.settings = settings
        self.database = database
        self.hierarchical = hierarchical
        self.semantic = semantic
        if drivers is not None:
            self.__dict__["drivers"] = drivers
        if links is not None:
            self.__dict__["links"] = links

    @functools.cached_property
    def drivers(self) -> AssetDriverManager:
        from trove.drivers.manager import AssetDriverManager

        return AssetDriverManager.load(self.settings)

    @functools.cached_property
    def links(self) -> LinkManager:
        from trove.services.links import LinkManager

        return LinkManager(self.settings, self.database)

    def list(self, filters: AssetFilters, *, viewer: Viewer) -> AssetPage:
        """One page of a listing (the API's and `trove ls`'s: the same filters), of what the
        viewer may see; a search with free words is blended with search by meaning when
        that is on (services/semantic.py), and `meaning` is the cosine of what it found."""
        return self._page(filters, viewer=viewer)[0]

    def _page(
        self, filters: AssetFilters, *, viewer: Viewer
    ) -> tuple[AssetPage, dict[str, dict[str, float]]]:
        with self.database.session() as session:
            repo = AssetRepository(session, hierarchical=self.hierarchical)
            query = _query(session, filters, viewer=viewer)
            scores: dict[str, dict[str, float]] = {}
            if self.semantic is not None and self.semantic.blends(query):
                blended = self.semantic.page(session, query, viewer=viewer)
                items, cursor = blended.items, blended.next_cursor
                scores = _scores(blended)
            else:
                items, cursor = repo.list(query, viewer=viewer)
            flows = TagFlows(session, hierarchical=self.hierarchical)
            inherited = flows.inherited_of([a.id for a in items])
            matched = search.snippets(session, query.search, [a.id for a in items])
            stacks = (
                StackRepository(session).counts([a.hash for a in items if a.hash], viewer=viewer)
                if query.stack
                else {}
            )
            hidden = hidden_collages(session, items, viewer=viewer)
            return AssetPage(
                [
                    {
                        **asset_summary(a, collage_shown=a.id not in hidden),
                        "inherited_tags": inherited.get(a.id, {}),
                        "match": _match(matched.get(a.id)),
                        "meaning": scores.get(a.id, {}).get("semantic") or None,
                        "stack_count": stacks.get(a.hash or "", 1),
                    }
                    for a in items
                ],
                cursor,
            ), scores

    def by_meaning(self, q: str, *, viewer: Viewer, limit: int) -> builtins.list[dict[str, Any]]:
        """The first `limit` results of `q` searched by words and meaning, each with its
        `score` (the fused rank), `lexical` (1 / (1 + its rank by the words), 0 when the words
        do not match it) and `semantic` (its cosine, 0 when not found by meaning)."""
        if self.semantic is None or not self.settings.ai_semantic:
            raise Invalid("search by meaning is off (TROVE_AI_SEMANTIC)")
        page, scores = self._page(AssetFilters(q=q, limit=limit), viewer=viewer)
        return [{**item, **scores.get(item["id"], _NO_SCORES)} for item in page.items]

    def get(self, asset_id: str, *, viewer: Viewer) -> dict[str, Any]:
        with self.database.session() as session:
            asset = self._get(session, asset_id, viewer=viewer, include_deleted=True)
            return self._detail(session, asset, viewer=viewer)

    def update(self, asset_id: str, patch: AssetPatch, *, viewer: Viewer) -> dict[str, Any]:
        """Change an asset the viewer may change (domain/access.py: its owner, a writer of
        its library, an admin; 403 for one they only see); who else sees it (`visibility`)
        only its owner or an admin may change."""
        with self.database.session() as session:
            asset = changeable(session, asset_id, viewer=viewer)
            if patch.visibility is not _UNSET and not viewer.may_manage(asset.owner_id):
                raise Forbidden("only the asset's owner or an admin may change its visibility")
            self._apply(session, asset, patch)
            session.flush()
            if self.semantic is not None and (
                patch.title is not _UNSET or patch.description is not _UNSET
            ):
                self.semantic.reembed(session, asset)
            if patch.tags is not _UNSET:
                search.reindex_with_holders_below(session, asset.id, hierarchical=self.hierarchical)
            else:
                search.reindex(session, [asset.id], hierarchical=self.hierarchical)
            return self._detail(session, asset, viewer=viewer)

    def _marked(self, meta: dict[str, Any], patch: AssetPatch) -> dict[str, Any]:
        """`metadata.gallery` with the favourite and rating sent, its other keys kept: the
        one place they live, validated like a namespace PATCH. Unmarked and unrated are
        stored as absent, so an untouched asset and a cleared one look the same."""
        gallery = dict(meta.get("gallery") or {})
        for key, value in (("favorite", patch.favorite), ("rating", patch.rating)):
            if value is _UNSET:
                continue
            if value is False or (key == "rating" and value == 0):
                gallery.pop(key, None)
            else:
                gallery[key] = value
        return _merged_namespace(meta, {"gallery": gallery}, registry=self.drivers.metadata)

    def restore_many(self, patches: dict[str, AssetPatch]) -> None:
        """`update` as Trove itself for many assets in one transaction, answering nothing
        (`trove import` restores thousands): tags written and passed on in bulk, metadata may
        hold several namespaces."""
        with self.database.session() as session:
            repo = AssetRepository(session)
            assets = repo.get_many(list(patches))
            added: dict[str, builtins.list[str]] = {}
            for asset in assets:
                patch = patches[asset.id]
                namespaces = patch.metadata if patch.metadata is not _UNSET else {}
                for name, values in namespaces.items():
                    one = dataclasses.replace(_EMPTY_PATCH, metadata={name: values})
                    self._apply(session, asset, one)
                self._apply(
                    session, asset, dataclasses.replace(patch, metadata=_UNSET, tags=_UNSET)
                )
                if patch.tags is not _UNSET:
                    added[asset.id] = self._retag(session, asset, normalise_tags(patch.tags or []))
            repo.add_tags_each(added)
            session.flush()
            flows = TagFlows(session, hierarchical=self.hierarchical)
            flows.tags_added(list(added), sorted({t for tags in added.values() for t in tags}))
            holders = SearchRepository(session, hierarchical=self.hierarchical).holders_below_many(
                list(added)
            )
            ids = [a.id for a in assets]
            search.reindex(
                session, list(dict.fromkeys([*ids, *holders])), hierarchical=self.hierarchical
            )

    def _retag(self, session: Any, asset: Asset, tags: Sequence[str]) -> builtins.list[str]:
        """Removes the tags an asset no longer has (and what they passed on); the ones to
        add, for the caller to write in bulk."""
        before = set(asset.tags)
        gone = sorted(before - set(tags))
        if gone:
            AssetRepository(session).remove_tags(asset.id, gone)
            TagFlows(session, hierarchical=self.hierarchical).tags_removed(asset.id, gone)
            session.expire(asset, ["tag_rows"])
        return sorted(set(tags) - before)

    def _apply(self, session: Any, asset: Asset, patch: AssetPatch) -> None:
        if patch.title is not _UNSET:
            asset.title = _clean_text(patch.title, field="title", limit=1000)
        if patch.description is not _UNSET:
            asset.description = _clean_text(patch.description, field="description", limit=100_000)
        if patch.visibility is not _UNSET:
            asset.visibility = _visibility(patch.visibility)
        if patch.metadata is not _UNSET:
            asset.meta = _merged_namespace(
                asset.meta or {}, patch.metadata, registry=self.drivers.metadata
            )
        if patch.favorite is not _UNSET or patch.rating is not _UNSET:
            asset.meta = self._marked(asset.meta or {}, patch)
        if patch.tags is not _UNSET:
            self._replace_tags(session, asset, normalise_tags(patch.tags or []))
        from trove.repositories._sql import utcnow

        asset.updated_at = utcnow()

    def ingest_virtual(self, asset_type: str, data: Any, *, viewer: Viewer) -> dict[str, Any]:
        """A new asset without a file (seed 4.1: `ingest_virtual`), made by its type's driver
        from `data` (validated by the driver's `virtual_data`), with the links it asks for,
        in one transaction. Its pipeline steps follow when the driver leaves it `processing`
        (the caller has the indexer pick it up)."""
        from trove.drivers.virtual import create_virtual

        with self.database.session() as session:
            asset = create_virtual(
                session, self.drivers, self.links, asset_type=asset_type, data=data, viewer=viewer
            )
            # Found by search at once: one that is `ready` now (a note) gets no pipeline pass
            # to write its document.
            search.reindex(session, [asset.id], hierarchical=self.hierarchical)
            return self._detail(session, asset, viewer=viewer)

    def delete(self, asset_id: str, *, viewer: Viewer, hard: bool = False) -> None:
        """Soft: hidden and restorable. Hard: the record, its links both ways and its
        derivatives go (the proxies made only from it, and their cached files).

        Never the original: a hard-deleted file that is still on disk is indexed again by the
        next scan, which is why soft deletion is the default.
        """
        with self.database.session() as session:
            repo = AssetRepository(session)
            asset = changeable(session, asset_id, viewer=viewer, include_deleted=True)
            if hard and not viewer.may_manage(asset.owner_id):
                raise Forbidden("only the asset's owner or an admin may drop its record")
            if not hard:
                repo.soft_delete(asset)
                return
            self.drop_record(session, asset)

    def drop_record(self, session: Any, asset: Asset) -> None:
        """The record, its links both ways and its derivatives (the proxies made only from
        it, and their cached previews) go; the original is never touched."""
        repo = AssetRepository(session)
        content_hash = asset.hash
        links = LinkRepository(session, hierarchical=self.hierarchical)
        proxies = repo.get_many(links.derivatives_only_of(asset.id))
        links.delete_touching([asset.id, *(p.id for p in proxies)])
        for gone in (*proxies, asset):
            repo.hard_delete(gone)
        session.flush()
        if content_hash and not repo.hash_still_used(content_hash):
            cache.drop_derivatives(self.settings.resolved_cache_dir, content_hash)

    def add_tags_many(
        self, asset_ids: builtins.list[str], tags: builtins.list[str], *, viewer: Viewer
    ) -> int:
        """Bulk tagging from a selection: one statement, however many assets are selected.

        Returns how many of the ids were assets the viewer may change (the rest are ignored,
        not an error: a selection may hold an asset someone else deleted meanwhile, or one
        they only see).
        """
        wanted = normalise_tags(tags)
        if not wanted:
            raise Invalid("give at least one tag")
        with self.database.session() as session:
            repo = AssetRepository(session)
            ids = [
                a.id
                for a in repo.changeable_many(_unique(asset_ids), viewer=viewer)
                if a.deleted_at is None
            ]
            repo.add_tags(ids, wanted)
            TagFlows(session, hierarchical=self.hierarchical).tags_added(ids, wanted)
            repo.touch(ids)
            session.flush()
            for asset_id in ids:
                search.reindex_with_holders_below(session, asset_id, hierarchical=self.hierarchical)
            return len(ids)

    def delete_many(self, asset_ids: builtins.list[str], *, viewer: Viewer) -> int:
        """Soft-delete a selection (restorable, like a single delete); returns how many (those
        the viewer may change)."""
        with self.database.session() as session:
            repo = AssetRepository(session)
            selected = repo.changeable_many(_unique(asset_ids), viewer=viewer)
            assets = [a for a in selected if a.deleted_at is None]
            for asset in assets:
                repo.soft_delete(asset)
            return len(assets)

    def timeline(self, filters: AssetFilters, viewer: Viewer) -> dict[str, Any]:
        """Month by month, how many assets the listing with these filters holds: the gallery's
        scrubber rail, drawn before the grid has loaded those months."""
        with self.database.session() as session:
            query = _query(session, filters, viewer=viewer)
            months = AssetRepository(session).months(query, viewer)
        dated = [{"month": month, "count": n} for month, n in months.rows if month]
        undated = sum(n for month, n in months.rows if not month)
        return {"months": dated, "undated": undated, "estimated": months.estimated}

    def tag_counts(self, *, viewer: Viewer, limit: int = 200) -> builtins.list[dict[str, Any]]:
        """The tags in use, counted over the assets the viewer sees (a tag only hidden
        assets carry is not shown at all)."""
        with self.database.session() as session:
            rows = AssetRepository(session).tag_counts(limit=limit, viewer=viewer)
            return [{"tag": tag, "count": n} for tag, n in rows]

    def counts_by_root(self, *, viewer: Viewer) -> dict[str, dict[str, int]]:
        with self.database.session() as session:
            return AssetRepository(session).count_by_root_and_status(viewer=viewer)

    def restore(self, asset_id: str, *, viewer: Viewer) -> dict[str, Any]:
        with self.database.session() as session:
            asset = changeable(session, asset_id, viewer=viewer, include_deleted=True)
            AssetRepository(session).restore(asset)
            return self._detail(session, asset, viewer=viewer)

    def original(self, asset_id: str, *, viewer: Viewer) -> OriginalFile:
        """The asset's file, opened below its root: the caller streams from this descriptor
        (and closes it), so no name is looked up again after the check."""
        with self.database.session() as session:
            proxy = AssetRepository(session).visible_proxy(asset_id, viewer)
            if proxy is not None:
                return self._proxy_file(proxy)
            asset = self._get(session, asset_id, viewer=viewer)
            if asset.asset_type == AssetType.PROXY:
                return self._proxy_file(asset)
            if (
                asset.root_id is None
                or asset.rel_path is None
                or asset.asset_type == AssetType.COLLECTION
            ):
                raise NotFound("this asset has no file")
            root = RootRepository(session).get(asset.root_id)
            if root is None:
                raise NotFound("this asset's library is gone")
            if root.status == RootStatus.OFFLINE:
                raise Unavailable(f"library {root.name!r} is offline")
            if asset.status == AssetStatus.MISSING:
                raise Unavailable("the file is missing on disk")
            try:
                fd = open_below_root(root.path, asset.rel_path, escaped=asset.path_escaped)
            except PathOutsideRoot as exc:
                raise NotFound(str(exc)) from exc
            except OriginalUnavailable as exc:
                raise Unavailable(f"the file is missing on disk ({exc})") from exc
            return OriginalFile(os.fdopen(fd, "rb"), asset.filename, asset.mime_type)

    def _proxy_file(self, proxy: Asset) -> OriginalFile:
        """A web copy's bytes, from the cache (its URN names the file; checked to lie inside)."""
        try:
            path = cache.from_urn(self.settings.resolved_cache_dir, proxy.storage_urn)
            file = path.open("rb")
        except (cache.NotInCache, OSError) as exc:
            raise NotFound(
                f"this web copy is not in the cache; reprocess transcode ({exc})"
            ) from exc
        return OriginalFile(file, proxy.filename, proxy.mime_type)

    def _detail(self, session: Any, asset: Asset, *, viewer: Viewer) -> dict[str, Any]:
        """Every field, plus the asset's other copies ("this file also exists in ...") and
        whether it is corrupted, with the findings (services/integrity.py), and the tags it
        inherits with where they come from."""
        from trove.services.integrity import integrity_of

        flows = TagFlows(session, hierarchical=self.hierarchical)
        inherited = flows.inherited_of([asset.id]).get(asset.id, {})
        copy = ProxyRepository(session).web_copy_of(asset.id)
        integrity = integrity_of(session, asset, viewer=viewer)
        detail = asset_detail(
            asset, collage_shown=not hidden_collages(session, [asset], viewer=viewer)
        )
        if not viewer.sees_everything:
            detail["metadata"] = without_preview_sources(detail["metadata"])
        return {
            **detail,
            **integrity,
            "inherited_tags": inherited,
            "match": None,  # found by id, not by a search
            "meaning": None,
            "web_copy": web_copy(copy) if copy is not None else None,
            "stack_count": 1 + len(integrity.get("copies") or []),  # itself and its copies
        }

    def _replace_tags(self, session: Any, asset: Asset, tags: Sequence[str]) -> None:
        """Own tags, and what inherits them below the asset (a folder's, an album's)."""
        before = set(asset.tags)
        AssetRepository(session).replace_tags(asset, tags)
        session.flush()
        flows = TagFlows(session, hierarchical=self.hierarchical)
        flows.tags_removed(asset.id, sorted(before - set(tags)))
        flows.tags_added([asset.id], sorted(set(tags) - before))

    @staticmethod
    def _get(
        session: Any, asset_id: str, *, viewer: Viewer, include_deleted: bool = False
    ) -> Asset:
        """The asset if the viewer may see it; hidden and absent are the same NotFound."""
        asset = AssetRepository(session).visible(asset_id, viewer, include_deleted=True)
        if asset is None or (asset.deleted_at is not None and not include_deleted):
            raise NotFound(f"no asset with id {asset_id!r}")
        return asset


def changeable(
    session: Any, asset_id: str, *, viewer: Viewer, include_deleted: bool = False
) -> Asset:
    """The asset if the viewer may change it (domain/access.py): NotFound when they may not
    see it, Forbidden when they only see it. Every write of an asset asks this."""
    asset = AssetService._get(session, asset_id, viewer=viewer, include_deleted=include_deleted)
    if not AssetRepository(session).may_change(asset.id, viewer):
        raise Forbidden("only the asset's owner, a writer of its library or an admin may change it")
    return asset


_NO_SCORES = {"score": 0.0, "lexical": 0.0, "semantic": 0.0}


def _scores(blended: Blended) -> dict[str, dict[str, float]]:
    """Per result of a blended page: its fused score, its words' rank score and its cosine."""
    scores = {}
    for asset in blended.items:
        rank = blended.lexical_rank.get(asset.id)
        scores[asset.id] = {
            "score": round(blended.fused.get(asset.id, 0.0), 5),
            "lexical": round(1.0 / (1 + rank), 4) if rank is not None else 0.0,
            "semantic": round(blended.cosine.get(asset.id, 0.0), 4),
        }
    return scores


def _match(found: Snippet | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {"field": found.field, "text": found.text, "highlights": found.highlights}


def _query(session: Any, filters: AssetFilters, *, viewer: Viewer) -> AssetQuery:
    """The query the filters stand for, once the library and album they name are found among
    those the viewer is shown (an album they may not see is refused like one that is not)."""
    root_id = _root_id(session, filters.root, viewer=viewer) if filters.root else None
    if filters.album and AlbumRepository(session, viewer=viewer).get(filters.album) is None:
        raise InvalidQuery(f"album: no album with id {filters.album!r}")
    return filters.to_query(root_id=root_id)


def _root_id(session: Any, reference: str, *, viewer: Viewer) -> str:
    """The id of the library a caller named by its id, its path or its name, among those the
    caller is shown (an error names only those)."""
    from trove.services.scanner import canonical_root

    roots = RootRepository(session).visible_to(viewer)
    for wanted in (reference, canonical_root(reference)):
        matches = [r for r in roots if wanted in (r.id, r.path)]
        matches = matches or [r for r in roots if r.name == wanted]
        if len(matches) == 1:
            return matches[0].id
        if len(matches) > 1:
            raise InvalidQuery(f"several libraries are named {reference!r}: give its path or id")
    known = ", ".join(f"{r.name} ({r.path})" for r in roots) or "none yet"
    raise InvalidQuery(f"root: no library {reference!r}; libraries: {known}")


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def normalise_tags(tags: Iterable[str]) -> list[str]:
    cleaned = []
    for tag in tags:
        if not isinstance(tag, str):
            raise Invalid("tags must be strings")
        text = storable_text(" ".join(tag.split()), field="a tag")
        if not text:
            continue
        if len(text) > 200:
            raise Invalid(f"tag {text[:20]!r}... is longer than 200 characters")
        cleaned.append(text)
    return sorted(set(cleaned))


def _clean_text(value: str | None, *, field: str, limit: int) -> str:
    """Text a person typed (a title, a description), trimmed. Cleared (None, or nothing but
    spaces) it is stored as "": the person's "none", which a sidecar's title or description
    does not replace (domain/sidecars.py), where NULL lets it show. NUL is refused
    (PostgreSQL's text cannot hold it)."""
    if value is None:
        return ""
    if len(value) > limit:
        raise Invalid(f"{field} is longer than {limit} characters")
    return storable_text(value, field=field).strip()


def _visibility(value: str) -> str:
    try:
        return Visibility(value).value
    except ValueError as exc:
        allowed = ", ".join(v.value for v in Visibility)
        raise Invalid(f"visibility must be one of {allowed}") from exc


def _merged_namespace(
    current: dict[str, Any],
    patch: dict[str, dict[str, Any]] | None,
    *,
    registry: MetadataRegistry,
) -> dict[str, Any]:
    if not isinstance(patch, dict) or len(patch) != 1:
        raise Invalid('metadata: send exactly one namespace, e.g. {"gallery": {...}}')
    ((namespace, values),) = patch.items()
    if not _NAMESPACE.match(namespace):
        raise Invalid(f"metadata namespace {namespace!r}: use lower-case letters, digits and _")
    if namespace in EXTRACTED_NAMESPACES:
        raise Invalid(f"metadata namespace {namespace!r} is extracted from the file and read-only")
    if namespace == EDIT_NAMESPACE:  # the editor's list and render (services/edits.py)
        raise Invalid(
            f"metadata namespace {namespace!r} is Trove's own; edit through "
            "PUT /api/dam/assets/{id}/edits"
        )
    if namespace == ALBUM_NAMESPACE:  # cover and collage state AlbumService keeps consistent
        raise Invalid(
            f"metadata namespace {namespace!r} is Trove's own; set a cover through "
            "PATCH /api/dam/albums/{id}"
        )
    if not isinstance(values, dict):
        raise Invalid(f"metadata namespace {namespace!r} must be an object")
    values = registry.validate_write(namespace, values)
    encoded = storable_json(values, field=f"metadata namespace {namespace!r}")
    if len(encoded.encode()) > MAX_NAMESPACE_BYTES:
        raise Invalid(f"metadata namespace {namespace!r} is over {MAX_NAMESPACE_BYTES} bytes")
    return {**current, namespace: values}
