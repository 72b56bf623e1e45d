"""EditService: the non-destructive editor (crop, rotate, straighten, flip, adjust).

An edit list (domain/edits.py) is drawn onto the upright original and the result written to
the cache, never beside the original: `<cache>/<key>/edited.jpg` with its own preview pyramid,
`key` being the hash of (original content, edit list, renderer version). It is a proxy asset
the original links to with `transformed_to`, like a web copy; the asset's `edit` namespace
names it, so its previews are the ones the gallery, the lightbox and shares show, and
`?variant=edited` downloads it. Each save is a row of history and a new `version`; reverting
saves an empty list. The API and the lightbox call the same `save`, so they render alike.

Rendering happens outside any transaction (a 12 MP photo takes about a second): the asset is
read, the picture drawn, then the result recorded in a second, short transaction that checks
the original did not change meanwhile.
"""

from __future__ import annotations

import functools
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from trove.config import Settings
from trove.db.database import Database
from trove.domain import edits as edit_domain
from trove.domain.access import Viewer
from trove.domain.edits import EditOp, InvalidEdit
from trove.domain.enums import AssetStatus, AssetType, Relation
from trove.domain.serialize import iso_utc
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository
from trove.repositories.edits import RENDER_STEM, EditRepository
from trove.repositories.proxies import Proxy, ProxyRepository
from trove.repositories.roots import RootRepository
from trove.services.assets import AssetService, OriginalFile, changeable
from trove.services.errors import Conflict, Invalid, NotFound, Unavailable
from trove.storage import cache
from trove.storage.originals import OriginalUnavailable, PathOutsideRoot, resolve

if TYPE_CHECKING:
    from PIL import Image

    from trove.db.models import Asset

log = logging.getLogger(__name__)

EDITED, ORIGINAL = "edited", "original"
HISTORY_LIMIT = 100
# Any size the decoder allows (Settings.max_image_pixels): the render is full resolution.
FULL_SIZE = 1 << 20
PREVIEW_BOX = 1280  # the editor's working picture: sharp on a laptop, quick to redraw


@dataclass(frozen=True)
class _Source:
    """What rendering needs, read in the first transaction."""

    asset_id: str
    path: Path
    content_hash: str
    mime_type: str | None
    filename: str
    size: int | None
    mtime_ns: int | None


@dataclass(frozen=True)
class _Render:
    key: str
    name: str
    mime_type: str
    width: int
    height: int
    size: int


