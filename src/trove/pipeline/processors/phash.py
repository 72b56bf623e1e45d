"""Perceptual hash (64-bit DCT pHash, imagehash) from the 200 px preview (seed 4.1.2).

Computed from the preview the thumbnail step left in memory (≈0.3 ms) or, in a later pass,
from the cached small WebP. The pipeline keeps the LSH bands and `visually_similar_to` links
in step with the stored hash (pipeline/similarity.py).
"""

from __future__ import annotations

from trove.config import Settings
from trove.pipeline.processor import AssetView, StepResult
from trove.pipeline.processors.thumbnails import preview


class PhashProcessor:
    name = "phash"
    version = 1
    requires: tuple[str, ...] = ("thumbnails",)
    required = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type in ("image", "video")

    def process(self, asset: AssetView) -> StepResult:
        image = preview(asset, self.settings, size="small")
        if image is None:
            return StepResult.skipped("no preview to hash")
        import imagehash

        return StepResult.ok(phash=str(imagehash.phash(image.convert("RGB"))))
