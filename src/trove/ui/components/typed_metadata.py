"""Metadata namespaces as people read them: each namespace with a registered schema is read
through it (AssetSDK) and shown as labelled, human-formatted rows (exposure `1/250 s`,
`f/1.8`, GPS as coordinates and place, dates in the reader's locale), with the raw values a
click away. A schema without a presenter here is shown field by field, by its field titles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nicegui import ui
from pydantic import BaseModel

from trove.domain.namespaces import ExifMeta, GeoMeta, LogEntryMeta
from trove.ui.components.local_time import LocalTime
from trove.ui.format import aperture, coordinates, exposure, millimetres

MAX_VALUE_CHARS = 400


@dataclass(frozen=True)
class Row:
    label: str
    text: str
    # A moment to show in the reader's locale (`text` is then the fallback).
    iso: str | None = None
    wall_clock: bool = False
    note: str | None = None  # said after the value: "(from EXIF)"


def camera_summary(exif: ExifMeta, *, place: str | None = None) -> str | None:
    """ "Canon EOS R5 · RF50mm F1.8 · f/1.8 · 1/250 s · ISO 100 · 50 mm · Kyoto, Japan", what
    is known of it, in the order photographers say it; None when nothing is."""
    parts = [
        _camera(exif),
        exif.lens or exif.lens_id,
        aperture(exif.f_number),
        exposure(exif.exposure_time),
        f"ISO {exif.iso:g}" if exif.iso else None,
        millimetres(exif.focal_length),
    ]
    shown = [p for p in parts if p]
    if len(shown) < 2 and not _camera(exif):
        shown = []  # a lone exposure value says nothing on its own
    return " · ".join([*shown, place] if place else shown) or None


def exif_rows(exif: ExifMeta) -> list[Row]:
    focal = millimetres(exif.focal_length)
    if focal and exif.focal_length_35mm and exif.focal_length_35mm != exif.focal_length:
        focal += f" ({millimetres(exif.focal_length_35mm)} full-frame)"
    rows = [
        ("Camera", _camera(exif)),
        ("Lens", exif.lens or exif.lens_id),
        ("Exposure", exposure(exif.exposure_time)),
        ("Aperture", aperture(exif.f_number)),
        ("ISO", f"{exif.iso:g}" if exif.iso else None),
        ("Focal length", focal),
    ]
    found = [Row(label, text) for label, text in rows if text]
    taken = _camera_clock(exif.taken)
    if taken:
        found.append(Row("Taken", exif.taken or "", iso=taken, wall_clock=True))
    return found


def geo_rows(geo: GeoMeta) -> list[Row]:
    rows = [Row("Place", geo.place)] if geo.place else []
    rows.append(Row("Coordinates", coordinates(geo.lat, geo.lon)))
    if geo.alt is not None:
        rows.append(Row("Altitude", f"{geo.alt:.0f} m"))
    return rows


def log_entry_rows(entry: LogEntryMeta) -> list[Row]:
    at = entry.at.replace(tzinfo=None).isoformat() + "Z"
    return [Row("When", at, iso=at), Row("Note", entry.text)]


PRESENTERS: dict[type[BaseModel], Callable[[Any], list[Row]]] = {
    ExifMeta: exif_rows,
    GeoMeta: geo_rows,
    LogEntryMeta: log_entry_rows,
}


def rows_for(model: BaseModel) -> list[Row]:
    presenter = PRESENTERS.get(type(model))
    return presenter(model) if presenter is not None else generic_rows(model)


def generic_rows(model: BaseModel) -> list[Row]:
    """Each declared field by its title (or its name, in words), values as text."""
    rows = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None or value == [] or value == {}:
            continue
        label = field.title or name.replace("_", " ").capitalize()
        if isinstance(value, datetime):
            iso = value.replace(tzinfo=None).isoformat() + "Z"
            rows.append(Row(label, iso, iso=iso))
        else:
            rows.append(Row(label, _short(value)))
    return rows


def render_rows(rows: list[Row]) -> None:
    """Labels in the inspector's two-column grid; file-given text is never HTML."""
    with ui.element("div").classes("trove-fields trove-typed"):
        for row in rows:
            ui.label(row.label).classes("trove-field-label")
            if row.iso:
                with ui.element("span").classes("trove-field-value"):
                    LocalTime(row.iso, wall_clock=row.wall_clock, fallback=row.text)
                    if row.note:
                        ui.label(" " + row.note).style("display: inline")
            else:
                ui.label(f"{row.text} {row.note}" if row.note else row.text).classes(
                    "trove-field-value"
                )


def _camera(exif: ExifMeta) -> str | None:
    """ "Canon EOS R5", not "Canon Canon EOS R5" (many models repeat the make)."""
    make, model = exif.make or "", exif.model or ""
    if make and model.lower().startswith(make.split()[0].lower()):
        return model
    return " ".join(p for p in (make, model) if p) or None


def _camera_clock(value: str | None) -> str | None:
    """EXIF's "2021:07:04 15:30:45" as ISO (zone-less: the camera's clock)."""
    if not value or len(value) < 19:
        return None
    date, _, time = value[:19].partition(" ")
    try:
        moment = datetime.fromisoformat(f"{date.replace(':', '-')}T{time}")
    except ValueError:
        return None
    return moment.isoformat() + "Z"


def _short(value: Any) -> str:
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"
