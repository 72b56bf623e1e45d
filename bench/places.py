"""Places and the timeline at size: the map's markers (world and city viewports) and the
gallery's month counts over N assets, against the gallery's first page in the same run; and
the places step (reverse geocoding) and the scan-time date-from-name parse per file, against a
stat() of the same count.

    .venv/bin/python bench/places.py [--size 100000] [--database-url postgresql+psycopg://...]

Assets are rows written straight into a fresh index (half of them geotagged, around a dozen
cities); every timed query goes through the services as the API does.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import git_revision, machine_info, write_results
from trove.config import Settings
from trove.db.models import OWNER_ID, Asset
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.domain.ids import new_id
from trove.domain.places import Viewport
from trove.domain.timeline import place
from trove.places.geocoder import GeoNamesIndex
from trove.repositories._sql import utcnow
from trove.services.container import Services

CITIES = [
    (35.01, 135.77),
    (48.86, 2.35),
    (40.71, -74.01),
    (-33.92, 18.42),
    (51.51, -0.13),
    (-22.91, -43.17),
    (64.15, -21.94),
    (52.37, 4.90),
    (41.90, 12.50),
    (37.77, -122.42),
    (-33.87, 151.21),
    (1.29, 103.85),
]
NAMES = ["IMG_20190814_153012.jpg", "IMG-20190814-WA0001.jpg", "DSC01234.JPG", "holiday.png"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="trove-bench-places-"))
    url = args.database_url or f"sqlite:///{data / 'trove.db'}"
    services = Services.create(Settings(data_dir=data, database_url=url))
    _assets(services, args.size)
    services.search.backfill()  # the documents the pipeline would have written
    viewer = Viewer.local_owner()
    world = Viewport(zoom=2)
    city = Viewport(south=34.9, west=135.6, north=35.1, east=135.9, zoom=12)
    files = AssetFilters(type=["image"], limit=200)

    def median_ms(step: Callable[[], object]) -> float:
        samples = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            step()
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    rows: dict[str, float] = {}
    baseline = median_ms(lambda: services.assets.list(files))
    rows["baseline: gallery first page (200)"] = baseline
    rows["map markers, world (zoom 2)"] = median_ms(lambda: services.places.markers(viewer, world))
    rows["map markers, one city (zoom 12)"] = median_ms(
        lambda: services.places.markers(viewer, city)
    )
    rows["timeline month counts (rail)"] = median_ms(
        lambda: services.assets.timeline(files, viewer)
    )
    dialect = services.database.engine.dialect.name
    services.database.dispose()

    per_file = _per_file_costs()
    print(f"{dialect}, {args.size:,} assets (half geotagged), median of {args.repeats}")
    for step, ms in rows.items():
        print(f"  {step:<40} {ms:9.1f} ms  {ms / baseline:6.2f}x")
    for step, us in per_file.items():
        print(f"  {step:<40} {us:9.1f} µs")
    path = write_results(
        "places",
        {
            "database": dialect,
            "size": args.size,
            "queries_ms": rows,
            "ratios_to_baseline": {k: v / baseline for k, v in rows.items()},
            "per_file_us": per_file,
            "machine": machine_info(),
            "revision": git_revision(),
        },
    )
    print(f"results: {path}")


def _per_file_costs() -> dict[str, float]:
    """The places step's lookup and the scan's name parse, each per file, beside a stat()."""
    index = GeoNamesIndex()
    started = time.perf_counter()
    index.nearest(0.0, 0.0)
    load_s = time.perf_counter() - started
    rng = random.Random(1)
    points = [(rng.uniform(-60, 70), rng.uniform(-180, 180)) for _ in range(5000)]
    started = time.perf_counter()
    for lat, lon in points:
        index.nearest(lat, lon)
    lookup = (time.perf_counter() - started) / len(points) * 1e6
    now = datetime.now()
    started = time.perf_counter()
    for i in range(20000):
        place(f"2019/trip/{NAMES[i % 4]}", mtime=now, seen_at=now)
    parse = (time.perf_counter() - started) / 20000 * 1e6
    started = time.perf_counter()
    for _ in range(20000):
        os.stat(__file__)
    stat = (time.perf_counter() - started) / 20000 * 1e6
    return {
        "GeoNames index load (once), in µs": load_s * 1e6,
        "reverse geocode one position": lookup,
        "date from name and folder (scan)": parse,
        "baseline: one os.stat()": stat,
    }


def _assets(services: Services, count: int) -> None:
    now = utcnow()
    rng = random.Random(0)
    rows = []
    for i in range(count):
        meta = {}
        if i % 2 == 0:
            lat, lon = CITIES[i % len(CITIES)]
            meta = {"geo": {"lat": lat + rng.gauss(0, 0.05), "lon": lon + rng.gauss(0, 0.05)}}
        rows.append(
            {
                "id": new_id(),
                "owner_id": OWNER_ID,
                "filename": f"IMG_{i:06}.jpg",
                "storage_urn": f"bench://{i}",
                "status": "ready",
                "asset_type": "image",
                "category": "physical",
                "metadata": meta,
                "thumbnails": {},
                "created_at": now,
                "updated_at": now,
                "timeline_at": now - timedelta(hours=rng.randrange(0, 24 * 365 * 15)),
                "timeline_source": "exif",
            }
        )
    with services.database.session() as session:
        for start in range(0, len(rows), 10_000):
            session.execute(Asset.__table__.insert(), rows[start : start + 10_000])


if __name__ == "__main__":
    main()
