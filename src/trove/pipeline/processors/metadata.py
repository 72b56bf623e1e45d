"""Embedded metadata with ExifTool (seed 4.1.2, 4.3), in batches through a resident process.

Stored in the seed's namespaces: `exif` (EXIF tags plus ExifTool's composite conveniences
such as LensID), `iptc`, `xmp`, `geo` (decimal latitude/longitude/altitude) and `file` for
what the container says (QuickTime, PDF, PNG, ... groups, prefixed by group). Width, height
and capture time go to the asset's core fields; `timeline_at` follows the capture time, and
`timeline_source` names the group it came from (without one, the scan's placement from the
file name, a folder or the mtime stands: domain/timeline.py).
File-system groups are dropped: they describe Trove's view of the disk, not the asset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from trove.config import Settings
from trove.domain.timeline import Placed, TimelineSource
from trove.pipeline.processor import AssetView, StepResult
from trove.tools.exiftool import SessionPool
from trove.tools.run import ToolError

_DROPPED_GROUPS = frozenset({"SourceFile", "ExifTool", "System", "File"})
_NAMESPACE_OF = {"EXIF": "exif", "Composite": "exif", "IPTC": "iptc", "XMP": "xmp"}
_MAX_VALUE_CHARS = 2000
_CAPTURE_TAGS = (
    "EXIF:DateTimeOriginal",
    "EXIF:CreateDate",
    "XMP:DateTimeOriginal",
    "XMP:CreateDate",
    "IPTC:DateCreated",
    "QuickTime:CreationDate",  # Apple's, with the zone it was recorded in
    "QuickTime:CreateDate",
    "QuickTime:MediaCreateDate",
    "PDF:CreateDate",
)
_OFFSET_TAGS = {
    "EXIF:DateTimeOriginal": "EXIF:OffsetTimeOriginal",
    "EXIF:CreateDate": "EXIF:OffsetTimeDigitized",
}
# QuickTime stores UTC by specification; EXIF stores wall-clock time without a zone.
_UTC_TAGS = frozenset({"QuickTime:CreateDate", "QuickTime:MediaCreateDate"})
_SOURCE_OF = {
    "EXIF": TimelineSource.EXIF,
    "XMP": TimelineSource.XMP,
    "IPTC": TimelineSource.IPTC,
    "QuickTime": TimelineSource.QUICKTIME,
    "PDF": TimelineSource.DOCUMENT,
}


class MetadataProcessor:
    name = "metadata"
    version = 2
    requires: tuple[str, ...] = ("mime",)
    required = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._exiftool = SessionPool(timeout=settings.tool_timeout_s)

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type in ("image", "video", "audio") or asset.mime_type in (
            "application/pdf",
            "image/svg+xml",
        )

    def process(self, asset: AssetView) -> StepResult:
        return self.process_batch([asset])[asset.id]

    def process_batch(self, assets: list[AssetView]) -> dict[str, StepResult]:
        found = self._exiftool.read([a.path for a in assets])
        results: dict[str, StepResult] = {}
        for asset in assets:
            tags = found.get(asset.path)
            if isinstance(tags, ToolError) or tags is None:
                results[asset.id] = StepResult.failed(str(tags or "exiftool gave no answer"))
            else:
                results[asset.id] = _result(asset, tags)
        return results

    def close(self) -> None:
        self._exiftool.close()


def _result(asset: AssetView, tags: dict[str, Any]) -> StepResult:
    namespaces = split_namespaces(tags)
    updates: dict[str, Any] = {}
    if asset.asset_type == "image":
        size = image_size(tags)
        if size:
            updates["width"], updates["height"] = size
    captured = capture(tags)
    if captured is not None:
        updates["captured_at"] = captured.at
        updates["timeline_at"] = captured.at
        updates["timeline_source"] = captured.source
    return StepResult.ok(metadata=namespaces, **updates)


def split_namespaces(tags: dict[str, Any]) -> dict[str, Any]:
    namespaces: dict[str, dict[str, Any]] = {"exif": {}, "iptc": {}, "xmp": {}, "file": {}}
    has_exif = any(key.startswith("EXIF:") for key in tags)
    for key, value in tags.items():
        group, _, tag = key.partition(":")
        if not tag or group in _DROPPED_GROUPS:
            continue
        clean = _clean(value)
        if clean is None:
            continue
        namespace = _NAMESPACE_OF.get(group)
        if group == "Composite" and not has_exif:
            namespace = None  # ImageSize, Megapixels of a PNG are not camera data
        if namespace is None:
            namespaces["file"][key] = clean
        elif namespace == "exif" and group == "Composite":
            namespaces["exif"].setdefault(tag, clean)
        else:
            namespaces[namespace][tag] = clean
    geo = gps(tags)
    result: dict[str, Any] = {name: values for name, values in namespaces.items() if values}
    if geo:
        result["geo"] = geo
    return result


def gps(tags: dict[str, Any]) -> dict[str, float] | None:
    """Decimal degrees (north and east positive), from ExifTool's signed composite values."""
    lat = _number(tags.get("Composite:GPSLatitude", tags.get("XMP:GPSLatitude")))
    lon = _number(tags.get("Composite:GPSLongitude", tags.get("XMP:GPSLongitude")))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    geo = {"lat": round(lat, 7), "lon": round(lon, 7)}
    alt = _number(tags.get("Composite:GPSAltitude"))
    if alt is not None:
        geo["alt"] = round(alt, 2)
    return geo


