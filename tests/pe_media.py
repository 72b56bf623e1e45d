"""A small Windows executable written byte by byte, for the app-package tests and the bench.

No compiler for Windows exists on these machines, and a committed binary would be opaque:
this writes a PE32 image with one `.rsrc` section holding a version resource (product,
company, version strings), an icon group with one PNG icon, optionally a licence as
RCDATA named LICENSE, and optionally a (dummy) certificate table, which is what "signed"
means to a reader that only checks signature presence. It has no code; nothing runs it.
"""

from __future__ import annotations

import struct
from pathlib import Path

RT_ICON, RT_RCDATA, RT_GROUP_ICON, RT_VERSION = 3, 10, 14, 16
SECTION_RVA = 0x1000
FILE_ALIGN = 0x200


def pe_file(
    path: Path,
    *,
    strings: dict[str, str],
    version: tuple[int, int, int, int] = (1, 2, 3, 4),
    icon_png: bytes | None = None,
    licence: str | None = None,
    signed: bool = False,
) -> Path:
    resources: list[tuple[int | str, int | str, bytes]] = [
        (RT_VERSION, 1, version_info(strings, version))
    ]
    if icon_png is not None:
        entry = struct.pack("<BBBBHHIH", 32, 32, 0, 0, 1, 32, len(icon_png), 1)
        resources += [
            (RT_ICON, 1, icon_png),
            (RT_GROUP_ICON, 1, struct.pack("<3H", 0, 1, 1) + entry),
        ]
    if licence is not None:
        resources.append((RT_RCDATA, "LICENSE", licence.encode()))
    section = resource_section(resources, rva=SECTION_RVA)
    raw = section + b"\0" * (-len(section) % FILE_ALIGN)
    certificate = b""
    if signed:
        blob = b"0\x82" + b"\x00" * 62  # a DER SEQUENCE's first bytes: presence, not validity
        certificate = struct.pack("<IHH", 8 + len(blob), 0x0200, 0x0002) + blob
    cert_offset = FILE_ALIGN + len(raw) if signed else 0
    headers = _headers(
        section_size=len(section),
        raw_size=len(raw),
        security=(cert_offset, len(certificate)),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(headers + raw + certificate)
    return path


def _headers(*, section_size: int, raw_size: int, security: tuple[int, int]) -> bytes:
    dos = b"MZ" + b"\0" * 58 + struct.pack("<I", 0x40)
    coff = struct.pack("<HHIIIHH", 0x14C, 1, 0x5F000000, 0, 0, 224, 0x0102)
    image_size = SECTION_RVA + (section_size + 0xFFF) // 0x1000 * 0x1000
    optional = struct.pack(
        "<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII",
        0x10B, 14, 0, 0, raw_size, 0, 0, 0, SECTION_RVA, 0x400000, 0x1000, FILE_ALIGN,
        6, 0, 1, 0, 6, 0, 0, image_size, FILE_ALIGN, 0, 2, 0x8140,
        0x100000, 0x1000, 0x100000, 0x1000, 0, 16,
    )  # fmt: skip
    directories = [(0, 0)] * 16
    directories[2] = (SECTION_RVA, section_size)
    directories[4] = security
    optional += b"".join(struct.pack("<II", *d) for d in directories)
    section = struct.pack(
        "<8sIIIIIIHHI", b".rsrc", section_size, SECTION_RVA, raw_size, FILE_ALIGN, 0, 0, 0, 0,
        0x40000040,
    )  # fmt: skip
    headers = dos + b"PE\0\0" + coff + optional + section
    return headers + b"\0" * (FILE_ALIGN - len(headers))


def resource_section(resources: list[tuple[int | str, int | str, bytes]], *, rva: int) -> bytes:
    """The three-level resource tree (type / name / language 0x409) and its data."""
    by_type: dict[int | str, dict[int | str, bytes]] = {}
    for kind, name, data in resources:
        by_type.setdefault(kind, {})[name] = data
    types = _ordered(by_type)
    offset = 16 + 8 * len(types)
    type_dirs: dict[int | str, int] = {}
    for kind in types:
        type_dirs[kind] = offset
        offset += 16 + 8 * len(by_type[kind])
    leaves = [(kind, name) for kind in types for name in _ordered(by_type[kind])]
    language_dirs = {}
    for leaf in leaves:
        language_dirs[leaf] = offset
        offset += 16 + 8
    data_entries = {}
    for leaf in leaves:
        data_entries[leaf] = offset
        offset += 16
    strings = {}
    for label in [k for k in types if isinstance(k, str)] + [
        n for _, n in leaves if isinstance(n, str)
    ]:
        if label not in strings:
            strings[label] = offset
            offset += 2 + 2 * len(label)
    offset += -offset % 4
    blobs = {}
    for kind, name in leaves:
        blobs[(kind, name)] = offset
        offset += len(by_type[kind][name])
        offset += -offset % 4

    out = bytearray(offset)

    def directory(at: int, keys: list[int | str], targets: list[int], *, subdirs: bool) -> None:
        named = sum(1 for k in keys if isinstance(k, str))
        struct.pack_into("<IIHHHH", out, at, 0, 0, 0, 0, named, len(keys) - named)
        for n, (key, target) in enumerate(zip(keys, targets, strict=True)):
            ident = (0x80000000 | strings[key]) if isinstance(key, str) else key
            struct.pack_into(
                "<II", out, at + 16 + 8 * n, ident, target | (0x80000000 if subdirs else 0)
            )

    directory(0, types, [type_dirs[k] for k in types], subdirs=True)
    for kind in types:
        names = _ordered(by_type[kind])
        directory(type_dirs[kind], names, [language_dirs[(kind, n)] for n in names], subdirs=True)
    for leaf in leaves:
        directory(language_dirs[leaf], [0x409], [data_entries[leaf]], subdirs=False)
        data = by_type[leaf[0]][leaf[1]]
        struct.pack_into("<IIII", out, data_entries[leaf], rva + blobs[leaf], len(data), 0, 0)
        out[blobs[leaf] : blobs[leaf] + len(data)] = data
    for label, at in strings.items():
        encoded = label.encode("utf-16-le")
        out[at : at + 2 + len(encoded)] = struct.pack("<H", len(label)) + encoded
    return bytes(out)


def version_info(strings: dict[str, str], version: tuple[int, int, int, int]) -> bytes:
    ms, ls = version[0] << 16 | version[1], version[2] << 16 | version[3]
    fixed = struct.pack(
        "<13I", 0xFEEF04BD, 0x00010000, ms, ls, ms, ls, 0x3F, 0, 0x40004, 1, 0, 0, 0
    )
    entries = [
        _block(key, _utf16z(value), wtype=1, value_len=len(value) + 1)
        for key, value in strings.items()
    ]
    table = _block("040904B0", wtype=1, children=entries)
    string_info = _block("StringFileInfo", wtype=1, children=[table])
    translation = _block("Translation", struct.pack("<HH", 0x0409, 0x04B0), value_len=4)
    var_info = _block("VarFileInfo", wtype=1, children=[translation])
    return _block("VS_VERSION_INFO", fixed, value_len=len(fixed), children=[string_info, var_info])


def _block(
    key: str,
    value: bytes = b"",
    *,
    wtype: int = 0,
    value_len: int = 0,
    children: list[bytes] | None = None,
) -> bytes:
    body = _utf16z(key)
    body += b"\0" * (-(6 + len(body)) % 4) + value
    for child in children or []:
        body += b"\0" * (-(6 + len(body)) % 4) + child
    return struct.pack("<3H", 6 + len(body), value_len, wtype) + body


def _utf16z(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def _ordered(keys: dict[int | str, object] | list[int | str]) -> list[int | str]:
    """Named entries first (by name), then numbered ones (by number), as Windows expects."""
    names = sorted(k for k in keys if isinstance(k, str))
    numbers = sorted(k for k in keys if isinstance(k, int))
    return [*names, *numbers]
