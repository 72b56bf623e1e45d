"""Sidecars in: what digiKam, darktable, Lightroom and Google Takeout wrote beside a picture,
read as the picture's metadata (the naming rules: domain/sidecars.py).

XMP sidecars are read through ExifTool (resident processes lent per request, `-struct` so that a
face region's name stays with its box) into the `xmp_sidecar` namespace: keywords (`dc:subject`,
digiKam's `TagsList`, `lr:hierarchicalSubject` as `Places/France/Paris`), rating, label, title,
description, capture time and GPS. Takeout's JSON (parsed here, size-limited) goes to `takeout`:
capture time (`photoTakenTime`), place (`geoData`) and description.

A capture time or a GPS position from a sidecar is used only when the file records none. The
keywords and MWG face regions are returned as `Found`, which the pipeline turns into tags and
Region assets so that what a person did in Trove wins (pipeline/found.py). An XMP that could
not be read whole (an ExifTool error, a file cut short, one not read as XMP) fails the step,
so what was read before stays. The sidecar files are only read, never written.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trove.config import Settings
from trove.domain import sidecars
from trove.domain.enums import AssetType, StepStatus
from trove.domain.timeline import FROM_THE_FILE, TimelineSource
from trove.pipeline.processor import AssetView, Found, FoundRegion, StepResult
from trove.pipeline.processors.metadata import capture, gps
from trove.storage.originals import OriginalUnavailable, open_original
from trove.tools.exiftool import SessionPool
from trove.tools.run import ToolError

MAX_JSON_BYTES = 1024 * 1024
MAX_TAGS = 500
MAX_REGIONS = 100
# Tags darktable adds by itself (format, "changed", "exported"): its bookkeeping, not keywords.
_TOOL_TAG_PREFIXES = ("darktable|",)
_KEYWORD_KEYS = ("XMP:Subject", "XMP:TagsList", "XMP:HierarchicalSubject")
# ExifTool's warnings for an XMP it could not parse whole (Image/ExifTool/XMP.pm).
_DAMAGED_XMP_WARNINGS = ("XMP format error", "Invalid XMP", "XMP character encoding error")


class SidecarProcessor:
    name = "sidecar"
    version = 1
    # After the file's own metadata (whose capture time and position come first) and its
    # hash (a face region is drawn on the content it was found on).
    requires: tuple[str, ...] = ("metadata", "hash")
    required = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._exiftool = SessionPool(timeout=settings.tool_timeout_s)
        self._listings = _Listings()

    def applies_to(self, asset: AssetView) -> bool:
        return not asset.is_virtual and asset.asset_type in (AssetType.IMAGE, AssetType.VIDEO)

    def process(self, asset: AssetView) -> StepResult:
        return self.process_batch([asset])[asset.id]

    def process_batch(self, assets: list[AssetView]) -> dict[str, StepResult]:
        listings: dict[Path, dict[str, list[str]]] = {}
        beside: dict[str, list[Path]] = {}
        for asset in assets:
            folder = asset.path.parent
            if folder not in listings:
                listings[folder] = self._listings.sidecars_in(folder)
            named = (folder / n for n in listings[folder].get(asset.path.name, []))
            beside[asset.id] = [p for p in named if _regular_file(p)]
        xmp_files = [p for paths in beside.values() for p in paths if _kind(p) == sidecars.XMP]
        read = self._exiftool.read(xmp_files, options=("-struct",)) if xmp_files else {}
        return {a.id: _result(a, beside[a.id], read) for a in assets}

    def close(self) -> None:
        self._exiftool.close()


class _Listings:
    """Each folder's sidecars, listed once while the folder is unchanged (its mtime moves
    when a file is added, removed or renamed in it): a folder of 100k photos processed in
    batches of a few dozen is listed once, not once per batch."""

    KEPT = 16

    def __init__(self) -> None:
        self._known: dict[Path, tuple[int, dict[str, list[str]]]] = {}
        self._lock = threading.Lock()

    def sidecars_in(self, folder: Path) -> dict[str, list[str]]:
        try:
            mtime = os.stat(folder).st_mtime_ns
            with self._lock:
                known = self._known.get(folder)
            if known is not None and known[0] == mtime:
                return known[1]
            found = sidecars.sidecar_map(os.listdir(folder))
        except OSError:
            return {}
        with self._lock:
            if len(self._known) >= self.KEPT:
                self._known.pop(next(iter(self._known)))
            self._known[folder] = (mtime, found)
        return found


def _regular_file(path: Path) -> bool:
    """Sidecars are read like originals (storage/originals.py): a symlink (which the walk
    never follows either) could lead outside the library, and a FIFO would hang the read."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _kind(path: Path) -> str | None:
    return sidecars.kind_of(path.name)


