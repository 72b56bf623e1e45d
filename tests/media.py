"""Test media made on the fly (Pillow, ffmpeg): tests never depend on files outside the repo."""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image


def write_jpeg(path: Path, *, size: tuple[int, int] = (64, 48), seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(8):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        image.paste((rng.randrange(256), 0, rng.randrange(256)), (x, y, x + 8, y + 8))
    image.save(path, "JPEG", quality=85)
    return path


def write_png(path: Path, *, size: tuple[int, int] = (32, 32), seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGBA", size, (seed % 256, 80, 160, 255)).save(path, "PNG")
    return path


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_library(root: Path, *, photos: int = 6) -> Path:
    """A small nested library: photos in dated folders, a PNG, notes, an empty file."""
    for i in range(photos):
        write_jpeg(root / f"2023/2023-0{1 + i % 3} trip" / f"IMG_{i:04d}.jpg", seed=i)
    write_png(root / "graphics" / "logo.png")
    write_text(root / "notes" / "readme.txt", "hello trove\n")
    (root / "notes" / "empty.dat").write_bytes(b"")
    return root


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size: int
    mtime_ns: int


def fingerprint_tree(root: Path) -> dict[str, Fingerprint]:
    """Bytes, size and mtime of every regular file under root (symlinks not followed)."""
    found: dict[str, Fingerprint] = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            try:
                data = path.read_bytes()
            except PermissionError:
                data = b"<unreadable>"
            st = path.stat()
            found[str(path.relative_to(root))] = Fingerprint(
                hashlib.sha256(data).hexdigest(), st.st_size, st.st_mtime_ns
            )
    return found
