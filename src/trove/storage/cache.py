"""The sidecar cache of derivatives, addressed by content hash (DESIGN.md, Storage).

`<cache>/<h[0:2]>/<h>/<small|medium|large>.webp`: duplicates share derivatives, and the whole
cache can be thrown away and rebuilt. Trove writes only here (and to the upload root).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

_HASH = re.compile(r"^[0-9a-f]{64}$")


def derivative_dir(cache_dir: Path, content_hash: str) -> Path:
    if not _HASH.match(content_hash):
        raise ValueError("not a SHA-256 hex digest")
    return cache_dir / content_hash[:2] / content_hash


def drop_derivatives(cache_dir: Path, content_hash: str) -> None:
    folder = derivative_dir(cache_dir, content_hash)
    if folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
