"""Stacked copies and favourites on the gallery listing at 100,000 assets, SQLite and PostgreSQL.

    .venv/bin/python bench/curation.py [--assets 100000] [--rounds 20]
        [--pg postgresql://postgres@127.0.0.1:5432/test]  (--pg "" to skip PostgreSQL)

Each measured beside its baseline in the same run, as AssetService.list serves the gallery
(first page of 200, newest first; wall time, p50/p95 over the rounds):
  * page:       the gallery's first page (baseline) vs. with `stack` (copies as one tile: a
                probe of the hash index per row read);
  * months:     the scrubber's month counts (GET /api/dam/timeline) without and with `stack`
                (this one reads every row);
  * favourites: `q=is:favorite` through the expression index, as the repository reads it
                ("SQL"), vs. the same filter written with a bound JSON path (what the index
                does not match: the timeline walked until a page is found); "is:favorite"
                alone is the whole service call (serialising the page included).
Assets are rows written straight into a fresh, migrated index: 5 % of them in pairs of copies
(same hash), 2 % favourites, a fifth rated.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "bench")]

from _common import git_revision, machine_info, write_results  # noqa: E402
from access import _p95, scratch_databases  # noqa: E402
from trove.config import Settings  # noqa: E402
from trove.db.models import OWNER_ID, Asset  # noqa: E402
from trove.domain.access import Viewer  # noqa: E402
from trove.domain.filters import FILE_TYPES, AssetFilters  # noqa: E402
from trove.domain.ids import new_id  # noqa: E402
from trove.repositories._sql import utcnow  # noqa: E402
from trove.services.container import Services  # noqa: E402

PAGE = 200
CHUNK = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "benchmark": "curation",
        "assets": args.assets,
        "rounds": args.rounds,
        "revision": git_revision(),
        "machine": machine_info(),
        "databases": {},
    }
    with scratch_databases("curation", pg_admin_url=args.pg) as (tmp, urls):
        for name, url in urls.items():
            report["databases"][name] = measure(url, tmp / name, args)
    print_table(report)
    print(f"results: {write_results('curation', report)}")


def measure(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    services = Services.create(Settings(data_dir=data_dir, database_url=url))
    started = time.perf_counter()
    _populate(services, args.assets)
    print(f"{url.split(':')[0]}: {args.assets:,} assets in {time.perf_counter() - started:.1f} s")
    viewer = Viewer(user_id=OWNER_ID, is_admin=True)
    files = list(FILE_TYPES)
    cases = {
        "page": AssetFilters(type=files, limit=PAGE),
        "page, stacked": AssetFilters(type=files, limit=PAGE, stack=True),
        "is:favorite": AssetFilters(type=files, limit=PAGE, q="is:favorite"),
    }
    samples: dict[str, list[float]] = {name: [] for name in (*cases, "months", "months, stacked")}
    samples["favorite, no index"] = []
    samples["is:favorite, SQL"] = []
    for _ in range(args.rounds):
        for name, filters in cases.items():
            samples[name].append(_timed(lambda f=filters: services.assets.list(f, viewer=viewer)))
        for name, stack in (("months", False), ("months, stacked", True)):
            filters = AssetFilters(type=files, stack=stack)
            samples[name].append(_timed(lambda f=filters: services.assets.timeline(f, viewer)))
        samples["favorite, no index"].append(_timed(lambda: _unindexed_favourites(services)))
        samples["is:favorite, SQL"].append(_timed(lambda: _indexed_favourites(services, viewer)))
    services.database.dispose()
    return {
        name: {"p50_ms": round(statistics.median(ms), 2), "p95_ms": round(_p95(ms), 2)}
        for name, ms in samples.items()
    }


def _timed(run: Any) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def _indexed_favourites(services: Services, viewer: Viewer) -> None:
    """`is:favorite`'s first page as the repository reads it (no JSON out): the same work as
    the baseline below, through the expression index."""
    from trove.repositories.assets import AssetRepository

    query = AssetFilters(type=list(FILE_TYPES), limit=PAGE, q="is:favorite").to_query()
    with services.database.session() as session:
        AssetRepository(session).list(query, viewer=viewer)


def _unindexed_favourites(services: Services) -> None:
    """The first page of favourites with the JSON path as a bound parameter (SQLAlchemy's
    JSON indexing): the same rows, no index (the baseline `is:favorite` is measured against)."""
    from sqlalchemy import select

    with services.database.session() as session:
        marked = Asset.meta["gallery"]["favorite"].as_boolean()
        stmt = (
            select(Asset)
            .where(Asset.deleted_at.is_(None), marked.is_(True))
            .order_by(Asset.timeline_at.desc(), Asset.id.desc())
            .limit(PAGE)
        )
        list(session.scalars(stmt))


def _populate(services: Services, count: int) -> None:
    now = utcnow()
    start = datetime(2015, 1, 1)
    with services.database.session() as session:
        root_id = new_id()
        session.execute(
            Asset.metadata.tables["roots"].insert(),
            [
                {
                    "id": root_id,
                    "path": "/bench/library",
                    "name": "library",
                    "status": "online",
                    "is_upload_target": False,
                    "created_at": now,
                    "owner_id": OWNER_ID,
                }
            ],
        )
    for offset in range(0, count, CHUNK):
        rows = []
        for i in range(offset, min(count, offset + CHUNK)):
            gallery: dict[str, Any] = {}
            if i % 50 == 7:
                gallery["favorite"] = True
            if i % 5 == 3:
                gallery["rating"] = i % 6
            copy = i % 40 == 1  # i and i - 1 hold the same bytes: 5 % in pairs
            rows.append(
                {
                    "id": new_id(),
                    "root_id": root_id,
                    "rel_path": f"{i // 1000:03}/IMG_{i:06}.jpg",
                    "filename": f"IMG_{i:06}.jpg",
                    "storage_urn": f"bench://{i}",
                    "status": "ready",
                    "asset_type": "image",
                    "category": "physical",
                    "mime_type": "image/jpeg",
                    "size": 1000 + (i - 1 if copy else i),
                    "hash": f"{(i - 1 if copy else i):064x}",
                    "metadata": {"gallery": gallery} if gallery else {},
                    "thumbnails": {},
                    "created_at": now,
                    "updated_at": now,
                    "timeline_at": start + timedelta(minutes=53 * i),
                    "owner_id": OWNER_ID,
                }
            )
        with services.database.session() as session:
            session.execute(Asset.__table__.insert(), rows)
    with services.database.session() as session:
        from sqlalchemy import text

        session.execute(text("ANALYZE"))


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{report['assets']:,} assets, pages of {PAGE}, {report['rounds']} rounds")
    print(f"{'database':<11} {'case':<20} {'p50 ms':>9} {'p95 ms':>9}  vs. baseline (p50)")
    baselines = {
        "page, stacked": "page",
        "months, stacked": "months",
        "is:favorite, SQL": "favorite, no index",
    }
    for database, rows in report["databases"].items():
        for case, row in rows.items():
            base = baselines.get(case)
            ratio = f"{row['p50_ms'] / rows[base]['p50_ms']:.2f}x {base}" if base else ""
            print(f"{database:<11} {case:<20} {row['p50_ms']:>9.1f} {row['p95_ms']:>9.1f}  {ratio}")


if __name__ == "__main__":
    main()
