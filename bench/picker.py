"""The asset picker's reads at size: its first page opened on an album (the listing with
`album=`), beside the album page's own ordered read and the plain listing; a pick of 20
(PickerService.picked: details plus the share-link lookup) beside 20 plain detail reads.

    .venv/bin/python bench/picker.py [--size 100000] [--members 60] [--database-url ...]

Assets are rows written straight into a fresh index (no files), spread over ten years; the
album's members are spread evenly over that timeline, so the newest-first listing cannot find
them in its first rows. Each step runs `--repeat` times; the table shows the median and p95,
and the JSON goes to bench/results/.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "bench")]

from _common import git_revision, machine_info, write_results  # noqa: E402
from trove.config import Settings  # noqa: E402
from trove.db.models import Asset  # noqa: E402
from trove.domain.access import Viewer  # noqa: E402
from trove.domain.filters import AssetFilters  # noqa: E402
from trove.domain.ids import new_id  # noqa: E402
from trove.repositories._sql import utcnow  # noqa: E402
from trove.services.container import Services  # noqa: E402

SYSTEM = Viewer.system()
PAGE = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="trove-bench-picker-"))
    url = args.database_url or f"sqlite:///{data / 'trove.db'}"
    services = Services.create(Settings(data_dir=data, database_url=url))
    ids = _assets(services, args.size)
    members = ids[:: max(1, len(ids) // args.members)][: args.members]
    album = services.albums.create("picked", asset_ids=members, viewer=SYSTEM)["id"]
    picks = members[:20]
    in_album = AssetFilters(album=album, type=["image"], limit=PAGE)
    everything = AssetFilters(type=["image"], limit=PAGE)
    steps: dict[str, Callable[[], Any]] = {
        "picker on an album (list album=)": lambda: services.assets.list(in_album, viewer=SYSTEM),
        "  baseline: album page (members)": lambda: services.albums.members(
            album, limit=PAGE, viewer=SYSTEM
        ),
        "picker, whole listing (list)": lambda: services.assets.list(everything, viewer=SYSTEM),
        "pick 20 (PickerService.picked)": lambda: services.picker.picked(picks, viewer=SYSTEM),
        "  baseline: 20 x assets.get": lambda: [
            services.assets.get(i, viewer=SYSTEM) for i in picks
        ],
    }
    results = {name: _spread(_times(step, args.repeat)) for name, step in steps.items()}
    report = {
        "benchmark": "picker",
        "database": services.database.engine.dialect.name,
        "assets": args.size,
        "album_members": len(members),
        "page": PAGE,
        "revision": git_revision(),
        "machine": machine_info(),
        "results_ms": results,
    }
    _print(report)
    print("json:", write_results("picker", report))
    services.database.dispose()


def _assets(services: Services, count: int) -> list[str]:
    """`count` image rows, newest first in the returned order, one every ~53 minutes."""
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
            "timeline_at": now - timedelta(minutes=53 * i),
        }
        for i in range(count)
    ]
    with services.database.session() as session:
        for start in range(0, count, 10_000):
            session.execute(Asset.__table__.insert(), rows[start : start + 10_000])
    return [row["id"] for row in rows]


def _times(step: Callable[[], Any], repeat: int) -> list[float]:
    step()  # warm: the first read also fills SQLite's page cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        step()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _spread(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(samples), 2),
        "p95": round(p95, 2),
        "runs": [round(x, 2) for x in samples],
    }


def _print(report: dict[str, Any]) -> None:
    print(
        f"{report['database']}, {report['assets']:,} assets, album of "
        f"{report['album_members']}, pages of {report['page']}"
    )
    print(f"  {'step':<36} {'median ms':>10} {'p95 ms':>10}")
    for name, stats in report["results_ms"].items():
        print(f"  {name:<36} {stats['median']:>10.1f} {stats['p95']:>10.1f}")


if __name__ == "__main__":
    main()
