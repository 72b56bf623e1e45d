"""Typed views of Trove's own metadata namespaces (the metadata registry's built-in schemas).

Read-side models are lenient: ExifTool stores numbers (`-n`), but an old index or an odd file
may hold "1/250" or "f/1.8"; such values are converted, and what cannot be is left None
rather than failing the whole namespace. Unknown keys are kept (`extra="allow"`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower().removeprefix("f/").removesuffix("s").strip()
    try:
        if "/" in text:
            top, _, bottom = text.partition("/")
            return float(top) / float(bottom)
        return float(text.split()[0])
    except (ValueError, IndexError, ZeroDivisionError):
        return None


Number = Annotated[float | None, BeforeValidator(_number)]


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip() or None


Text = Annotated[str | None, BeforeValidator(_text)]


class ExifMeta(BaseModel):
    """`metadata.exif`: camera data (EXIF tags by ExifTool name)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    make: Text = Field(default=None, alias="Make")
    model: Text = Field(default=None, alias="Model")
    lens: Text = Field(default=None, alias="LensModel")
    lens_id: Text = Field(default=None, alias="LensID")
    exposure_time: Number = Field(default=None, alias="ExposureTime", description="Seconds.")
    f_number: Number = Field(default=None, alias="FNumber")
    iso: Number = Field(default=None, alias="ISO")
    focal_length: Number = Field(default=None, alias="FocalLength", description="Millimetres.")
    focal_length_35mm: Number = Field(default=None, alias="FocalLengthIn35mmFormat")
    taken: Text = Field(default=None, alias="DateTimeOriginal", description="Camera's clock.")


class GeoMeta(BaseModel):
    """`metadata.geo`: where it was taken, in decimal degrees (north and east positive)."""

    model_config = ConfigDict(extra="allow")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    alt: float | None = Field(default=None, description="Metres above sea level.")
    place: str | None = Field(default=None, description="A place name, when known.")


class LogEntryMeta(BaseModel):
    """`metadata.log_entry`: a note written at a moment, about the assets it is linked to."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    at: datetime = Field(description="When it happened (UTC).")


class GalleryMeta(BaseModel):
    """`metadata.gallery` (the seed's example module namespace): what a person rates."""

    model_config = ConfigDict(extra="forbid")

    rating: int | None = Field(default=None, ge=0, le=5, description="0 to 5 stars.")
    favorite: bool | None = None
    label: Annotated[str, StringConstraints(max_length=100)] | None = None
