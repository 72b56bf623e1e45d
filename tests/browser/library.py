"""A small library for the browser tests: photos of distinct colours spread over months, a
video, an audio clip, a document, and a photo whose name and EXIF description are markup."""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from datetime import datetime
from pathlib import Path

from PIL import Image

HOSTILE = "<img src=x onerror=alert(1)>"
COLOURS = [
    (231, 76, 60),
    (46, 204, 113),
    (52, 152, 219),
    (155, 89, 182),
    (241, 196, 15),
    (26, 188, 156),
    (230, 126, 34),
    (52, 73, 94),
    (236, 112, 99),
    (93, 173, 226),
    (88, 214, 141),
    (244, 208, 63),
]


def photo(path: Path, *, colour: tuple[int, int, int], when: datetime, text: str = "") -> Path:
    """A 640x480 JPEG: one colour with a lighter band, EXIF date (and description)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (640, 480), colour)
    light = tuple(min(255, c + 60) for c in colour)
    image.paste(light, (0, 300, 640, 380))
    exif = Image.Exif()
    exif[0x0132] = when.strftime("%Y:%m:%d %H:%M:%S")  # DateTime
    exif.get_ifd(0x8769)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")  # DateTimeOriginal
    if text:
        exif[0x010E] = text  # ImageDescription
    image.save(path, "JPEG", quality=85, exif=exif)
    _set_mtime(path, when)
    return path


def _set_mtime(path: Path, when: datetime) -> None:
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def make_browser_library(root: Path) -> Path:
    for i, colour in enumerate(COLOURS):
        when = datetime(2024, 6 - i // 4, 20 - i, 10, i)
        photo(root / f"trip/photo_{i:02}.jpg", colour=colour, when=when)
    photo(
        root / f"odd/{HOSTILE}.jpg",
        colour=(120, 120, 120),
        when=datetime(2023, 12, 1),
        text=HOSTILE,
    )
    _audio(root / "sound/tone.wav", when=datetime(2023, 11, 5))
    notes = root / "docs/notes.txt"
    notes.parent.mkdir(parents=True, exist_ok=True)
    notes.write_text("Notes from the trip.\n")
    _set_mtime(notes, datetime(2023, 10, 1))
    copy = root / "docs/old/notes copy.txt"  # the same bytes twice: a duplicate group
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(notes.read_bytes())
    _set_mtime(copy, datetime(2023, 9, 1))
    _video(root / "clips/clip.webm", when=datetime(2024, 1, 15))
    return root


def _audio(path: Path, *, when: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x10" * 8000)
    _set_mtime(path, when)


def _video(path: Path, *, when: datetime) -> None:
    """One second of VP9 (a codec Debian's Chromium plays), when ffmpeg is installed."""
    if shutil.which("ffmpeg") is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=10:duration=1",
            "-c:v",
            "libvpx-vp9",
            "-b:v",
            "200k",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    _set_mtime(path, when)
