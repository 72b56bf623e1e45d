"""Reading a ZIP archive in place, under budgets, without ever extracting it to disk.

An archive is hostile input: its central directory may list millions of entries, declare a
petabyte, compress a gigabyte of zeros into a kilobyte, point several entries at the same
bytes (the overlapping-entry bomb of CVE-2024-0450, which Python 3.11.7's zipfile does not
refuse), or name entries `../../etc/passwd`. So the index checks every budget before any
byte is inflated, entries are addressed by their position in the central directory (never
by name), and an entry is only ever read into memory or streamed, never written out. Names
are kept as display text (control characters replaced), not as paths.
"""

from __future__ import annotations

import itertools
import os
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from trove.config import Settings
from trove.storage.originals import open_original

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".tga", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".dds", ".psd"}
)
# Names that mark the colour map of a material, in the order a preview prefers them.
PRIMARY_HINTS = ("basecolor", "base_color", "albedo", "diffuse", "color", "colour")
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"


class ArchiveRefused(Exception):
    """The archive breaks a budget or cannot be read; the message says which and why."""


class NoSuchEntry(ArchiveRefused):
    """The archive has no entry at that index."""


@dataclass(frozen=True, kw_only=True)
class ZipBudget:
    max_entries: int = 20_000
    max_total_bytes: int = 8 * 1024**3  # declared uncompressed size of all entries
    max_ratio: int = 200  # uncompressed / compressed, for an entry above `ratio_floor`
    ratio_floor: int = 1024**2
    max_entry_read: int = 256 * 1024**2  # the most one entry may inflate to in memory

    @classmethod
    def from_settings(cls, settings: Settings) -> ZipBudget:
        return cls(
            max_entries=settings.zip_max_entries,
            max_total_bytes=settings.zip_max_total_bytes,
            max_ratio=settings.zip_max_ratio,
            max_entry_read=min(settings.max_image_bytes, cls.max_entry_read),
        )


@dataclass(frozen=True, kw_only=True)
class ZipEntry:
    index: int
    name: str
    size: int
    compressed_size: int
    crc: str
    modified: str | None
    is_dir: bool
    is_image: bool
    # Why this entry will not be read (a bomb ratio, encryption, an unknown method), or None.
    refused: str | None = None


@dataclass(frozen=True, kw_only=True)
class ZipIndex:
    entries: list[ZipEntry]
    total_size: int
    total_compressed: int
    primary: int | None  # index of the entry that stands for the archive in previews
    notes: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "entries": [asdict(e) for e in self.entries],
            "count": len(self.entries),
            "files": sum(1 for e in self.entries if not e.is_dir),
            "images": sum(1 for e in self.entries if e.is_image),
            "total_size": self.total_size,
            "total_compressed": self.total_compressed,
            "primary": self.primary,
            "notes": self.notes,
        }


def index_archive(path: Path, budget: ZipBudget) -> ZipIndex:
    """The entries of the archive at `path`, or ArchiveRefused naming the broken budget."""
    with _opened(path) as archive:
        infos = archive.zf.infolist()
        if len(infos) > budget.max_entries:
            raise ArchiveRefused(f"{len(infos)} entries, over the limit of {budget.max_entries}")
        total = sum(i.file_size for i in infos)
        if total > budget.max_total_bytes:
            raise ArchiveRefused(
                f"declares {total} bytes uncompressed, over the limit of {budget.max_total_bytes}"
            )
        _check_no_overlap(archive.fh, infos, archive.size)
        entries = [_entry(n, info, budget) for n, info in enumerate(infos)]
    notes = []
    if any(_unsafe_name(i.filename) for i in infos):
        notes.append("some entry names are absolute or climb out of the archive; shown as text")
    return ZipIndex(
        entries=entries,
        total_size=total,
        total_compressed=sum(i.compress_size for i in infos),
        primary=primary_entry(entries),
        notes=notes,
    )


def primary_entry(entries: list[ZipEntry]) -> int | None:
    """The texture that stands for the pack: a colour map by name, else the first image."""
    images = [e for e in entries if e.is_image and e.refused is None]
    for hint in PRIMARY_HINTS:
        for entry in images:
            if hint in _stem(entry.name):
                return entry.index
    return images[0].index if images else None


def read_entry(path: Path, index: int, budget: ZipBudget) -> bytes:
    """The inflated bytes of entry `index`, held in memory, within the entry budget."""
    return b"".join(stream_entry(path, index, budget, limit=budget.max_entry_read))


def entry_info(path: Path, index: int, budget: ZipBudget) -> ZipEntry:
    """Entry `index` as indexed, after the same checks a read makes (ArchiveRefused else)."""
    with _opened(path) as archive:
        info = _checked(archive, index, budget)
        return _entry(index, info, budget)


