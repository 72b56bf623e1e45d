"""The preview pyramid (seed 4.2): small 200 / medium 800 / large 1920 px WebP in the cache.

One decode per asset feeds all three sizes (see pipeline/imaging.py). EXIF orientation is
applied, nothing is enlarged. Copies of the same content share one set of files: when the
cache already holds all three for this hash, nothing is decoded at all.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from trove.config import Settings
from trove.pipeline import imaging
from trove.pipeline.processor import AssetView, StepResult
from trove.storage import cache
from trove.storage.originals import OriginalUnavailable
from trove.tools.run import ToolError


class ThumbnailProcessor:
    name = "thumbnails"
    version = 1
    requires: tuple[str, ...] = ("hash", "mime", "probe")
    required = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        imaging.configure(settings)

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type != "collection" and imaging.kind_of(asset) is not None

    def process(self, asset: AssetView) -> StepResult:
        if not asset.hash:
            return StepResult.skipped("no content hash yet")
        cache_dir = self.settings.resolved_cache_dir
        names = {size: cache.thumbnail_name(size) for size in cache.THUMBNAIL_SIZES}
        paths = {size: cache.derivative_path(cache_dir, asset.hash, n) for size, n in names.items()}
        if not all(p.is_file() for p in paths.values()):
            try:
                image = imaging.decode(asset, self.settings)
            except (imaging.CannotDecode, OriginalUnavailable, ToolError) as exc:
                return StepResult.failed(str(exc))
            renditions = imaging.pyramid(image, quality=self.settings.webp_quality)
            for rendition in renditions:
                cache.write_atomic(paths[rendition.name], rendition.webp)
                asset.scratch[f"preview_{rendition.name}"] = rendition.image
            source_size = image.size
        else:
            source_size = None
        urns = {size: cache.urn(asset.hash, name) for size, name in names.items()}
        updates: dict[str, Any] = {"thumbnails": urns, "thumbnail_urn": urns["medium"]}
        if source_size and not asset.width and max(source_size) < imaging.LARGEST:
            updates["width"], updates["height"] = source_size  # drawn at its own size
        return StepResult.ok(**updates)


def preview(asset: AssetView, settings: Settings, *, size: str) -> Image.Image | None:
    """A preview of this asset from this pass's memory, else from the cache, else None."""
    image = asset.scratch.get(f"preview_{size}")
    if image is not None:
        return image
    if not asset.hash:
        return None
    try:
        path = cache.existing(settings.resolved_cache_dir, asset.hash, cache.thumbnail_name(size))
        with Image.open(io.BytesIO(path.read_bytes())) as stored:
            stored.load()
            image = stored.convert("RGB")
    except (cache.NotInCache, OSError):
        return None
    asset.scratch[f"preview_{size}"] = image
    return image
