"""SHA-256 of the original: logical dedup and bitrot checks (seed 4.1.1, 4.6)."""

from __future__ import annotations

import hashlib
import os

from trove.pipeline.processor import AssetView, StepResult
from trove.storage.originals import OriginalUnavailable, open_original

CHUNK = 1024 * 1024


class Sha256Processor:
    name = "hash"
    version = 1
    requires: tuple[str, ...] = ()
    required = True

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type != "collection"

    def process(self, asset: AssetView) -> StepResult:
        try:
            digest, size, mtime_ns = sha256_of(asset.path)
        except OriginalUnavailable as exc:
            return StepResult.failed(f"cannot read file: {exc}")
        if (size, mtime_ns) != (asset.size, asset.mtime_ns):
            # Changed since it was registered: the next scan or watcher event re-registers it.
            return StepResult.failed("file changed since it was indexed; it will be re-read")
        return StepResult.ok(hash=digest)


def sha256_of(path: os.PathLike[str] | str) -> tuple[str, int, int]:
    """(hex digest, size, mtime_ns); fails if the file changes while it is read."""
    with open_original(path) as fd:
        before = os.fstat(fd)
        digest = hashlib.sha256()
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        try:
            while n := os.readv(fd, [buffer]):
                digest.update(view[:n])
        except OSError as exc:
            raise OriginalUnavailable(f"read failed: {exc.strerror or exc}") from exc
        after = os.fstat(fd)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        raise OriginalUnavailable("file changed while it was being read")
    return digest.hexdigest(), after.st_size, after.st_mtime_ns
