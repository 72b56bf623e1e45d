"""Album operations at size: an album of N assets made at once, a drag (one item to the
front), two pages of the album in order, the album tree, taking 100 out.

    .venv/bin/python bench/albums.py [--size 10000] [--database-url postgresql+psycopg://...]

Assets are rows written straight into a fresh index (no files: albums never read them); every
timed step goes through AlbumService as the API and the UI do.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from trove.config import Settings
from trove.db.models import Asset
from trove.domain.access import Viewer
from trove.domain.ids import new_id
from trove.repositories._sql import utcnow
from trove.services.container import Services

SYSTEM = Viewer.system()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: a fresh SQLite file; a PostgreSQL database of its own (rows stay there)",
    )
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="trove-bench-albums-"))
    url = args.database_url or f"sqlite:///{data / 'trove.db'}"
    services = Services.create(Settings(data_dir=data, database_url=url))
    ids = _assets(services, args.size)
    timings = {}

    started = time.perf_counter()
    album = services.albums.create("big", asset_ids=ids, viewer=SYSTEM)
    timings[f"create with {args.size:,} assets"] = time.perf_counter() - started
    timings["move one to the front"] = _timed(
        lambda: services.albums.add(album["id"], [ids[-1]], position=0, viewer=SYSTEM)
    )
    timings["two pages of 100 in order"] = _timed(lambda: _two_pages(services, album["id"]))
    timings["album tree"] = _timed(lambda: services.albums.tree(viewer=SYSTEM))
    timings["remove 100"] = _timed(
        lambda: services.albums.remove(album["id"], ids[:100], viewer=SYSTEM)
    )
    print(f"{services.database.engine.dialect.name}, {args.size:,} assets")
    for step, seconds in timings.items():
        print(f"  {step:<32} {seconds * 1000:8.1f} ms")
    services.database.dispose()


def _assets(services: Services, count: int) -> list[str]:
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "filename": f"IMG_{i:06}.jpg",
            "storage_urn": f"bench://{i}",
            "status": "ready",
            "asset_type": "image",
            "category": "physical",
            "metadata": {},
            "thumbnails": {},
            "created_at": now,
            "updated_at": now,
            "timeline_at": now,
        }
        for i in range(count)
    ]
    with services.database.session() as session:
        session.execute(Asset.__table__.insert(), rows)
    return [row["id"] for row in rows]


def _two_pages(services: Services, album_id: str) -> None:
    _items, cursor = services.albums.members(album_id, limit=100, viewer=SYSTEM)
    services.albums.members(album_id, limit=100, cursor=cursor, viewer=SYSTEM)


def _timed(step) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
