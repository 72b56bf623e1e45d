"""What the map asks for and gets back (no I/O): a viewport, and markers that stand for the
assets in one cell of a grid fitted to the zoom level, so a million geotagged photos cost the
browser a few hundred markers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Cells across one 256-pixel map tile: a cell is about 40 pixels wide on screen.
CELLS_PER_TILE = 6
# At most this many markers per answer (the most populated cells first).
MAX_MARKERS = 2000


class Viewport(BaseModel):
    """South-west and north-east corners in degrees; `west > east` crosses the antimeridian
    (the browser wraps longitudes into -180..180, or sends -180 and 180 for the whole world)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    south: float = Field(default=-90, ge=-90, le=90, description="Southern edge, degrees.")
    west: float = Field(default=-180, ge=-180, le=180, description="Western edge, degrees.")
    north: float = Field(default=90, ge=-90, le=90, description="Northern edge, degrees.")
    east: float = Field(default=180, ge=-180, le=180, description="Eastern edge, degrees.")
    zoom: int = Field(default=2, ge=0, le=22, description="The map's zoom level (cell size).")

    @model_validator(mode="after")
    def _south_of_north(self) -> Self:
        if self.south > self.north:
            raise ValueError("south must not be north of north")
        return self

    @property
    def cell_degrees(self) -> float:
        return 360.0 / (2**self.zoom) / CELLS_PER_TILE

    @property
    def whole_world(self) -> bool:
        return self.east - self.west >= 360


@dataclass(frozen=True, kw_only=True)
class MapCell:
    lat: float
    lon: float
    count: int
    # The one asset when count is 1; else one of them, whose preview the popup shows.
    asset_id: str
