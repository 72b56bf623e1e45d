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
        if pyramid_cached(asset.hash, self.settings):
            return StepResult.ok(**pyramid_updates(asset.hash))
        try:
            image = imaging.decode(asset, self.settings)
        except (imaging.CannotDecode, OriginalUnavailable, ToolError) as exc:
            return StepResult.failed(str(exc))
        updates = store_pyramid(asset, image, self.settings)
        if not asset.width and max(image.size) < imaging.LARGEST:
            updates["width"], updates["height"] = image.size  # drawn at its own size
        return StepResult.ok(**updates)


def pyramid_cached(content_hash: str, settings: Settings) -> bool:
    """Whether the cache already holds all three previews for this content."""
    cache_dir = settings.resolved_cache_dir
    return all(
        cache.derivative_path(cache_dir, content_hash, cache.thumbnail_name(size)).is_file()
        for size in cache.THUMBNAIL_SIZES
    )


def store_pyramid(asset: AssetView, image: Image.Image, settings: Settings) -> dict[str, Any]:
    """Writes the three previews of `image` as this asset's (keyed by its hash), keeps them in
    the pass's memory, and returns the asset fields that point at them. Also used by steps
    whose preview is not the file itself (an archive's texture, an installer's icon)."""
    assert asset.hash
    cache_dir = settings.resolved_cache_dir
    for rendition in imaging.pyramid(image, quality=settings.webp_quality):
        path = cache.derivative_path(cache_dir, asset.hash, cache.thumbnail_name(rendition.name))
        cache.write_atomic(path, rendition.webp)
        asset.scratch[f"preview_{rendition.name}"] = rendition.image
    return pyramid_updates(asset.hash)


def pyramid_updates(content_hash: str) -> dict[str, Any]:
    urns = {
        size: cache.urn(content_hash, cache.thumbnail_name(size)) for size in cache.THUMBNAIL_SIZES
    }
    return {"thumbnails": urns, "thumbnail_urn": urns["medium"]}


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
