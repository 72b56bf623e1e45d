"""MediaService: what the API needs from the pipeline's products (previews, progress)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.edits import current_thumbnails
from trove.domain.progress import jobs_shown_to
from trove.repositories.assets import AssetRepository
from trove.services.collages import hidden_collages
from trove.services.errors import Invalid, NotFound
from trove.storage import cache


class MediaService:
    def __init__(
        self, settings: Settings, database: Database, *, pipeline: Callable[[], Any]
    ) -> None:
        self.settings = settings
        self.database = database
        self._pipeline = pipeline
        self._jobs_source: Any = None

    def thumbnail(
        self, asset_id: str, size: str, *, viewer: Viewer, variant: str = "edited"
    ) -> Path:
        """The cached preview of an asset: resolved from the asset's content hash (or, for an
        edited asset, its render's key), never from the request, and checked to lie inside
        the cache. `variant="original"` is the original's preview of an edited asset."""
        if size not in cache.THUMBNAIL_SIZES:
            raise Invalid(f"size must be one of {', '.join(cache.THUMBNAIL_SIZES)}")
        with self.database.session() as session:
            asset = AssetRepository(session).visible(asset_id, viewer, include_deleted=True)
            if asset is None:
                raise NotFound(f"no asset with id {asset_id!r}")
            if not asset.hash or size not in (asset.thumbnails or {}):
                raise NotFound("this asset has no preview (yet)")
            if hidden_collages(session, [asset], viewer=viewer):
                raise NotFound("this album has no preview: it shows pictures you may not see")
            content_hash = asset.hash
            shown = current_thumbnails(asset).get(size)
        if variant != "original" and shown and shown != (asset.thumbnails or {}).get(size):
            return self._edited_preview(shown)
        try:
            return cache.existing(
                self.settings.resolved_cache_dir, content_hash, cache.thumbnail_name(size)
            )
        except cache.NotInCache as exc:
            raise NotFound(
                "this asset's preview is not in the cache; reprocess thumbnails"
            ) from exc

    def _edited_preview(self, urn: str) -> Path:
        try:
            return cache.from_urn(self.settings.resolved_cache_dir, urn)
        except cache.NotInCache as exc:
            raise NotFound("this asset's edited preview is not in the cache; save again") from exc

    def jobs(self, *, viewer: Viewer) -> dict[str, Any]:
        if self._jobs_source is None:
            self._jobs_source = self._pipeline()
        return jobs_shown_to(self._jobs_source.jobs(), sees_everything=viewer.sees_everything)
