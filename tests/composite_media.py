"""ZIP archives for the texture-pack tests and the bench: packs, bombs and broken ones."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

from PIL import Image

_EOCD = struct.Struct("<4s4H2LH")
_CENTRAL = struct.Struct("<4s6H3L5H2L")


def png(colour: tuple[int, int, int], size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def texture_pack(path: Path, entries: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            if name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 10)), b"")
            else:
                info = zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 10))
                archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def overlapping_bomb(path: Path, *, copies: int = 50) -> Path:
    """One deflated megabyte of zeros, listed `copies` times in the central directory, every
    listing pointing at the same local header (the CVE-2024-0450 shape)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * 1024**2)
    data = buffer.getvalue()
    end = _EOCD.unpack(data[-_EOCD.size :])
    central_offset, central_size = end[6], end[5]
    record = data[central_offset : central_offset + central_size]
    path.parent.mkdir(parents=True, exist_ok=True)
    head = data[:central_offset]
    central = record * copies
    eocd = _EOCD.pack(b"PK\x05\x06", 0, 0, copies, copies, len(central), len(head), 0)
    path.write_bytes(head + central + eocd)
    return path


def name_marked_utf8_but_not(path: Path) -> Path:
    """An entry whose name bytes are not UTF-8 although the UTF-8 flag says they are."""
    texture_pack(path, {"tex_A.png": png((1, 2, 3))})
    data = bytearray(path.read_bytes())
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = data.find(signature)
        struct.pack_into("<H", data, at + flag_at, 0x800)
        data[at + name_at + 4] = 0xFF  # "tex_\xff.png"
    path.write_bytes(bytes(data))
    return path


def cp437_name(path: Path) -> Path:
    """An entry named in the old DOS code page (no UTF-8 flag): `d\x81rer.png`."""
    texture_pack(path, {"dXrer.png": png((9, 9, 9))})
    data = bytearray(path.read_bytes())
    for signature, name_at in ((b"PK\x03\x04", 30), (b"PK\x01\x02", 46)):
        at = data.find(signature)
        data[at + name_at + 1] = 0x81
    path.write_bytes(bytes(data))
    return path
