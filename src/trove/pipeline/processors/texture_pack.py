"""A ZIP archive as a texture pack (seed 4.8, TexturePackDriver): indexed in place.

Two steps, so that a preview that cannot be drawn does not lose the index:
- `archive`: the central directory into `metadata["texture_pack"]` (name, size, compressed
  size, CRC, date of each entry; the primary texture), under the budgets of
  tools/ziparchive.py; a refused archive fails this step with the reason.
- `archive_preview`: the primary texture (`basecolor`, `albedo`, `diffuse`, ... else the first
  image) inflated in memory, within the entry and pixel limits, and drawn as the archive's
  preview pyramid. Nothing is ever extracted to disk.
"""

from __future__ import annotations

from trove.config import Settings
from trove.domain.enums import AssetCategory, AssetType
from trove.pipeline import imaging
from trove.pipeline.processor import AssetView, StepResult
from trove.pipeline.processors.thumbnails import pyramid_cached, pyramid_updates, store_pyramid
from trove.storage.originals import OriginalUnavailable
from trove.tools.ziparchive import ArchiveRefused, ZipBudget, index_archive, read_entry

NAMESPACE = "texture_pack"


class TexturePackIndexProcessor:
    name = "archive"
    version = 1
    requires: tuple[str, ...] = ("mime",)
    required = False

    def __init__(self, settings: Settings) -> None:
        self.budget = ZipBudget.from_settings(settings)

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type == AssetType.TEXTURE_PACK

    def process(self, asset: AssetView) -> StepResult:
        try:
            index = index_archive(asset.path, self.budget)
        except (ArchiveRefused, OriginalUnavailable) as exc:
            return StepResult.failed(str(exc))
        return StepResult.ok(
            metadata={NAMESPACE: index.as_metadata()}, category=AssetCategory.COMPOSITE
        )


class TexturePackPreviewProcessor:
    name = "archive_preview"
    version = 1
    requires: tuple[str, ...] = ("hash", "archive")
    required = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.budget = ZipBudget.from_settings(settings)
        imaging.configure(settings)

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type == AssetType.TEXTURE_PACK

    def process(self, asset: AssetView) -> StepResult:
        primary = (asset.meta.get(NAMESPACE) or {}).get("primary")
        if primary is None:
            return StepResult.skipped("the archive holds no image")
        if not asset.hash:
            return StepResult.skipped("no content hash yet")
        if pyramid_cached(asset.hash, self.settings):
            return StepResult.ok(**pyramid_updates(asset.hash))
        try:
            data = read_entry(asset.path, primary, self.budget)
            image = imaging.decode_bytes(data, self.settings)
        except (ArchiveRefused, OriginalUnavailable, imaging.CannotDecode) as exc:
            return StepResult.failed(f"entry {primary}: {exc}")
        return StepResult.ok(**store_pyramid(asset, image, self.settings))
