"""AlbumService: albums like a photo app's, nested, and backed by the graph (DESIGN.md).

An album is a `collection` asset with no file (category `virtual`); its members are `includes`
links carrying a position, its sub-albums `contains` links. Membership is by asset id, so it
survives renames and moves of the members, seen live or found by a later scan. Deleting an
album deletes no member: only the album's own record and links go.

The album's picture is made by the `collection_preview` processor: whenever what it would show
changes (the cover, or the first members), the album is sent through the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from trove.config import Settings
from trove.db.database import Database
from trove.db.models import OWNER_ID, Asset
from trove.domain.access import Viewer
from trove.domain.albums import COVER_KEY, MAX_TILES, NAMESPACE, PREVIEW_STEP, SOURCES_KEY
from trove.domain.enums import AssetCategory, AssetStatus, AssetType, Relation
from trove.domain.queries import InvalidQuery, decode_cursor, encode_cursor
from trove.domain.serialize import asset_summary
from trove.repositories._sql import utcnow
from trove.repositories.albums import AlbumRepository
from trove.repositories.assets import AssetRepository
from trove.repositories.links import edge
from trove.repositories.pipeline import PipelineRepository
from trove.services import search
from trove.services.collages import hidden_collages
from trove.services.errors import Conflict, Invalid, NotFound
from trove.services.links import LinkManager
from trove.services.storable import storable_text
from trove.storage import cache

MAX_NAME = 255
MAX_DEPTH = 64
MAX_ADD = 10_000
# The smallest gap between two positions still split: far above a float's resolution.
MIN_GAP = 1e-6
_UNSET: Any = object()
_PREVIEW_STALE = "trove.album_preview_stale"


@dataclass(frozen=True, kw_only=True)
class AlbumPatch:
    """Only the fields given change; `parent_id=None` makes the album top-level and
    `cover_id=None` goes back to the first member."""

    name: str = _UNSET
    description: str | None = _UNSET
    parent_id: str | None = _UNSET
    cover_id: str | None = _UNSET


class AlbumService:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        links: LinkManager,
        on_preview_stale: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.links = links
        self._on_preview_stale = on_preview_stale

    @classmethod
    def open(cls, settings: Settings) -> AlbumService:
        """For a CLI command: the schema made current and the database opened."""
        from trove.db.migrate import ensure_schema

        ensure_schema(settings.resolved_database_url)
        database = Database(settings.resolved_database_url)
        return cls(settings, database, links=LinkManager(settings, database))

    # --- albums ----------------------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        description: str | None = None,
        viewer: Viewer,
        parent_id: str | None = None,
        asset_ids: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A new album owned by its creator, inside `parent_id` if given, holding `asset_ids`
        in that order (the gallery's "New album from selection")."""
        wanted = _unique(asset_ids)
        with self._session() as session:
            album = AlbumRepository(session).add(
                name=_name(name),
                description=_description(description),
                meta={NAMESPACE: {COVER_KEY: None, SOURCES_KEY: []}},
                owner_id=viewer.user_id or OWNER_ID,
            )
            if parent_id is not None:
                self._set_parent(session, album, parent_id, viewer=viewer)
            if wanted:
                self._place(session, album, wanted, position=None, viewer=viewer)
            session.flush()
            search.reindex(session, [album.id], hierarchical=self.links.relations.hierarchical())
            return self._album(session, album, viewer=viewer)

    def tree(self, *, viewer: Viewer) -> list[dict[str, Any]]:
        """Every album the viewer may see, nested under its parent, siblings by name (an
        album whose parent they may not see is at the top level)."""
        with self._session() as session:
            repo = AlbumRepository(session, viewer=viewer)
            parents = repo.parents()
            counts = repo.member_counts()
            albums = repo.all()
            hidden = hidden_collages(session, albums, viewer=viewer)
            nodes = {
                a.id: {
                    **album_dict(
                        a,
                        parent_id=parents.get(a.id),
                        count=counts.get(a.id, 0),
                        first_member=repo.first_member_id(a.id),  # one index range each
                        chosen_cover=_chosen_cover(repo, a),
                        collage_shown=a.id not in hidden,
                    ),
                    "children": [],
                }
                for a in albums
            }
        roots: list[dict[str, Any]] = []
        for node in nodes.values():
            parent = nodes.get(node["parent_id"] or "")
            (parent["children"] if parent is not None else roots).append(node)
        return roots

    def get(self, album_id: str, *, viewer: Viewer) -> dict[str, Any]:
        with self._session() as session:
            return self._album(session, self._get(session, album_id, viewer=viewer), viewer=viewer)

    def overview(self, album_id: str, *, viewer: Viewer) -> dict[str, Any]:
        """What an album's page shows above its assets: the album, the albums it is inside
        (outermost first) and its sub-albums."""
        with self._session() as session:
            repo = AlbumRepository(session, viewer=viewer)
            album = self._get(session, album_id, viewer=viewer)
            ancestors = [{"id": a.id, "name": a.filename} for a in repo.ancestors(album.id)]
            below = repo.get_many(repo.children_of(album.id))
            hidden = hidden_collages(session, [album, *below], viewer=viewer)
            children = sorted(
                (self._album(session, child, viewer=viewer, hidden=hidden) for child in below),
                key=lambda child: child["name"].casefold(),
            )
            return {
                "album": self._album(session, album, viewer=viewer, hidden=hidden),
                "ancestors": ancestors,
                "children": children,
            }

    def update(self, album_id: str, patch: AlbumPatch, *, viewer: Viewer) -> dict[str, Any]:
        with self._session() as session:
            album = self._get(session, album_id, viewer=viewer)
            if patch.name is not _UNSET:
                album.filename = _name(patch.name)
            if patch.description is not _UNSET:
                album.description = _description(patch.description)
            if patch.parent_id is not _UNSET:
                self._set_parent(session, album, patch.parent_id, viewer=viewer)
            if patch.cover_id is not _UNSET:
                self._set_cover(session, album, patch.cover_id)
            album.updated_at = utcnow()
            session.flush()
            search.reindex_with_holders_below(
                session, album.id, hierarchical=self.links.relations.hierarchical()
            )
            return self._album(session, album, viewer=viewer)

    def delete(self, album_id: str, *, viewer: Viewer) -> None:
        """The album's record and links go; its members stay where they are, and its
        sub-albums move up to its parent (or to the top level)."""
        with self._session() as session:
            repo = AlbumRepository(session)
            album = self._get(session, album_id, viewer=viewer)
            parent = repo.parent_of(album.id)
            children = repo.children_of(album.id)
            self.links.repository(session).delete_touching([album.id])
            if parent is not None:
                for child in children:
                    self.links.link_in(session, parent.source_id, child, Relation.CONTAINS)
            assets = AssetRepository(session)
            collage = album.hash
            assets.hard_delete(album)
            session.flush()
            if collage and not assets.hash_still_used(collage):
                cache.drop_derivatives(self.settings.resolved_cache_dir, collage)

    # --- members ---------------------------------------------------------------------------

    def add(
        self,
        album_id: str,
        asset_ids: Sequence[str],
        *,
        viewer: Viewer,
        position: int | None = None,
    ) -> dict[str, Any]:
        """Put assets into the album, in the order given. With `position` (an index in album
        order) the first of them lands there, and those already in the album move there too
        (a drag to reorder); without it new ones go to the end and members keep their place.
        Albums are nested with parent_id, not added as members."""
        with self._session() as session:
            album = self._get(session, album_id, viewer=viewer)
            added, already = self._place(
                session, album, _unique(asset_ids), position=position, viewer=viewer
            )
            return {
                "added": added,
                "already": already,
                "album": self._album(session, album, viewer=viewer),
            }

    def remove(self, album_id: str, asset_ids: Sequence[str], *, viewer: Viewer) -> dict[str, Any]:
        wanted = _unique(asset_ids)
        with self._session() as session:
            repo = AlbumRepository(session)
            album = self._get(session, album_id, viewer=viewer)
            present = repo.member_ids(album.id, wanted)
            links = self.links.repository(session)
            links.remove_between(album.id, sorted(present), Relation.INCLUDES)
            if _meta(album).get(COVER_KEY) in present:
                self._set_cover(session, album, None)
            self._touched(session, album)
            return {"removed": len(present), "album": self._album(session, album, viewer=viewer)}

    def refresh_previews(self) -> int:
        """Albums with a member changed since the album was (the member's preview may have
        been made just now): their collage is drawn again when it would show other pictures.
        Returns how many albums were looked at."""
        with self._session() as session:
            albums = AlbumRepository(session).with_members_changed_since()
            for album in albums:
                self._touched(session, album)
            return len(albums)

    def members(
        self, album_id: str, *, viewer: Viewer, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the album's assets the viewer may see, in album order, and the next
        page's cursor."""
        with self._session() as session:
            album = self._get(session, album_id, viewer=viewer)
            after = _position_cursor(cursor) if cursor else None
            repo = AlbumRepository(session, viewer=viewer)
            rows = repo.members(album.id, limit=limit + 1, after=after)
            page = rows[:limit]
            items = [{**asset_summary(a), "position": p} for a, p in page]
            if len(rows) <= limit:
                return items, None
            last, last_position = page[-1]
            return items, encode_cursor(last_position, last.id)

    # --- internals -------------------------------------------------------------------------

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A unit of work; once it is committed, the pipeline hears of albums to redraw."""
        with self.database.session() as session:
            yield session
            stale = session.info.pop(_PREVIEW_STALE, False)
        if stale:
            self._on_preview_stale()

    def _get(self, session: Session, album_id: str, *, viewer: Viewer) -> Asset:
        album = AlbumRepository(session, viewer=viewer).get(album_id)
        if album is None:
            raise NotFound(f"no album with id {album_id!r}")
        return album

    def _album(
        self, session: Session, album: Asset, *, viewer: Viewer, hidden: set[str] | None = None
    ) -> dict[str, Any]:
        """`hidden`: hidden_collages of a listing of albums, looked up for all of them at once."""
        if hidden is None:
            hidden = hidden_collages(session, [album], viewer=viewer)
        repo = AlbumRepository(session, viewer=viewer)
        parent = repo.parent_of(album.id)
        count = repo.member_count(album.id)
        return album_dict(
            album,
            parent_id=parent.source_id if parent is not None else None,
            count=count,
            first_member=repo.first_member_id(album.id),
            chosen_cover=_chosen_cover(repo, album),
            collage_shown=album.id not in hidden,
        )

    def _place(
        self,
        session: Session,
        album: Asset,
        wanted: list[str],
        *,
        position: int | None,
        viewer: Viewer,
    ) -> tuple[int, int]:
        """Link or move `wanted` into the album (see `add`); (how many new, how many were in)."""
        if not wanted or len(wanted) > MAX_ADD:
            raise Invalid(f"give between 1 and {MAX_ADD} asset ids")
        if position is not None and position < 0:
            raise Invalid("position must be 0 or more")
        repo = AlbumRepository(session)
        members = self._check_members(session, wanted, viewer=viewer)
        already = repo.member_ids(album.id, wanted)
        placed = wanted if position is not None else [i for i in wanted if i not in already]
        if placed:
            links = self.links.repository(session)
            if position is None:
                at, step = repo.end_position(album.id), 1.0
            else:
                at, step = self._room(session, album.id, position, placed)
            new = [i for i in placed if i not in already]
            for asset_id in new:
                if members[asset_id].asset_type == AssetType.COLLECTION or (
                    members[asset_id].category == AssetCategory.COMPOSITE
                ):  # only these can hold links that would make the album a cycle
                    self.links.check_link(session, album.id, asset_id, Relation.INCLUDES)
            offsets = {asset_id: offset * step for offset, asset_id in enumerate(placed)}
            links.add_many(
                [edge(album.id, i, Relation.INCLUDES, position=at + offsets[i]) for i in new]
            )
            for asset_id in already & set(placed):
                found = links.find(album.id, asset_id, Relation.INCLUDES)
                if found is not None:
                    links.set_position(found.id, at + offsets[asset_id])
        self._touched(session, album)
        return len(wanted) - len(already), len(already)

    def _room(
        self, session: Session, album_id: str, index: int, placed: list[str]
    ) -> tuple[float, float]:
        """(first position, step) for `placed` at `index`: spread over the gap between the
        neighbours there, before the first or after the last; when the gap is used up, the
        members behind it move back to make one."""
        before, after = AlbumRepository(session).gap_at(album_id, index, leaving_out=placed)
        count = len(placed)
        if after is None:
            return (0.0 if before is None else before + 1), 1.0
        if before is None:
            return after - count, 1.0
        if after - before > count * MIN_GAP:
            step = (after - before) / (count + 1)
            return before + step, step
        links = self.links.repository(session)
        links.shift_positions(album_id, Relation.INCLUDES, at=after, by=count)
        return after, 1.0

    @staticmethod
    def _check_members(
        session: Session, asset_ids: list[str], *, viewer: Viewer
    ) -> dict[str, Asset]:
        """The assets to put in an album, each one the viewer sees and not an album itself."""
        found = {a.id: a for a in AssetRepository(session).visible_many(asset_ids, viewer=viewer)}
        for asset_id in asset_ids:
            asset = found.get(asset_id)
            if asset is None or asset.deleted_at is not None:
                raise NotFound(f"no asset with id {asset_id!r}")
            if _is_album(asset):
                raise Invalid("an album goes inside another one with parent_id, not as a member")
        return found

    def _set_parent(
        self, session: Session, album: Asset, parent_id: str | None, *, viewer: Viewer
    ) -> None:
        repo = AlbumRepository(session)
        if parent_id is not None:
            parent = AlbumRepository(session, viewer=viewer).get(parent_id)
            if parent is None:
                raise NotFound(f"no album with id {parent_id!r}")
            self._refuse_cycle(repo, album.id, parent_id)
        current = repo.parent_of(album.id)
        if current is not None:
            if current.source_id == parent_id:
                return
            self._unlink(session, current.source_id, album.id, Relation.CONTAINS)
        if parent_id is not None:
            self.links.link_in(session, parent_id, album.id, Relation.CONTAINS)

    def _unlink(self, session: Session, source_id: str, target_id: str, relation: str) -> None:
        links = self.links.repository(session)
        link = links.find(source_id, target_id, relation)
        if link is not None:
            links.remove(link)

    @staticmethod
    def _refuse_cycle(repo: AlbumRepository, album_id: str, parent_id: str) -> None:
        """An album may not go inside itself or inside one of its own sub-albums."""
        above = {a.id for a in repo.ancestors(parent_id, limit=MAX_DEPTH)}
        if album_id == parent_id or album_id in above:
            raise Conflict("an album cannot go inside itself or one of its sub-albums")
        if len(above) >= MAX_DEPTH:
            raise Conflict(f"albums nest at most {MAX_DEPTH} deep")

    def _set_cover(self, session: Session, album: Asset, cover_id: str | None) -> None:
        if cover_id is not None and not AlbumRepository(session).member_ids(album.id, [cover_id]):
            raise Invalid("the cover must be one of the album's assets")
        album.meta = {**(album.meta or {}), NAMESPACE: {**_meta(album), COVER_KEY: cover_id}}
        self._touched(session, album)

    def _touched(self, session: Session, album: Asset) -> None:
        """Membership or cover changed: when the collage would show other pictures now,
        store them and send the album through the pipeline to draw it again."""
        album.updated_at = utcnow()
        sources = self._preview_sources(session, album)
        if sources == _meta(album).get(SOURCES_KEY):
            return
        album.meta = {**(album.meta or {}), NAMESPACE: {**_meta(album), SOURCES_KEY: sources}}
        album.status = AssetStatus.PROCESSING
        session.flush()
        PipelineRepository(session).forget_step([album.id], PREVIEW_STEP)
        session.info[_PREVIEW_STALE] = True

    def _preview_sources(self, session: Session, album: Asset) -> list[str]:
        """Content hashes of the pictures the collage shows: the cover, then the first
        members that have a preview."""
        repo = AlbumRepository(session)
        chosen: list[Asset] = []
        cover_id = _chosen_cover(repo, album)
        if cover_id:
            chosen += [a for a in AssetRepository(session).get_many([cover_id]) if a.thumbnails]
        for asset in repo.first_with_previews(album.id, limit=MAX_TILES + 1):
            if asset.id != cover_id:
                chosen.append(asset)
        return list(dict.fromkeys(a.hash for a in chosen if a.hash))[:MAX_TILES]


def album_dict(
    album: Asset,
    *,
    parent_id: str | None,
    count: int,
    first_member: str | None = None,
    chosen_cover: str | None = None,
    collage_shown: bool = True,
) -> dict[str, Any]:
    """An album as the API returns it: the asset, with its name, parent, cover and size."""
    return {
        **asset_summary(album, collage_shown=collage_shown),
        "name": album.filename,
        "description": album.description,
        "parent_id": parent_id,
        "cover_id": chosen_cover or first_member,
        "cover_chosen": chosen_cover is not None,
        "count": count,
        "owner_id": album.owner_id,  # for the UI's share button (AlbumOut leaves it out)
    }


def _chosen_cover(repo: AlbumRepository, album: Asset) -> str | None:
    """The cover the user chose, while it is still a visible member: deleted, or taken out
    through another route (DELETE /links, a hard delete), the first member stands in again."""
    cover_id = _meta(album).get(COVER_KEY)
    if not isinstance(cover_id, str) or not repo.is_visible_member(album.id, cover_id):
        return None
    return cover_id


def _meta(album: Asset) -> dict[str, Any]:
    return dict((album.meta or {}).get(NAMESPACE) or {})


def _is_album(asset: Asset) -> bool:
    return asset.asset_type == AssetType.COLLECTION and asset.category == AssetCategory.VIRTUAL


def _name(value: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise Invalid("an album needs a name")
    if len(name) > MAX_NAME:
        raise Invalid(f"an album name is at most {MAX_NAME} characters")
    return storable_text(name, field="an album name")


def _description(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > 100_000:
        raise Invalid("description is longer than 100000 characters")
    return storable_text(value, field="description").strip() or None


def _position_cursor(cursor: str) -> tuple[float, str]:
    value, last_id = decode_cursor(cursor)
    try:
        return float(value), str(last_id)
    except (TypeError, ValueError) as exc:
        raise InvalidQuery("this cursor is not from an album listing") from exc


def _unique(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))