class EditService:
    def __init__(self, settings: Settings, database: Database, *, assets: AssetService) -> None:
        self.settings = settings
        self.database = database
        self.assets = assets

    @functools.cached_property
    def _imaging(self) -> Any:
        from trove.pipeline import imaging  # Pillow and its plugins: only once someone edits

        imaging.configure(self.settings)
        return imaging

    # --- reading ---------------------------------------------------------------------------

    def get(self, asset_id: str, *, viewer: Viewer) -> dict[str, Any]:
        """The current edit list and the saves before it (newest first)."""
        with self.database.session() as session:
            asset = _visible(session, asset_id, viewer=viewer)
            rows = EditRepository(session).history(asset.id, limit=HISTORY_LIMIT)
            return {
                "asset_id": asset.id,
                "version": asset.version,
                "edits": edit_domain.state_of(asset.meta).get("edits", []),
                "history": [
                    {
                        "version": row.version,
                        "edits": row.edits,
                        "saved_at": iso_utc(row.created_at),
                        "user_id": row.user_id,
                    }
                    for row in rows
                ],
            }

    def file(self, asset_id: str, *, variant: str, viewer: Viewer) -> OriginalFile:
        """The original's bytes, or (`edited`) the render of its current edits; an asset
        without edits is its own edited version."""
        if variant == EDITED:
            with self.database.session() as session:
                asset = _visible(session, asset_id, viewer=viewer)
                render = _current_render(asset)
                filename = asset.filename
            if render is not None:
                try:
                    path = cache.from_urn(self.settings.resolved_cache_dir, render["urn"])
                    return OriginalFile(
                        path.open("rb"), _edited_name(filename, path.suffix), render["mime_type"]
                    )
                except (cache.NotInCache, OSError) as exc:
                    raise NotFound(
                        f"the edited render is not in the cache; save again ({exc})"
                    ) from exc
        return self.assets.original(asset_id, viewer=viewer)

    def preview(self, asset_id: str, raw_edits: Any, *, viewer: Viewer) -> bytes:
        """A JPEG of the edit list drawn on the original's large preview: what the lightbox's
        editor shows while someone edits, with the same maths as the saved render (crop boxes
        are fractions, so the size it is drawn at does not matter)."""
        from PIL import Image

        from trove.pipeline import editing

        try:
            ops = edit_domain.parse(raw_edits)
        except InvalidEdit as exc:
            raise Invalid(str(exc)) from None
        with self.database.session() as session:
            asset = _visible(session, asset_id, viewer=viewer)
            if asset.asset_type != AssetType.IMAGE:
                raise Invalid(f"only images can be edited; this asset is a {asset.asset_type}")
            previews = asset.thumbnails or {}
            urn = previews.get("large") or previews.get("medium")
        if not urn:
            raise Conflict("this image has no preview yet; edit it once it is processed")
        try:
            path = cache.from_urn(self.settings.resolved_cache_dir, urn)
            with Image.open(path) as stored:
                stored.load()
                image = stored.convert("RGBA" if stored.mode == "RGBA" else "RGB")
        except (cache.NotInCache, OSError) as exc:
            raise Conflict(f"this image's preview is not in the cache ({exc})") from exc
        drawn = editing.apply(self._imaging.fit(image, PREVIEW_BOX), ops).convert("RGB")
        buffer = io.BytesIO()
        drawn.save(buffer, "JPEG", quality=85)
        return buffer.getvalue()

    # --- changing --------------------------------------------------------------------------

    def save(self, asset_id: str, raw_edits: Any, *, viewer: Viewer) -> dict[str, Any]:
        """Replace the asset's edit list: rendered, recorded as a new version, and what the
        asset shows from now on. An empty list reverts to the original."""
        try:
            ops = edit_domain.parse(raw_edits)
        except InvalidEdit as exc:
            raise Invalid(str(exc)) from None
        render = None
        if ops:  # a revert needs neither the file nor its hash
            with self.database.session() as session:
                # a change like PATCH's: not everyone who sees the picture may edit it
                changeable(session, asset_id, viewer=viewer)
                source = self._source(session, asset_id, viewer=viewer)
            render = self._render(source, ops)
        with self.database.session() as session:
            asset = changeable(session, asset_id, viewer=viewer)
            if asset.asset_type != AssetType.IMAGE:
                raise Invalid(f"only images can be edited; this asset is a {asset.asset_type}")
            if ops and asset.hash != source.content_hash:
                raise Conflict("the original changed while it was being rendered; try again")
            self._record(session, asset, ops, render, viewer=viewer)
        return self.assets.get(asset_id, viewer=viewer)

    def refresh_stale(self, *, limit: int = 20) -> int:
        """Render again the edits of photos whose file changed since their render (the same
        list on the new content; no new version, no history row): run after each pipeline
        pass, once the new content is hashed. Returns how many were rendered."""
        system = Viewer.system()
        with self.database.session() as session:
            stale = [
                (asset.id, edit_domain.state_of(asset.meta)["edits"])
                for asset in EditRepository(session).edited_assets()
                if _is_stale(asset)
            ][:limit]
        done = 0
        for asset_id, edits in stale:
            try:
                ops = edit_domain.parse(edits)
                with self.database.session() as session:
                    source = self._source(session, asset_id, viewer=system)
                render = self._render(source, ops)
                with self.database.session() as session:
                    asset = _visible(session, asset_id, viewer=system)
                    if asset.hash == source.content_hash:
                        self._show(session, asset, edit_domain.canonical(ops), render)
                        done += 1
            except (Invalid, Conflict, NotFound, Unavailable, InvalidEdit) as exc:
                log.warning("could not render the edits of %s again: %s", asset_id, exc)
        return done

    def revert(self, asset_id: str, *, viewer: Viewer) -> dict[str, Any]:
        """Back to the original (kept in the history, so it can be undone too)."""
        return self.save(asset_id, [], viewer=viewer)

    def _record(
        self,
        session: Any,
        asset: Asset,
        ops: list[EditOp],
        render: _Render | None,
        *,
        viewer: Viewer,
    ) -> None:
        now = utcnow()
        repo = EditRepository(session)
        canonical = edit_domain.canonical(ops)
        asset.version = (asset.version or 1) + 1
        try:
            repo.append(
                asset.id, version=asset.version, edits=canonical, user_id=viewer.user_id, now=now
            )
        except IntegrityError as exc:
            raise Conflict("the asset was edited at the same time; reload and try again") from exc
        self._show(session, asset, canonical, render)

    def _show(
        self, session: Any, asset: Asset, canonical: list[dict[str, Any]], render: _Render | None
    ) -> None:
        """The asset shows this render (None: its original) and links no other."""
        now = utcnow()
        repo = EditRepository(session)
        before = repo.renders_of(asset.id)
        meta = {k: v for k, v in (asset.meta or {}).items() if k != edit_domain.NAMESPACE}
        if render is not None:
            assert asset.hash is not None
            render_id = self._save_proxy(session, asset, render, canonical, now=now)
            before = [r for r in before if r != render_id]
            meta[edit_domain.NAMESPACE] = _state(asset, canonical, render, render_id)
        repo.unlink_renders(asset.id, before)
        asset.meta = meta
        asset.updated_at = now
        session.flush()

    def _save_proxy(
        self,
        session: Any,
        asset: Asset,
        render: _Render,
        canonical: list[dict[str, Any]],
        *,
        now: Any,
    ) -> str:
        proxy = Proxy(
            storage_urn=cache.urn(render.key, render.name),
            filename=_edited_name(asset.filename, Path(render.name).suffix),
            mime_type=render.mime_type,
            size=render.size,
            width=render.width,
            height=render.height,
            duration=None,
            meta={"derivative": {"of_hash": asset.hash, "kind": "image", "edits": canonical}},
            timeline_at=asset.timeline_at or now,
        )
        return ProxyRepository(session).save(
            proxy, original_id=asset.id, relation=Relation.TRANSFORMED_TO, now=now
        )

    # --- rendering -------------------------------------------------------------------------

    def _source(self, session: Any, asset_id: str, *, viewer: Viewer) -> _Source:
        asset = _visible(session, asset_id, viewer=viewer)
        if asset.asset_type != AssetType.IMAGE:
            raise Invalid(f"only images can be edited; this asset is a {asset.asset_type}")
        if not asset.hash:
            raise Conflict("this image is not fingerprinted yet; edit it once it is processed")
        if asset.status == AssetStatus.MISSING:
            raise Unavailable("the file is missing on disk")
        root = RootRepository(session).get(asset.root_id or "")
        if root is None or asset.rel_path is None:
            raise Invalid("only files in a library can be edited")
        try:
            path = resolve(root.path, asset.rel_path, escaped=asset.path_escaped)
        except PathOutsideRoot as exc:
            raise NotFound(str(exc)) from exc
        return _Source(
            asset.id, path, asset.hash, asset.mime_type, asset.filename, asset.size, asset.mtime_ns
        )

    def _render(self, source: _Source, ops: list[EditOp]) -> _Render:
        """The render of `ops` for this content, from the cache when it was made before."""
        key = edit_domain.render_key(source.content_hash, ops)
        made = self._cached(key)
        if made is not None:
            return made
        image = self._draw(source, ops)
        from trove.pipeline import editing

        encoded = editing.encode(image)
        cache_dir = self.settings.resolved_cache_dir
        name = f"{RENDER_STEM}{encoded.suffix}"
        # The previews first, the render last: a render in the cache means a complete set.
        for rendition in self._imaging.pyramid(image, quality=self.settings.webp_quality):
            path = cache.derivative_path(cache_dir, key, cache.thumbnail_name(rendition.name))
            cache.write_atomic(path, rendition.webp)
        cache.write_atomic(cache.derivative_path(cache_dir, key, name), encoded.data)
        return _Render(key, name, encoded.mime_type, image.width, image.height, len(encoded.data))

    def _draw(self, source: _Source, ops: list[EditOp]) -> Image.Image:
        from trove.pipeline import editing
        from trove.pipeline.processor import AssetView

        view = AssetView(
            id=source.asset_id,
            path=source.path,
            size=source.size,
            mtime_ns=source.mtime_ns,
            mime_type=source.mime_type,
            asset_type=AssetType.IMAGE,
            hash=source.content_hash,
            filename=source.filename,
        )
        imaging = self._imaging
        try:
            image = imaging.decode(view, self.settings, box=FULL_SIZE)
        except OriginalUnavailable as exc:
            raise Unavailable(f"the file is missing on disk ({exc})") from exc
        except imaging.CannotDecode as exc:
            raise Conflict(f"the original cannot be drawn: {exc}") from exc
        return editing.apply(image, ops)

    def _cached(self, key: str) -> _Render | None:
        from PIL import Image

        cache_dir = self.settings.resolved_cache_dir
        for suffix, mime_type in ((".jpg", "image/jpeg"), (".png", "image/png")):
            name = f"{RENDER_STEM}{suffix}"
            try:
                path = cache.existing(cache_dir, key, name)
                with Image.open(path) as stored:
                    width, height = stored.size
                return _Render(key, name, mime_type, width, height, path.stat().st_size)
            except (cache.NotInCache, OSError):
                continue
        return None


