"""SHA-256 of the original: logical dedup and bitrot checks (seed 4.1.1, 4.6)."""

from __future__ import annotations

from hashlib import sha256

from trove.pipeline.processor import ORIGINAL_BYTES, AssetView, StepResult
from trove.storage.hashing import sha256_file
from trove.storage.originals import Content, OriginalUnavailable


class Sha256Processor:
    name = "hash"
    version = 1
    requires: tuple[str, ...] = ()
    required = True
    light = True  # pipeline/light.py

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type != "collection" and not asset.is_virtual

    def process(self, asset: AssetView) -> StepResult:
        content: Content | None = asset.scratch.get(ORIGINAL_BYTES)
        if content is not None:  # read by the `mime` step of this pass
            digest, size, mtime_ns = (
                sha256(content.data).hexdigest(),
                content.size,
                content.mtime_ns,
            )
        else:
            try:
                digest, size, mtime_ns = sha256_file(asset.path)
            except OriginalUnavailable as exc:
                return StepResult.failed(f"cannot read file: {exc}")
        if (size, mtime_ns) != (asset.size, asset.mtime_ns):
            # Changed since it was registered: the next scan or watcher event re-registers it.
            return StepResult.failed("file changed since it was indexed; it will be re-read")
        return StepResult.ok(hash=digest)
