"""Collection preview (seed 4.4, a virtual processor): an album's picture is a collage of its
first four members (the cover first), rendered as the usual preview pyramid.

The album has no file: AlbumService writes the content hashes of the members to show into the
album's `album` namespace (`preview_sources`) and sends the album through the pipeline whenever
membership or the cover changes. The collage is made from the members' cached medium previews
and stored in the cache under a key derived from those hashes, which becomes the album's
`hash`: the same four pictures make the same file, and a different selection a new URL.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence

from PIL import Image, ImageOps

from trove.config import Settings
from trove.domain.albums import MAX_TILES, NAMESPACE, PREVIEW_STEP, SOURCES_KEY
from trove.domain.enums import AssetType
from trove.pipeline import imaging
from trove.pipeline.processor import AssetView, StepResult
from trove.storage import cache

CANVAS = 1600
GAP = 8
BACKGROUND = (241, 243, 244)


class CollectionPreviewProcessor:
    name = PREVIEW_STEP
    version = 1
    requires: tuple[str, ...] = ()
    required = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type == AssetType.COLLECTION and NAMESPACE in asset.meta

    def process(self, asset: AssetView) -> StepResult:
        sources = list(asset.meta.get(NAMESPACE, {}).get(SOURCES_KEY, []))[:MAX_TILES]
        shown = {h: image for h in sources if (image := self._medium_preview(h)) is not None}
        if not shown:
            return StepResult.ok(hash=None, thumbnails={}, thumbnail_urn=None)
        key = collage_key(list(shown))
        tiles = list(shown.values())
        cache_dir = self.settings.resolved_cache_dir
        names = {size: cache.thumbnail_name(size) for size in cache.THUMBNAIL_SIZES}
        paths = {size: cache.derivative_path(cache_dir, key, n) for size, n in names.items()}
        if not all(path.is_file() for path in paths.values()):
            for rendition in imaging.pyramid(collage(tiles), quality=self.settings.webp_quality):
                cache.write_atomic(paths[rendition.name], rendition.webp)
        urns = {size: cache.urn(key, name) for size, name in names.items()}
        return StepResult.ok(
            hash=key, thumbnails=urns, thumbnail_urn=urns["medium"], width=CANVAS, height=CANVAS
        )

    def _medium_preview(self, content_hash: str) -> Image.Image | None:
        try:
            path = cache.existing(
                self.settings.resolved_cache_dir, content_hash, cache.thumbnail_name("medium")
            )
            with Image.open(io.BytesIO(path.read_bytes())) as stored:
                return stored.convert("RGB")
        except (cache.NotInCache, OSError):
            return None  # that member has no preview (yet): the collage shows the others


def collage_key(sources: Sequence[str]) -> str:
    """A SHA-256 digest naming the collage of these previews, in this order."""
    text = f"collection-preview/v{CollectionPreviewProcessor.version}\n" + "\n".join(sources)
    return hashlib.sha256(text.encode()).hexdigest()


def collage(tiles: Sequence[Image.Image]) -> Image.Image:
    """A square picture of up to four previews, cropped to fill their cells: one fills it,
    two side by side, three as one tall cell beside two, four as a 2 x 2 grid."""
    canvas = Image.new("RGB", (CANVAS, CANVAS), BACKGROUND)
    for tile, box in zip(tiles, _cells(len(tiles[:MAX_TILES])), strict=False):
        left, top, right, bottom = box
        cell = ImageOps.fit(tile, (right - left, bottom - top), Image.Resampling.LANCZOS)
        canvas.paste(cell, (left, top))
    return canvas


def _cells(count: int) -> list[tuple[int, int, int, int]]:
    half = (CANVAS - GAP) // 2
    far = half + GAP
    if count <= 1:
        return [(0, 0, CANVAS, CANVAS)]
    if count == 2:
        return [(0, 0, half, CANVAS), (far, 0, CANVAS, CANVAS)]
    if count == 3:
        return [(0, 0, half, CANVAS), (far, 0, CANVAS, half), (far, far, CANVAS, CANVAS)]
    return [
        (0, 0, half, half),
        (far, 0, CANVAS, half),
        (0, far, half, CANVAS),
        (far, far, CANVAS, CANVAS),
    ]
