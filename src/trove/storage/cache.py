"""The sidecar cache of derivatives, addressed by content hash (DESIGN.md, Storage).

`<cache>/<h[0:2]>/<h>/<small|medium|large>.webp` (and `web.webp` / `web.mp4` transcodes):
duplicates share derivatives, and the whole cache can be thrown away and rebuilt. Trove
writes only here (and to the upload root). Files appear atomically (written beside, then
renamed), so a reader or a killed worker never leaves a half-written preview behind.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

_HASH = re.compile(r"^[0-9a-f]{64}$")
THUMBNAIL_SIZES = {"small": 200, "medium": 800, "large": 1920}
URN_PREFIX = "fs://system/dam_cache/"


class NotInCache(Exception):
    """The derivative asked for does not exist (yet), or would lie outside the cache."""


def derivative_dir(cache_dir: Path, content_hash: str) -> Path:
    if not _HASH.match(content_hash or ""):
        raise ValueError("not a SHA-256 hex digest")
    return cache_dir / content_hash[:2] / content_hash


def derivative_path(cache_dir: Path, content_hash: str, name: str) -> Path:
    if "/" in name or name.startswith("."):
        raise ValueError(f"not a derivative name: {name!r}")
    return derivative_dir(cache_dir, content_hash) / name


def thumbnail_name(size: str) -> str:
    if size not in THUMBNAIL_SIZES:
        raise ValueError(f"unknown thumbnail size {size!r}")
    return f"{size}.webp"


def urn(content_hash: str, name: str) -> str:
    """`fs://system/dam_cache/{hash}/{name}`, the seed's name for a derivative."""
    return f"{URN_PREFIX}{content_hash}/{name}"


def from_urn(cache_dir: Path, derivative_urn: str) -> Path:
    """The existing derivative a `fs://system/dam_cache/{hash}/{name}` URN names, or
    NotInCache (also for a URN that is not one of the cache's)."""
    if not derivative_urn.startswith(URN_PREFIX):
        raise NotInCache("not a cache URN")
    content_hash, _, name = derivative_urn.removeprefix(URN_PREFIX).partition("/")
    return existing(cache_dir, content_hash, name)


def existing(cache_dir: Path, content_hash: str, name: str) -> Path:
    """The path of a derivative that exists and lies inside the cache, or NotInCache."""
    try:
        path = derivative_path(cache_dir, content_hash, name)
    except ValueError as exc:
        raise NotInCache(str(exc)) from exc
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(cache_dir)) or not real.is_file():
        raise NotInCache(f"no {name} for this asset")
    return real


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def temporary_beside(path: Path) -> Path:
    """A fresh name in `path`'s folder for a tool to write to, then `os.replace` into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(fd)
    return Path(temporary)


def drop_derivatives(cache_dir: Path, content_hash: str) -> None:
    folder = derivative_dir(cache_dir, content_hash)
    if folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
