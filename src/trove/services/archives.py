"""The inside of a texture pack (a ZIP indexed in place): one entry streamed for download, and
small previews of the images in it, for the archive's virtual folder view.

Entries are addressed by the asset id and their index in the central directory, never by a
name from the archive; nothing is extracted to disk (previews go to the hash-addressed cache
like every other derivative). The archive is re-checked against its budgets on every read,
since the file may have changed since it was indexed.
"""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from trove.config import Settings
from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.enums import AssetStatus, AssetType
from trove.repositories.assets import AssetRepository
from trove.repositories.roots import RootRepository
from trove.services.errors import Invalid, NotFound, Unavailable
from trove.storage import cache
from trove.storage.originals import OriginalUnavailable, resolve
from trove.tools.ziparchive import (
    ArchiveRefused,
    NoSuchEntry,
    ZipBudget,
    ZipEntry,
    entry_basename,
    entry_info,
    read_entry,
    stream_entry,
)

PREVIEW_BOX = 256


@dataclass(frozen=True)
class EntryDownload:
    chunks: Iterator[bytes]
    filename: str
    mime_type: str
    size: int


class ArchiveService:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        self.budget = ZipBudget.from_settings(settings)

    def entry(self, asset_id: str, index: int, *, viewer: Viewer) -> EntryDownload:
        """Entry `index` of the archive, checked now and streamed from it."""
        path, _ = self._archive(asset_id, viewer)
        entry = self._entry(path, index)
        if entry.is_dir:
            raise Invalid(f"entry {index} is a folder")
        filename = entry_basename(entry.name)
        mime_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        chunks = stream_entry(path, index, self.budget)
        return EntryDownload(chunks, filename, mime_type, entry.size)

    def entry_preview(self, asset_id: str, index: int, *, viewer: Viewer) -> Path:
        """A small WebP of image entry `index`, made once and kept in the cache."""
        path, content_hash = self._archive(asset_id, viewer)
        if not content_hash:
            raise Unavailable("the archive is not fingerprinted yet")
        name = f"entry-{index}.webp"
        try:
            return cache.existing(self.settings.resolved_cache_dir, content_hash, name)
        except cache.NotInCache:
            pass
        from trove.pipeline import imaging  # Pillow: only when a preview is made

        entry = self._entry(path, index)
        if not entry.is_image:
            raise NotFound(f"entry {index} is not an image")
        try:
            image = imaging.decode_bytes(
                read_entry(path, index, self.budget), self.settings, box=PREVIEW_BOX
            )
        except (ArchiveRefused, imaging.CannotDecode) as exc:
            raise Invalid(f"entry {index}: {exc}") from exc
        except OriginalUnavailable as exc:
            raise Unavailable(f"the archive is missing on disk ({exc})") from exc
        buffer = io.BytesIO()
        image.save(buffer, "WEBP", quality=self.settings.webp_quality, method=4)
        target = cache.derivative_path(self.settings.resolved_cache_dir, content_hash, name)
        cache.write_atomic(target, buffer.getvalue())
        return target

    def _archive(self, asset_id: str, viewer: Viewer) -> tuple[Path, str | None]:
        with self.database.session() as session:
            asset = AssetRepository(session).visible(asset_id, viewer)
            if asset is None or asset.asset_type != AssetType.TEXTURE_PACK:
                raise NotFound(f"no archive with id {asset_id!r}")
            root = RootRepository(session).get(asset.root_id or "")
            if root is None or asset.rel_path is None:
                raise NotFound("this archive's library is gone")
            if asset.status == AssetStatus.MISSING:
                raise Unavailable("the file is missing on disk")
            try:
                path = resolve(root.path, asset.rel_path, escaped=asset.path_escaped)
            except OriginalUnavailable as exc:
                raise NotFound(str(exc)) from exc
            return path, asset.hash

    def _entry(self, path: Path, index: int) -> ZipEntry:
        try:
            return entry_info(path, index, self.budget)
        except NoSuchEntry as exc:
            raise NotFound(str(exc)) from exc
        except ArchiveRefused as exc:
            raise Invalid(str(exc)) from exc
        except OriginalUnavailable as exc:
            raise Unavailable(f"the archive is missing on disk ({exc})") from exc
