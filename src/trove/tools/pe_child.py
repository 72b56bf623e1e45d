"""The child process that runs pefile over one Windows executable (see tools/pe.py).

    python -m trove.tools.pe_child TIMEOUT_S MEMORY_MB MAX_ICON_BYTES  < installer.exe

It limits itself before touching the file (address space, CPU seconds, no file writes),
maps stdin read-only, and prints one JSON object. pefile is known to loop or balloon on some
malformed files; here that costs at most this process, which the parent kills on time.
"""

from __future__ import annotations

import base64
import json
import math
import mmap
import resource
import sys
from typing import Any

RT_ICON = 3
RT_RCDATA = 10
RT_GROUP_ICON = 14
RT_VERSION = 16
_STRING_KEYS = {
    "ProductName": "product_name",
    "ProductVersion": "product_version",
    "FileVersion": "file_version",
    "CompanyName": "company",
    "FileDescription": "description",
    "LegalCopyright": "copyright",
    "OriginalFilename": "original_filename",
}
_LICENCE_WORDS = ("LICENSE", "LICENCE", "EULA", "COPYING")
MAX_TEXT = 64 * 1024


def main(argv: list[str]) -> int:
    timeout_s, memory_mb, max_icon = float(argv[0]), int(argv[1]), int(argv[2])
    limit = memory_mb * 1024**2
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cpu = math.ceil(timeout_s)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    import pefile

    try:
        data = mmap.mmap(sys.stdin.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        print(f"cannot map the file: {exc}", file=sys.stderr)
        return 3
    try:
        pe = pefile.PE(data=data, fast_load=True)
        pe.parse_data_directories(
            directories=[
                pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"],
                pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_SECURITY"],
            ]
        )
        found = describe(pe, size=len(data), max_icon=max_icon)
    except pefile.PEFormatError as exc:
        print(f"not a valid PE file: {exc.value}", file=sys.stderr)
        return 3
    except MemoryError:
        print(f"parsing needed more than {memory_mb} MiB", file=sys.stderr)
        return 3
    json.dump(found, sys.stdout)
    return 0


def describe(pe: Any, *, size: int, max_icon: int) -> dict[str, Any]:
    import pefile

    security = pe.OPTIONAL_HEADER.DATA_DIRECTORY[4]
    found: dict[str, Any] = {
        "machine": pefile.MACHINE_TYPE.get(pe.FILE_HEADER.Machine, hex(pe.FILE_HEADER.Machine)),
        "is_dll": bool(pe.FILE_HEADER.Characteristics & 0x2000),
        "is_64bit": pe.OPTIONAL_HEADER.Magic == 0x20B,
        "signed": bool(
            security.VirtualAddress
            and security.Size
            and security.VirtualAddress + security.Size <= size
        ),
        "sections": len(pe.sections),
    }
    found.update(_version_strings(pe))
    resources = _resources(pe)
    icon = _icon(pe, resources, max_icon=max_icon)
    if icon:
        found["icon"] = base64.b64encode(icon).decode("ascii")
    licence = _embedded_licence(pe, resources)
    if licence:
        found["licence"] = licence
    return found


def _version_strings(pe: Any) -> dict[str, str]:
    strings: dict[str, str] = {}
    for group in getattr(pe, "FileInfo", None) or []:
        for info in group:
            if getattr(info, "Key", b"") != b"StringFileInfo":
                continue
            for table in info.StringTable:
                for key, value in table.entries.items():
                    name = _STRING_KEYS.get(_text(key))
                    if name and value:
                        strings.setdefault(name, _text(value)[:512])
    fixed = getattr(pe, "VS_FIXEDFILEINFO", None)
    if fixed and "file_version" not in strings:
        ms, ls = fixed[0].FileVersionMS, fixed[0].FileVersionLS
        strings["file_version"] = f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"
    return strings


def _resources(pe: Any) -> dict[Any, list[tuple[Any, Any]]]:
    """Resource type (id or name) -> [(entry id or name, data entry)] of the first language."""
    table: dict[Any, list[tuple[Any, Any]]] = {}
    root = getattr(pe, "DIRECTORY_ENTRY_RESOURCE", None)
    for kind in root.entries if root else []:
        key = kind.id if kind.name is None else _text(kind.name.string)
        subdirectory = getattr(kind, "directory", None)
        for entry in subdirectory.entries if subdirectory else []:
            languages = getattr(entry, "directory", None)
            if not languages or not languages.entries:
                continue
            name = entry.id if entry.name is None else _text(entry.name.string)
            table.setdefault(key, []).append((name, languages.entries[0].data.struct))
    return table


def _icon(pe: Any, resources: dict[Any, list[tuple[Any, Any]]], *, max_icon: int) -> bytes | None:
    """The largest image of the first icon group, as a PNG or a one-image .ico file."""
    groups = resources.get(RT_GROUP_ICON) or []
    icons = {name: data for name, data in resources.get(RT_ICON) or []}
    if not groups:
        return None
    directory = pe.get_data(groups[0][1].OffsetToData, groups[0][1].Size)
    count = int.from_bytes(directory[4:6], "little")
    best: tuple[int, bytes, bytes] | None = None
    for n in range(min(count, 64)):
        item = directory[6 + 14 * n : 6 + 14 * (n + 1)]
        if len(item) < 14:
            break
        icon_id = int.from_bytes(item[12:14], "little")
        data_entry = icons.get(icon_id)
        if data_entry is None or data_entry.Size > max_icon:
            continue
        side = item[0] or 256
        if best is None or side > best[0]:
            best = (side, item[:12], pe.get_data(data_entry.OffsetToData, data_entry.Size))
    if best is None:
        return None
    _, entry, image = best
    if image.startswith(b"\x89PNG"):
        return image
    header = (0).to_bytes(2, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
    return (
        header + entry[:8] + len(image).to_bytes(4, "little") + (22).to_bytes(4, "little") + image
    )


def _embedded_licence(pe: Any, resources: dict[Any, list[tuple[Any, Any]]]) -> dict | None:
    for kind, entries in resources.items():
        for name, data_entry in entries:
            label = (
                f"{kind if isinstance(kind, str) else ''} {name if isinstance(name, str) else ''}"
            )
            if kind not in (RT_RCDATA,) and not isinstance(kind, str):
                continue
            if not any(word in label.upper() for word in _LICENCE_WORDS):
                continue
            raw = pe.get_data(data_entry.OffsetToData, min(data_entry.Size, MAX_TEXT))
            return {"source": "embedded", "name": label.strip(), "text": _decode(raw)}
    return None


def _decode(raw: bytes) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16", "replace")
    return raw.decode("utf-8", "replace").replace("\x00", "")


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").replace("\x00", "").strip()
    return str(value).replace("\x00", "").strip()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
