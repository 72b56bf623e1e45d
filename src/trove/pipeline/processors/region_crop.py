"""A region's preview (seed 4.8, RegionDriver): its box cropped from the parent's picture.

A region is a virtual asset: `metadata.region = {bbox: [x, y, w, h] (0-1 of the parent's
width and height), parent_id, parent_hash}`. Its pyramid is cut from the parent's large
preview in the cache (the parent's original may sit on a library that is offline, and the
1920 px preview is what the gallery needs), and stored under a key derived from the parent's
content and the box, which becomes the region's `hash` as an album's collage does: the same
box of the same picture is the same file; a moved box is a new URL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io

from PIL import Image

from trove.config import Settings
from trove.domain.enums import AssetType
from trove.pipeline import imaging
from trove.pipeline.processor import AssetView, StepResult
from trove.pipeline.processors.thumbnails import store_pyramid
from trove.storage import cache

NAMESPACE = "region"


class RegionCropProcessor:
    name = "region_crop"
    version = 1
    requires: tuple[str, ...] = ()
    required = True  # a region without its crop shows nothing: an error the user can see

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        imaging.configure(settings)

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type == AssetType.REGION

    def process(self, asset: AssetView) -> StepResult:
        region = asset.meta.get(NAMESPACE) or {}
        parent_hash, bbox = region.get("parent_hash"), region.get("bbox")
        if not parent_hash or not isinstance(bbox, list) or len(bbox) != 4:
            return StepResult.failed("the region has no parent picture or no box")
        try:
            path = cache.existing(
                self.settings.resolved_cache_dir, parent_hash, cache.thumbnail_name("large")
            )
            with Image.open(io.BytesIO(path.read_bytes())) as stored:
                stored.load()
                parent = stored.convert("RGB")
        except (cache.NotInCache, OSError) as exc:
            return StepResult.failed(f"the parent has no preview to crop from ({exc})")
        crop = parent.crop(pixel_box(bbox, parent.size))
        key = region_key(parent_hash, bbox)
        updates = store_pyramid(dataclasses.replace(asset, hash=key), crop, self.settings)
        width, height = _in_parent_pixels(bbox, region)
        return StepResult.ok(
            hash=key, width=width or crop.width, height=height or crop.height, **updates
        )


def pixel_box(bbox: list[float], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A normalised [x, y, w, h] as a pixel box of an image this size, at least 1 px."""
    x, y, w, h = (min(1.0, max(0.0, float(v))) for v in bbox)
    left, top = round(x * size[0]), round(y * size[1])
    right = max(left + 1, min(size[0], round((x + w) * size[0])))
    bottom = max(top + 1, min(size[1], round((y + h) * size[1])))
    return left, top, right, bottom


def region_key(parent_hash: str, bbox: list[float]) -> str:
    box = ",".join(f"{float(v):.6f}" for v in bbox)
    return hashlib.sha256(f"region:{parent_hash}:{box}".encode()).hexdigest()


def _in_parent_pixels(bbox: list[float], region: dict) -> tuple[int | None, int | None]:
    width, height = region.get("parent_width"), region.get("parent_height")
    if not width or not height:
        return None, None
    return max(1, round(bbox[2] * width)), max(1, round(bbox[3] * height))
