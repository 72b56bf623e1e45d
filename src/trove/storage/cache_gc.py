"""Finding and removing orphaned cache entries: `<cache>/<h[:2]>/<h>/` folders only.

Nothing else is ever removed: a name that does not follow the layout, a symlink, anything
whose real path leaves the cache, or a folder that holds (or is) a library root is reported
and left alone. Originals are never touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_SHARD = re.compile(r"^[0-9a-f]{2}$")
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class CacheEntry:
    hash: str
    path: Path
    bytes: int
    age_s: float


def entries(cache_dir: Path, *, strays: list[str]) -> Iterator[CacheEntry]:
    """Every `<shard>/<hash>/` folder of the cache; anything else is named in `strays`."""
    real_cache = os.path.realpath(cache_dir)
    try:
        shards = sorted(os.scandir(cache_dir), key=lambda e: e.name)
    except OSError:
        return
    now = time.time()
    for shard in shards:
        if not (_SHARD.match(shard.name) and shard.is_dir(follow_symlinks=False)):
            strays.append(shard.name)
            continue
        for item in sorted(os.scandir(shard.path), key=lambda e: e.name):
            rel = f"{shard.name}/{item.name}"
            valid = _HASH.match(item.name) and item.name.startswith(shard.name)
            if not (valid and item.is_dir(follow_symlinks=False)):
                strays.append(rel)
                continue
            if os.path.dirname(os.path.realpath(item.path)) != os.path.join(real_cache, shard.name):
                strays.append(rel)
                continue
            size, newest = _size_and_newest(item.path)
            yield CacheEntry(item.name, Path(item.path), size, now - newest)


def remove(entry: CacheEntry, *, roots: list[str]) -> bool:
    """Delete one orphaned entry; False (and nothing deleted) if a library root is at or
    below it, which would make it more than a cache folder."""
    real = os.path.realpath(entry.path)
    for root in roots:
        real_root = os.path.realpath(root)
        if real_root == real or real_root.startswith(real + os.sep):
            return False
    shutil.rmtree(entry.path)  # rmtree unlinks symlinks inside, never follows them
    return True


def prune_empty_shards(cache_dir: Path) -> None:
    try:
        shards = list(os.scandir(cache_dir))
    except OSError:
        return
    for shard in shards:
        if _SHARD.match(shard.name) and shard.is_dir(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.rmdir(shard.path)  # only succeeds when empty


def _size_and_newest(folder: str) -> tuple[int, float]:
    total, newest = 0, os.lstat(folder).st_mtime
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            total += st.st_size
            newest = max(newest, st.st_mtime)
    return total, newest
