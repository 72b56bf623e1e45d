"""Scale benchmark: the read paths a browser polls, at a million assets, on both databases.

    .venv/bin/python bench/scale.py [--assets 1000000] [--databases sqlite,postgresql]
                                    [--rounds 20] [--keep]

The library is written straight into a fresh database (bulk inserts of assets and their step
outcomes, a few percent still processing with leases, some failed), as a finished scan of
small files would leave it: what is measured is what the server does on every refresh once a
library is that big, not how fast it got there (bench/scan.py and bench/pipeline.py measure
that). Then, in a fresh process (so its RSS is the server's, not the writer's):

  * `/api/dam/status` and `/api/dam/jobs` as the services answer them (the gallery and the
    libraries page poll them every 2 s), p50/p95, beside the baseline of one
    `SELECT count(*) FROM assets` (the cost of counting the library once) and the GROUP BYs
    they ran before the maintained counters (target p95 <= 50 ms);
  * the gallery's listing: first page, and a deep page reached by cursor (page 50), p50/p95
    (target <= 50 ms);
  * the process's peak RSS (target < 600 MB).

Built databases are kept under bench/.corpus/scale-<n>/ with --keep, and reused next time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "bench")]

from _common import git_revision, machine_info, write_results  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
CHUNK = 20_000
PAGE = 200
DEEP_PAGE = 50
STEPS = {"mime": 2, "hash": 1, "search_text": 1}
IMAGE_STEPS = {"thumbnails": 3, "exif": 1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the built databases")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # child process: a database URL
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, rounds=args.rounds)))
        return 0
    report: dict[str, Any] = {
        "benchmark": "scale",
        "assets": args.assets,
        "rounds": args.rounds,
        "revision": git_revision(),
        "machine": machine_info(),
        "databases": {},
    }
    for database in args.databases.split(","):
        url, built_s = prepare(database, assets=args.assets)
        child = subprocess.run(
            [sys.executable, __file__, "--measure", url, "--rounds", str(args.rounds)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        report["databases"][database] = {"build_s": built_s, **result}
        if not args.keep:
            _drop(database, args.assets)
    print_table(report)
    print(f"results: {write_results('scale', report)}")
    return 0


def _corpus_dir(assets: int) -> Path:
    return REPO / "bench" / ".corpus" / f"scale-{assets}"


def _pg_name(assets: int) -> str:
    return f"trove_bench_scale_{assets}"


def prepare(database: str, *, assets: int) -> tuple[str, float | None]:
    """The database's URL, built unless a previous run finished building it (then the build
    time is None). A build that was interrupted leaves no marker and is started again."""
    from trove.db.migrate import ensure_schema

    data_dir = _corpus_dir(assets) / database
    built = _corpus_dir(assets) / f"{database}.built"
    if database == "sqlite":
        url = f"sqlite:///{data_dir}/trove.db"
    else:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{_pg_name(assets)}"
    if built.exists():
        return url, None
    _drop(database, assets)
    if database == "sqlite":
        data_dir.mkdir(parents=True, exist_ok=True)
    else:
        _create_pg(_pg_name(assets))
    started = time.perf_counter()
    ensure_schema(url)
    _populate(url, assets)
    seconds = round(time.perf_counter() - started, 1)
    built.write_text(f"{seconds}\n")
    print(f"{database}: {assets:,} assets written in {seconds} s", file=sys.stderr)
    return url, seconds


def _create_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")


def _drop(database: str, assets: int) -> None:
    (_corpus_dir(assets) / f"{database}.built").unlink(missing_ok=True)
    if database == "sqlite":
        shutil.rmtree(_corpus_dir(assets) / "sqlite", ignore_errors=True)
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {_pg_name(assets)} WITH (FORCE)")


def _populate(url: str, count: int) -> None:
    """A finished scan of `count` files in one library: 97 % ready, 2 % processing (with
    leases), 1 % failed; 5 % images with their preview steps, the rest small files."""
    from sqlalchemy import create_engine, text

    from trove.db.models import Base
    from trove.domain.ids import new_id

    tables = Base.metadata.tables
    rng = random.Random(7)
    now = datetime.now().replace(microsecond=0)
    start = datetime(2012, 1, 1)
    engine = create_engine(url)
    root_id = new_id()
    with engine.begin() as conn:
        conn.execute(
            tables["roots"].insert(),
            [
                {
                    "id": root_id,
                    "path": "/bench/scale",
                    "name": "scale",
                    "status": "online",
                    "is_upload_target": False,
                    "created_at": now,
                }
            ],
        )
    for offset in range(0, count, CHUNK):
        assets, steps, leases = [], [], []
        for i in range(offset, min(count, offset + CHUNK)):
            asset_id = new_id()
            image = i % 20 == 0
            roll = rng.random()
            status = "processing" if roll < 0.02 else "error" if roll < 0.03 else "ready"
            name = f"IMG_{i:07}.jpg" if image else f"note_{i:07}.txt"
            assets.append(
                {
                    "id": asset_id,
                    "root_id": root_id,
                    "rel_path": f"d{i // 5000:03}/s{i // 100 % 50:02}/{name}",
                    "filename": name,
                    "storage_urn": f"bench://{i}",
                    "status": status,
                    "asset_type": "image" if image else "document",
                    "category": "physical",
                    "mime_type": "image/jpeg" if image else "text/plain",
                    "size": 1000 + i % 5000,
                    "hash": f"{i:064x}",
                    "metadata": {},
                    "thumbnails": {},
                    "created_at": now,
                    "updated_at": now,
                    "timeline_at": start + timedelta(minutes=7 * i),
                    "timeline_source": "mtime",
                }
            )
            for step, version in (STEPS | IMAGE_STEPS if image else STEPS).items():
                if status == "processing" and step != "mime":
                    continue
                steps.append(
                    {
                        "asset_id": asset_id,
                        "step": step,
                        "status": "failed" if status == "error" and step == "hash" else "ok",
                        "version": version,
                        "duration_ms": 1.5,
                        "updated_at": now - timedelta(days=1),
                    }
                )
            if status == "processing":
                leases.append(
                    {"asset_id": asset_id, "state": "queued", "attempts": 0, "kicked_at": now}
                )
        with engine.begin() as conn:
            conn.execute(tables["assets"].insert(), assets)
            conn.execute(tables["asset_steps"].insert(), steps)
            if leases:
                conn.execute(tables["pipeline_leases"].insert(), leases)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def measure(url: str, *, rounds: int) -> dict[str, Any]:
    """Runs in its own process: the services as `trove serve` builds them, over `url`."""
    from sqlalchemy import text

    from trove.config import Settings
    from trove.domain.access import Viewer
    from trove.domain.filters import FILE_TYPES, AssetFilters
    from trove.services.container import Services

    data_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"trove-bench-scale-{os.getpid()}"
    services = Services.create(Settings(data_dir=data_dir, database_url=url))
    admin = Viewer.system()
    samples: dict[str, list[float]] = {
        "count(*) baseline": [],
        "counting (before)": [],
        "status": [],
        "jobs": [],
        "first page": [],
        f"page {DEEP_PAGE}": [],
    }

    cpu: dict[str, list[float]] = {name: [] for name in samples}

    def timed(name: str, call: Any) -> Any:
        started, started_cpu = time.perf_counter(), time.process_time()
        result = call()
        samples[name].append((time.perf_counter() - started) * 1000)
        cpu[name].append((time.process_time() - started_cpu) * 1000)
        return result

    def count_all() -> int:
        with services.database.session() as session:
            return int(session.execute(text("SELECT count(*) FROM assets")).scalar_one())

    def count_as_before() -> None:
        """What status and jobs counted on every refresh before the maintained counters."""
        with services.database.session() as session:
            for sql in (
                "SELECT status, count(*) FROM assets WHERE deleted_at IS NULL GROUP BY status",
                "SELECT asset_type, count(*) FROM assets WHERE deleted_at IS NULL "
                "GROUP BY asset_type",
                "SELECT step, status, count(*) FROM asset_steps GROUP BY step, status",
            ):
                session.execute(text(sql)).all()

    def page(cursor: str | None) -> Any:
        filters = AssetFilters(type=list(FILE_TYPES), limit=PAGE, cursor=cursor)
        return services.assets.list(filters, viewer=admin)

    deep_cursor = None
    cursor = None
    for _ in range(DEEP_PAGE - 1):  # walk once to the deep page's cursor
        cursor = page(cursor).next_cursor
    deep_cursor = cursor
    try:
        for _ in range(rounds):
            timed("count(*) baseline", count_all)
            timed("counting (before)", count_as_before)
            timed("status", lambda: services.status(viewer=admin))
            timed("jobs", services.media.jobs)
            timed("first page", lambda: page(None))
            timed(f"page {DEEP_PAGE}", lambda: page(deep_cursor))
    finally:
        services.database.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
    base = _p95(samples["count(*) baseline"])
    return {
        "rows": {
            name: {
                "p50_ms": round(statistics.median(ms), 1),
                "p95_ms": round(_p95(ms), 1),
                "p95_vs_count": round(_p95(ms) / base, 3),
                # This process's CPU: all of the work on SQLite, the client's on PostgreSQL.
                "cpu_p50_ms": round(statistics.median(cpu[name]), 1),
            }
            for name, ms in samples.items()
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{report['assets']:,} assets, {report['rounds']} rounds (targets: p95 <= 50 ms)")
    print(
        f"{'database':<11} {'read':<18} {'p50 ms':>8} {'p95 ms':>8} {'p95 / count(*)':>15}"
        f" {'CPU p50 ms':>11}"
    )
    for database, result in report["databases"].items():
        for name, row in result["rows"].items():
            print(
                f"{database:<11} {name:<18} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}"
                f" {row['p95_vs_count']:>14.2f}x {row['cpu_p50_ms']:>11.1f}"
            )
        print(f"{database:<11} {'peak RSS':<18} {result['peak_rss_mb']:>8.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
