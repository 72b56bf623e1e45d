"""Albums: name, description, owner, nesting, members in their order, cover, tags.
Written parents first, so an import nests each album as it comes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from trove.domain.access import Viewer
from trove.domain.albums import COVER_KEY, NAMESPACE
from trove.repositories.user_data import UserDataRepository
from trove.services import albums as album_service
from trove.services.albums import AlbumPatch
from trove.services.assets import AssetPatch
from trove.services.user_data.records import Record
from trove.services.user_data.section import ExportContext, ImportContext, OneByOne


class AlbumSection(OneByOne):
    kinds: tuple[str, ...] = ("album",)

    def records(self, ctx: ExportContext) -> Iterator[Record]:
        albums = ctx.repo.albums()
        parents = ctx.repo.album_parents()
        tags = ctx.repo.tags_of([a.id for a in albums])
        for album in _parents_first(albums, parents):
            member_ids = ctx.repo.members_in_order(album.id)
            cover = (album.meta or {}).get(NAMESPACE, {}).get(COVER_KEY)
            refs = ctx.refs.of([*member_ids, *([cover] if cover else [])])
            yield {
                "kind": "album",
                "key": album.id,
                "name": album.filename,
                "description": album.description,
                "owner": ctx.owner(album.owner_id),
                "visibility": album.visibility,
                "parent": parents.get(album.id),
                "members": [r for r in refs[: len(member_ids)] if r is not None],
                "cover": refs[-1] if cover else None,
                "tags": tags.get(album.id, []),
            }

    def restore(self, record: Record, ctx: ImportContext) -> None:
        system = Viewer.system()
        albums = ctx.service.albums
        members = [ctx.find(ref) for ref in record.get("members", [])]
        for ref, found in zip(record.get("members", []), members, strict=True):
            if found is None:
                ctx.report.miss("album member", f"{record['name']}: {ctx.describe_missing(ref)}")
        album_id = _found_or_made(record, ctx)
        _add_in_chunks(ctx, album_id, [m for m in members if m is not None])
        cover = ctx.find(record.get("cover"))
        if cover is not None:
            albums.update(album_id, AlbumPatch(cover_id=cover), viewer=system)
        patch = AssetPatch(
            tags=record.get("tags") or [], visibility=record.get("visibility") or "private"
        )
        ctx.service.assets.update(album_id, patch, viewer=system)
        ctx.became(record, album_id)
        ctx.report.hit("album")


def _found_or_made(record: Record, ctx: ImportContext) -> str:
    """The album a record is here: one of its owner's of its name at its place that no other
    record of this import became (names are not unique: two "Holiday" albums stay two), or a
    new one."""
    parent = ctx.keys.get(f"album:{record['parent']}") if record.get("parent") else None
    owner = record.get("owner")
    with ctx.session() as session:
        candidates = UserDataRepository(session).albums_named(
            record["name"], owner_id=ctx.owner_id(owner), parent_id=parent
        )
    found = ctx.unclaimed(record, candidates)
    if found is not None:
        return found
    made = ctx.service.albums.create(
        record["name"],
        description=record.get("description"),
        viewer=ctx.owner_viewer(owner),
        parent_id=parent,
    )
    return str(made["id"])


def _add_in_chunks(ctx: ImportContext, album_id: str, members: list[str]) -> None:
    """In chunks the album service takes at once (`MAX_ADD`): an album may hold more."""
    size = album_service.MAX_ADD
    for start in range(0, len(members), size):
        chunk = members[start : start + size]
        ctx.service.albums.add(album_id, chunk, viewer=Viewer.system())


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