def image_size(tags: dict[str, Any]) -> tuple[int, int] | None:
    """Width and height as the picture is shown (EXIF orientation 5-8 swaps them)."""
    width = _number(tags.get("File:ImageWidth") or tags.get("EXIF:ExifImageWidth"))
    height = _number(tags.get("File:ImageHeight") or tags.get("EXIF:ExifImageHeight"))
    if not width or not height:
        size = str(tags.get("Composite:ImageSize", "")).replace("x", " ").split()
        if len(size) != 2:
            return None
        width, height = _number(size[0]), _number(size[1])
        if not width or not height:
            return None
    if _number(tags.get("EXIF:Orientation")) in (5, 6, 7, 8):
        width, height = height, width
    return int(width), int(height)


def capture(tags: dict[str, Any]) -> Placed | None:
    """When the picture was taken (naive UTC when the zone is known, else wall-clock) and the
    metadata group that recorded it. EXIF's zone comes from its OffsetTime tags, else from
    the GPS clock (UTC) beside it."""
    for key in _CAPTURE_TAGS:
        parsed = _exif_datetime(tags.get(key))
        if parsed is None:
            continue
        if parsed.tzinfo is None and key in _OFFSET_TAGS:
            offset = tags.get(_OFFSET_TAGS[key]) or tags.get("EXIF:OffsetTime")
            parsed = _with_offset(parsed, offset)
            if parsed.tzinfo is None:
                parsed = _zone_from_gps(parsed, tags.get("Composite:GPSDateTime"))
        if parsed.tzinfo is None and key in _UTC_TAGS:
            parsed = parsed.replace(tzinfo=UTC)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        if parsed.year < 1900:  # "0000:00:00 00:00:00" and QuickTime's epoch mean unknown
            continue
        return Placed(parsed, _SOURCE_OF[key.partition(":")[0]])
    return None


def _zone_from_gps(wall: datetime, gps_utc: Any) -> datetime:
    """The camera's zone as the difference between its clock and the GPS clock, when that
    is a real zone offset (whole quarter hours, at most 14 h) and not a drifted clock."""
    utc = _exif_datetime(gps_utc)
    if utc is None:
        return wall
    utc = utc.replace(tzinfo=UTC) if utc.tzinfo is None else utc.astimezone(UTC)
    difference = wall - utc.replace(tzinfo=None)
    quarters = round(difference / timedelta(minutes=15))
    if abs(quarters) > 56 or abs(difference - quarters * timedelta(minutes=15)) > timedelta(
        minutes=2
    ):
        return wall
    return wall.replace(tzinfo=timezone(quarters * timedelta(minutes=15)))


def _exif_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    text = value.strip().replace("Z", "+00:00")
    date, _, rest = text.partition(" ")
    date = date.replace(":", "-", 2)
    try:
        return datetime.fromisoformat(f"{date}T{rest}" if rest else date)
    except ValueError:
        return None


def _with_offset(moment: datetime, offset: Any) -> datetime:
    if not isinstance(offset, str) or len(offset) != 6 or offset[0] not in "+-":
        return moment
    try:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
    except ValueError:
        return moment
    sign = 1 if offset[0] == "+" else -1
    return moment.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))


def _clean(value: Any) -> Any:
    """JSON both databases accept: no NUL characters (PostgreSQL rejects them), no binary
    placeholders, long strings cut."""
    if isinstance(value, str):
        if value.startswith("(Binary data ") or value.startswith("base64:"):
            return None
        value = value.replace("\x00", "")
        return value[:_MAX_VALUE_CHARS]
    if isinstance(value, list):
        cleaned = [c for c in (_clean(v) for v in value[:200]) if c is not None]
        return cleaned or None
    if isinstance(value, dict):
        return {
            str(k).replace("\x00", ""): c for k, v in value.items() if (c := _clean(v)) is not None
        }
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).split()[0])
    except (ValueError, IndexError):
        return None