def _result(
    asset: AssetView, files: list[Path], read: Mapping[Path, dict[str, Any] | ToolError]
) -> StepResult:
    had = sidecars.NAMESPACE in asset.meta or sidecars.TAKEOUT_NAMESPACE in asset.meta
    if not files and not had:
        return StepResult.skipped("no sidecar beside it")
    xmp: dict[str, Any] = {}
    takeout: dict[str, Any] = {}
    problems: list[str] = []
    xmp_unread = False
    for path in files:
        if _kind(path) == sidecars.XMP:
            tags = _trusted(read.get(path))
            if isinstance(tags, dict):
                _merge(xmp, from_xmp(tags), source=path.name)
            else:
                xmp_unread = True
                problems.append(f"{path.name}: {tags}")
        else:
            try:
                _merge(takeout, from_takeout(path), source=path.name)
            except (OSError, ValueError) as exc:
                problems.append(f"{path.name}: {exc}")
    # An XMP not read would read as "no keywords, no regions": those it gave would go.
    if problems and (xmp_unread or not (xmp or takeout)):
        return StepResult.failed("; ".join(problems)[:500])
    return _outcome(asset, xmp, takeout)


def _trusted(read: dict[str, Any] | ToolError | None) -> dict[str, Any] | str:
    """What ExifTool read of an XMP sidecar, or why it is not to be taken as the sidecar's
    content. ExifTool reports no error for a damaged XMP: one cut short gives only a warning
    (nothing inside its unclosed element is read), and one it does not recognise as XMP (a
    long DOCTYPE pushes the packet past where it looks) is read as text, with no XMP tags.
    Either would otherwise read as a sidecar with no keywords and no regions."""
    if not isinstance(read, dict):
        return str(read or "not read")
    kind = read.get("File:FileType")
    if kind != "XMP":
        return f"not read as XMP (ExifTool reads it as {kind or 'an unknown type'})"
    warning = str(read.get("ExifTool:Warning") or "")
    if warning.startswith(_DAMAGED_XMP_WARNINGS):
        return f"damaged XMP, not read ({warning})"
    return read


def _merge(into: dict[str, Any], values: dict[str, Any], *, source: str) -> None:
    """Several sidecars for one picture (`IMG_1.xmp` and `IMG_1.jpg.xmp`): keywords and
    regions together, the first one's other values."""
    into.setdefault("files", []).append(source)
    for key, value in values.items():
        if key in ("tags", "regions", "tools"):
            into[key] = [*into.get(key, []), *(v for v in value if v not in into.get(key, []))]
        else:
            into.setdefault(key, value)


def _outcome(asset: AssetView, xmp: dict[str, Any], takeout: dict[str, Any]) -> StepResult:
    updates: dict[str, Any] = {}
    metadata: dict[str, Any] = {
        sidecars.NAMESPACE: _public(xmp),
        sidecars.TAKEOUT_NAMESPACE: _public(takeout),
    }
    if asset.timeline_source not in FROM_THE_FILE:
        for values, source in ((xmp, TimelineSource.SIDECAR), (takeout, TimelineSource.TAKEOUT)):
            taken = values.get("taken")
            if isinstance(taken, datetime):
                updates.update(captured_at=taken, timeline_at=taken, timeline_source=source)
                break
    current = asset.meta.get("geo")
    if not isinstance(current, Mapping) or not current or current.get("from"):
        geo = xmp.get("geo") or takeout.get("geo")
        source = (xmp if xmp.get("geo") else takeout).get("files", [""])[0]
        if geo or current:  # a position a sidecar gave goes with it
            metadata["geo"] = {**geo, "from": source} if geo else {}
    regions = tuple(
        FoundRegion(bbox=(x, y, w, h), name=r.get("name"))
        for r in xmp.get("regions", [])
        for x, y, w, h in [r["bbox"]]
    )
    found = Found(namespace=sidecars.NAMESPACE, tags=tuple(xmp.get("tags", [])), regions=regions)
    return StepResult(status=StepStatus.OK, updates=updates, metadata=metadata, found=found)


def _public(values: dict[str, Any]) -> dict[str, Any]:
    """What the namespace stores (JSON), with the text search reads."""
    stored = {k: v for k, v in values.items() if k not in ("taken",) and v not in (None, [], "")}
    if isinstance(values.get("taken"), datetime):
        stored["taken_at"] = values["taken"].isoformat() + "Z"
    text = {k: values[k] for k in ("title", "description") if values.get(k)}
    if text:
        stored["search_text"] = text
    return stored


# --- XMP (through ExifTool, grouped keys, numeric values, structures kept) ------------------


def from_xmp(tags: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "tools": [_tool(tags)],
        "tags": keywords(tags),
        "rating": _rating(tags.get("XMP:Rating")),
        "label": _short(tags.get("XMP:Label"), 100),
        "title": _short(tags.get("XMP:Title"), 1000),
        "description": _short(tags.get("XMP:Description"), 100_000),
        "regions": regions(tags.get("XMP:RegionInfo")),
        "geo": gps(tags),
    }
    captured = capture(tags)
    if captured is not None:
        values["taken"] = captured.at
    return {k: v for k, v in values.items() if v not in (None, [])}


