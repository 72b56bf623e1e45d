"""A file's MIME type guessed from its name and first bytes: the scanner's cheap first answer.

libmagic over a text file costs about 0.5 ms (it tries dozens of text tests), more than all
the rest of registering a file; the `mime` step runs it anyway over the whole file, which it
reads then, and corrects what this guess got wrong (re-routing the asset's steps). So the
scanner asks only this: a table of format signatures (the bytes a format must start with),
then "text or not", then the file's suffix — in that order, so that a suffix never outvotes
the content (`photo.jpg` holding text is text, `scan.png` holding a JPEG is a JPEG).
No I/O here: the caller reads the head.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Callable

HEAD_BYTES = 4096
OCTET_STREAM = "application/octet-stream"
TEXT = "text/plain"

# Python's built-in table only (not /etc/mime.types, which differs between machines and calls
# a Rust file "application/rls-services+xml"), plus what it lacks that libraries hold.
_SUFFIXES = mimetypes.MimeTypes(filenames=()).types_map[1] | {
    ".md": "text/markdown",
    ".sh": "text/x-shellscript",
    ".bash": "text/x-shellscript",
    ".csh": "text/x-shellscript",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".markdown": "text/markdown",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".epub": "application/epub+zip",
    ".jar": "application/java-archive",
    ".apk": "application/vnd.android.package-archive",
    ".msi": "application/x-msi",
    ".exe": "application/vnd.microsoft.portable-executable",
    ".dll": "application/vnd.microsoft.portable-executable",
    ".mkv": "video/x-matroska",
    ".m4a": "audio/x-m4a",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".ogv": "video/ogg",
    ".7z": "application/x-7z-compressed",
    ".rar": "application/x-rar",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
    ".jxl": "image/jxl",
    ".psd": "image/vnd.adobe.photoshop",
    ".svgz": "image/svg+xml",
    ".ts": "video/mp2t",
    ".dng": "image/x-adobe-dng",
    ".cr2": "image/x-canon-cr2",
    ".cr3": "image/x-canon-cr3",
    ".nef": "image/x-nikon-nef",
    ".arw": "image/x-sony-arw",
    ".raf": "image/x-fuji-raf",
    ".orf": "image/x-olympus-orf",
    ".rw2": "image/x-panasonic-rw2",
}
# Text formats whose own type is better than "text/plain" when the content is text.
_TEXT_LIKE_APPS = frozenset(
    {
        "application/json",
        "application/xml",
        "application/rtf",
        "application/postscript",
        "image/svg+xml",
    }
)
_ZIP_BASED = frozenset(
    {
        ".docx",
        ".xlsx",
        ".pptx",
        ".odt",
        ".ods",
        ".odp",
        ".epub",
        ".jar",
        ".apk",
        ".kmz",
    }
)
_OLE_BASED = {
    ".msi": "application/x-msi",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
}
_HEIF_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic-sequence",
    b"hevx": "image/heic-sequence",
    b"mif1": "image/heif",
    b"msf1": "image/heif-sequence",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"crx ": "image/x-canon-cr3",
}
_ISO_BRANDS = {
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/x-m4a",
    b"M4B ": "audio/x-m4a",
    b"M4V ": "video/x-m4v",
    b"3gp4": "video/3gpp",
    b"3gp5": "video/3gpp",
    b"3gp6": "video/3gpp",
    b"3g2a": "video/3gpp2",
}
# Signatures strong enough to trust whatever the name says: (first bytes, type).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"8BPS", "image/vnd.adobe.photoshop"),
    (b"FUJIFILMCCD-RAW", "image/x-fuji-raf"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "image/jp2"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "image/jxl"),
    (b"ID3\x02", "audio/mpeg"),
    (b"ID3\x03", "audio/mpeg"),
    (b"ID3\x04", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"FLV\x01", "video/x-flv"),
    (b"0&\xb2u\x8ef\xcf\x11", "video/x-ms-asf"),
    (b"\x00\x00\x01\xba", "video/mpeg"),
    (b"\x00\x00\x01\xb3", "video/mpeg"),
    (b"\x7fELF", "application/x-executable"),
    (b"\x1f\x8b", "application/gzip"),
    (b"7z\xbc\xaf'\x1c", "application/x-7z-compressed"),
    (b"Rar!\x1a\x07", "application/x-rar"),
    (b"\xfd7zXZ\x00", "application/x-xz"),
    (b"(\xb5/\xfd", "application/zstd"),
    (b"SQLite format 3\x00", "application/vnd.sqlite3"),
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
    (b"OTTO", "font/otf"),
    (b"{\\rtf", "text/rtf"),
)

# The signatures that can match, by the head's first byte (one dict lookup, not 30 tests).
_SIGNATURES_BY_FIRST_BYTE: dict[int, tuple[tuple[bytes, str], ...]] = {
    first: tuple(sig for sig in _SIGNATURES if sig[0][0] == first)
    for first in {magic[0] for magic, _mime in _SIGNATURES}
}


def guess_mime(name: str, head: bytes) -> str:
    """The likely MIME type of a file called `name` (a base name or a path) that starts with
    `head` (its first HEAD_BYTES, or all of it)."""
    suffix = os.path.splitext(name)[1].lower()
    if not head:
        return "application/x-empty"
    found = _by_signature(head, suffix)
    if found is not None:
        return found
    if _looks_like_text(head):
        return _text_type(head, suffix)
    by_name = _SUFFIXES.get(suffix)
    if by_name is None or by_name.startswith("text/") or by_name in _TEXT_LIKE_APPS:
        return OCTET_STREAM  # binary under a text name: not what it claims
    return by_name


def _by_signature(head: bytes, suffix: str) -> str | None:
    for magic, mime in _SIGNATURES_BY_FIRST_BYTE.get(head[0], ()):
        if head.startswith(magic):
            if mime == "application/gzip" and suffix == ".svgz":
                return "image/svg+xml"
            return mime
    if head.startswith(b"MZ"):
        return _mz(head, suffix)
    special = _CONTAINERS.get(head[:4])
    return special(head, suffix) if special is not None else _iso_media(head, suffix)


def _zip(head: bytes, suffix: str) -> str:
    return _SUFFIXES[suffix] if suffix in _ZIP_BASED else "application/zip"


def _riff(head: bytes, suffix: str) -> str | None:
    return {b"WEBP": "image/webp", b"WAVE": "audio/x-wav", b"AVI ": "video/x-msvideo"}.get(
        head[8:12]
    )


def _ebml(head: bytes, suffix: str) -> str:
    return "video/webm" if suffix == ".webm" or b"webm" in head[:64] else "video/x-matroska"


def _ogg(head: bytes, suffix: str) -> str:
    return "video/ogg" if suffix == ".ogv" or b"\x80theora" in head[:128] else "audio/ogg"


def _ole(head: bytes, suffix: str) -> str:
    return _OLE_BASED.get(suffix, "application/x-ole-storage")


def _mz(head: bytes, suffix: str) -> str | None:
    """A Windows program (PE header where the DOS header points), a DOS one by its name, or
    (two letters are a weak sign) nothing known."""
    offset = int.from_bytes(head[60:64], "little") if len(head) >= 64 else 0
    if 64 <= offset <= len(head) - 4 and head[offset : offset + 4] == b"PE\x00\x00":
        return "application/vnd.microsoft.portable-executable"
    return "application/x-dosexec" if suffix in (".exe", ".com", ".dll") else None


def _aiff(head: bytes, suffix: str) -> str | None:
    return "audio/x-aiff" if head[8:12] in (b"AIFF", b"AIFC") else None


_CONTAINERS: dict[bytes, Callable[[bytes, str], str | None]] = {
    b"PK\x03\x04": _zip,
    b"PK\x05\x06": _zip,
    b"RIFF": _riff,
    b"\x1aE\xdf\xa3": _ebml,
    b"OggS": _ogg,
    b"\xd0\xcf\x11\xe0": _ole,
    b"FORM": _aiff,
}


def _iso_media(head: bytes, suffix: str) -> str | None:
    """ISO base media (MP4, MOV, HEIC, AVIF, CR3): an `ftyp` box first, its brand naming it."""
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in _HEIF_BRANDS:
        return _HEIF_BRANDS[brand]
    if brand in _ISO_BRANDS:
        return _ISO_BRANDS[brand]
    if brand.startswith(b"3g"):
        return "video/3gpp"
    return "video/mp4"


def _looks_like_text(head: bytes) -> bool:
    """No NUL and valid UTF-8 (a character cut at the end of the head allowed), or nearly all
    printable in a one-byte encoding; UTF-16 with a byte-order mark too."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and exc.reason in ("unexpected end of data",):
            return True
    controls = sum(head.count(bytes([c])) for c in _CONTROLS)
    return controls * 100 < len(head)


_CONTROLS = bytes(c for c in range(32) if c not in (8, 9, 10, 12, 13, 27))


def _text_type(head: bytes, suffix: str) -> str:
    start = head.lstrip()[:256].lower()
    if start.startswith((b"<?xml", b"<svg")) and b"<svg" in head[:4096].lower():
        return "image/svg+xml"
    if start.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    by_name = _SUFFIXES.get(suffix)
    if by_name is not None and (by_name.startswith("text/") or by_name in _TEXT_LIKE_APPS):
        return by_name
    if start.startswith(b"<?xml"):
        return "text/xml"
    return TEXT