def _visible(session: Any, asset_id: str, *, viewer: Viewer) -> Asset:
    """The asset if the viewer may see it and it is not deleted (PATCH's rule)."""
    asset = AssetRepository(session).visible(asset_id, viewer)
    if asset is None:
        raise NotFound(f"no asset with id {asset_id!r}")
    return asset


def _is_stale(asset: Asset) -> bool:
    state = edit_domain.state_of(asset.meta)
    return bool(
        state.get("edits")
        and asset.hash
        and state.get("of_hash") != asset.hash
        and asset.status == AssetStatus.READY
        and asset.deleted_at is None
    )


def _state(
    asset: Asset, canonical: list[dict[str, Any]], render: _Render, render_id: str
) -> dict[str, Any]:
    """The asset's `edit` namespace: the list, its render, and the render's previews."""
    return {
        "edits": canonical,
        "version": asset.version,
        "of_hash": asset.hash,
        "render": {
            "id": render_id,
            "urn": cache.urn(render.key, render.name),
            "mime_type": render.mime_type,
            "width": render.width,
            "height": render.height,
            "size": render.size,
        },
        "thumbnails": {
            size: cache.urn(render.key, cache.thumbnail_name(size))
            for size in cache.THUMBNAIL_SIZES
        },
    }


def _current_render(asset: Asset) -> dict[str, Any] | None:
    state = edit_domain.state_of(asset.meta)
    if state.get("of_hash") != asset.hash:
        return None
    render = state.get("render")
    return render if isinstance(render, dict) else None


def _edited_name(filename: str, suffix: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return f"{stem}-edited{suffix}"