def keywords(tags: dict[str, Any]) -> list[str]:
    """Flat keywords and hierarchical ones (`Places|France|Paris`, digiKam's
    `Places/France/Paris`) as tags; Trove's tags are flat, so a path keeps its `/`."""
    found: list[str] = []
    for key in _KEYWORD_KEYS:
        value = tags.get(key)
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                continue
            text = str(item)
            if text.startswith(_TOOL_TAG_PREFIXES):
                continue
            if key == "XMP:HierarchicalSubject":
                text = "/".join(part.strip() for part in text.split("|"))
            text = " ".join(text.replace("\x00", "").split())[:200]
            if text and text not in found:
                found.append(text)
    return found[:MAX_TAGS]


def regions(info: Any) -> list[dict[str, Any]]:
    """MWG regions (`mwg-rs:RegionInfo`) as boxes from the top-left corner: MWG gives a
    region's centre, in fractions of the picture (`normalized`, the only unit MWG defines)."""
    if not isinstance(info, Mapping):
        return []
    found = []
    for region in (info.get("RegionList") or [])[:MAX_REGIONS]:
        area = region.get("Area") if isinstance(region, Mapping) else None
        if not isinstance(area, Mapping) or str(area.get("Unit", "normalized")) != "normalized":
            continue
        try:
            x, y, w, h = (float(area[k]) for k in ("X", "Y", "W", "H"))
        except (KeyError, TypeError, ValueError):
            continue
        left, top = max(0.0, x - w / 2), max(0.0, y - h / 2)
        w, h = min(w, 1.0 - left), min(h, 1.0 - top)
        if w <= 0 or h <= 0:
            continue
        box = [round(v, 4) for v in (left, top, w, h)]
        entry: dict[str, Any] = {"bbox": box, "type": _short(region.get("Type"), 50) or "Face"}
        name = _short(region.get("Name"), 200)
        if name:
            entry["name"] = name
        found.append(entry)
    return found


def _tool(tags: dict[str, Any]) -> str:
    if "XMP:TagsList" in tags or "XMP:ColorLabel" in tags:
        return "digiKam"
    if "XMP:History" in tags or "XMP:Xmp_version" in tags:
        return "darktable"
    creator = _short(tags.get("XMP:CreatorTool"), 100)
    return creator or ("Lightroom" if "XMP:HierarchicalSubject" in tags else "XMP")


def _rating(value: Any) -> int | None:
    """0-5 stars; Lightroom's -1 (rejected) and values out of range are no rating."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    stars = round(value)
    return stars if 0 <= stars <= 5 else None


def _short(value: Any, limit: int) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    text = str(value).replace("\x00", "").strip()
    return text[:limit] or None


# --- Google Takeout's JSON -----------------------------------------------------------------


def from_takeout(path: Path) -> dict[str, Any]:
    try:
        with open_original(path) as fd:  # O_NOFOLLOW, non-blocking open, a regular file
            raw = _read_up_to(fd, MAX_JSON_BYTES + 1)
    except OriginalUnavailable as exc:
        raise OSError(str(exc)) from exc
    if len(raw) > MAX_JSON_BYTES:
        raise ValueError("larger than a Takeout description can be")
    data = json.loads(raw.decode("utf-8", "replace"))
    if not isinstance(data, dict):
        raise ValueError("not a Takeout description")
    values: dict[str, Any] = {
        "title": _short(data.get("title"), 1000),
        "description": _short(data.get("description"), 100_000),
        "geo": _takeout_geo(data.get("geoDataExif")) or _takeout_geo(data.get("geoData")),
    }
    taken = _takeout_time(data.get("photoTakenTime"))
    if taken is not None:
        values["taken"] = taken
    return {k: v for k, v in values.items() if v is not None}


def _read_up_to(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _takeout_time(value: Any) -> datetime | None:
    """`{"timestamp": "1563125002", ...}`: seconds since the epoch, UTC."""
    if not isinstance(value, Mapping):
        return None
    try:
        seconds = int(str(value.get("timestamp")))
        moment = datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment if moment.year >= 1900 and seconds != 0 else None


def _takeout_geo(value: Any) -> dict[str, float] | None:
    """Takeout writes 0.0, 0.0 for a photo without a position."""
    if not isinstance(value, Mapping):
        return None
    try:
        lat, lon = float(value["latitude"]), float(value["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if (lat, lon) == (0.0, 0.0) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    geo = {"lat": round(lat, 7), "lon": round(lon, 7)}
    try:
        if value.get("altitude"):
            geo["alt"] = round(float(value["altitude"]), 2)
    except (TypeError, ValueError):
        pass
    return geo