def stream_entry(
    path: Path, index: int, budget: ZipBudget, *, limit: int | None = None, chunk: int = 256 * 1024
) -> Iterator[bytes]:
    """Entry `index` in chunks, re-checked against the budgets on every call (the file may
    have changed since it was indexed); a CRC mismatch ends the stream with ArchiveRefused."""
    with _opened(path) as archive:
        info = _checked(archive, index, budget)
        if limit is not None and info.file_size > limit:
            raise ArchiveRefused(f"entry inflates to {info.file_size} bytes, over {limit}")
        try:
            with archive.zf.open(info) as member:
                while data := member.read(chunk):
                    yield data
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise ArchiveRefused(f"cannot read entry: {exc}") from exc


def _checked(archive: _Opened, index: int, budget: ZipBudget) -> zipfile.ZipInfo:
    infos = archive.zf.infolist()
    if len(infos) > budget.max_entries:
        raise ArchiveRefused(f"{len(infos)} entries, over the limit of {budget.max_entries}")
    if not 0 <= index < len(infos):
        raise NoSuchEntry(f"no entry {index} in this archive")
    _check_no_overlap(archive.fh, infos, archive.size)
    refused = _refusal(infos[index], budget)
    if refused:
        raise ArchiveRefused(refused)
    return infos[index]


@dataclass
class _Opened:
    zf: zipfile.ZipFile
    fh: BinaryIO
    size: int


@contextmanager
def _opened(path: Path) -> Iterator[_Opened]:
    """A ZipFile over a read-only descriptor of the original (never a path from the archive)."""
    with open_original(path) as fd, os.fdopen(os.dup(fd), "rb") as fh:
        try:
            zf = zipfile.ZipFile(fh)
        except UnicodeDecodeError as exc:
            raise ArchiveRefused("an entry name is marked UTF-8 but is not valid UTF-8") from exc
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise ArchiveRefused(f"not a readable ZIP archive: {exc}") from exc
        with zf:
            yield _Opened(zf, fh, os.fstat(fd).st_size)


def _check_no_overlap(fh: BinaryIO, infos: list[zipfile.ZipInfo], size: int) -> None:
    """Every entry's local header and data lie inside the file and apart from the others:
    entries sharing bytes inflate the same compressed data many times over."""
    spans = []
    for info in infos:
        fh.seek(info.header_offset)
        header = fh.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
            raise ArchiveRefused("truncated or damaged archive: an entry has no local header")
        fields = _LOCAL_HEADER.unpack(header)
        end = info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10] + info.compress_size
        if end > size:
            raise ArchiveRefused("truncated archive: an entry runs past the end of the file")
        spans.append((info.header_offset, end))
    spans.sort()
    for (_, first_end), (second_start, _) in itertools.pairwise(spans):
        if second_start < first_end:
            raise ArchiveRefused("entries overlap (a ZIP bomb): refused")


def _entry(index: int, info: zipfile.ZipInfo, budget: ZipBudget) -> ZipEntry:
    name = display_name(info.filename)
    is_dir = info.is_dir()
    return ZipEntry(
        index=index,
        name=name,
        size=info.file_size,
        compressed_size=info.compress_size,
        crc=f"{info.CRC:08x}",
        modified=_when(info.date_time),
        is_dir=is_dir,
        is_image=not is_dir and Path(_basename(name)).suffix.lower() in IMAGE_SUFFIXES,
        refused=None if is_dir else _refusal(info, budget),
    )


def _refusal(info: zipfile.ZipInfo, budget: ZipBudget) -> str | None:
    if info.flag_bits & 0x1:
        return "encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2):
        return f"compression method {info.compress_type} not supported"
    if info.file_size > budget.ratio_floor:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > budget.max_ratio:
            return f"compression ratio {ratio:.0f}:1 over the limit of {budget.max_ratio}:1"
    return None


def display_name(name: str) -> str:
    """An entry name as text to show: control characters (and NUL) replaced, capped."""
    cleaned = "".join(c if c.isprintable() else "\ufffd" for c in name)
    return cleaned[:1024]


def entry_basename(name: str) -> str:
    """The last part of an entry name, for a download's file name; never a path."""
    base = _basename(name).strip().lstrip(".")
    return base or "entry"


def _basename(name: str) -> str:
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _stem(name: str) -> str:
    return Path(_basename(name)).stem.lower()


def _unsafe_name(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def _when(date_time: tuple[int, int, int, int, int, int]) -> str | None:
    try:
        return datetime(*date_time).isoformat()
    except ValueError:
        return None
