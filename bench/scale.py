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
  * what the gallery asks on load: its first 100 tiles with copies stacked, the timeline
    rail's months over the same listing (beside counting them, as before the month
    counters), the tag counts;
  * the process's peak RSS (target < 600 MB).

Beside the wall times, the CPU time of each read: this process's, plus on PostgreSQL its
server backends' (from /proc: the server runs on this machine). On a shared machine the wall
time is mostly waiting for a core; the CPU time is the comparable figure.

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
    report["load_average"] = [round(load, 1) for load in os.getloadavg()]
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
    if built.exists():  # a kept database: moved to the current schema first (timed)
        started = time.perf_counter()
        ensure_schema(url)
        print(f"{database}: migrated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
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
    leases), 1 % failed (a few distinct reasons); 5 % images with their preview steps, the rest
    small files; tags on 5 % of them. Written with COPY on PostgreSQL and the bare driver's
    executemany on SQLite (about 4.5M rows at 1M assets), through the schema's triggers so that
    the maintained counters are what the pipeline would have left."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from trove.db.models import OWNER_ID, Base
    from trove.domain.ids import new_id
    from trove.repositories.counters import CounterRepository

    tables = Base.metadata.tables
    rng = random.Random(7)
    now = datetime.now().replace(microsecond=0)
    start = datetime(2012, 1, 1)
    engine = create_engine(url)
    postgresql = engine.dialect.name == "postgresql"
    stamp = (lambda moment: moment) if postgresql else _sqlite_datetime
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
    created, step_time = stamp(now), stamp(now - timedelta(days=1))
    empty = "{}"
    pooled = engine.raw_connection()
    raw = pooled.driver_connection
    try:
        if not postgresql:
            raw.execute("PRAGMA synchronous=OFF")
        for offset in range(0, count, CHUNK):
            assets, steps, leases, tags = [], [], [], []
            for i in range(offset, min(count, offset + CHUNK)):
                asset_id = new_id()
                image = i % 20 == 0
                roll = rng.random()
                status = "processing" if roll < 0.02 else "error" if roll < 0.03 else "ready"
                name = f"IMG_{i:07}.jpg" if image else f"note_{i:07}.txt"
                assets.append(
                    (
                        asset_id,
                        OWNER_ID,
                        root_id,
                        f"d{i // 5000:03}/s{i // 100 % 50:02}/{name}",
                        False,
                        name,
                        f"bench://{i}",
                        status,
                        "image" if image else "document",
                        "physical",
                        "image/jpeg" if image else "text/plain",
                        1000 + i % 5000,
                        f"{i:064x}",
                        empty,
                        empty,
                        "private",
                        False,
                        1,
                        created,
                        created,
                        stamp(start + timedelta(minutes=7 * i)),
                        "mtime",
                    )
                )
                for step, version in (STEPS | IMAGE_STEPS if image else STEPS).items():
                    if status == "processing" and step != "mime":
                        continue
                    failed = status == "error" and step == "hash"
                    message = FAILURES[i % len(FAILURES)] if failed else None
                    steps.append(
                        (
                            asset_id,
                            step,
                            "failed" if failed else "ok",
                            version,
                            message,
                            1.5,
                            step_time,
                        )
                    )
                if status == "processing":
                    leases.append((asset_id, "queued", 0, created))
                if i % 20 == 7:
                    tags.append((asset_id, f"tag{i % 50:02}"))
            for table, columns, rows in (
                ("assets", ASSET_COLUMNS, assets),
                (
                    "asset_steps",
                    "asset_id, step, status, version, message, duration_ms, updated_at",
                    steps,
                ),
                ("pipeline_leases", "asset_id, state, attempts, kicked_at", leases),
                ("asset_tags", "asset_id, tag", tags),
            ):
                _write(raw, postgresql, table, columns, rows)
            raw.commit()
    finally:
        pooled.close()
    if postgresql:  # what the first status would do: fold the deltas the triggers appended
        with Session(engine) as session:
            CounterRepository(session).fold()
            session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if postgresql else "ANALYZE"))
    engine.dispose()


ASSET_COLUMNS = (
    "id, owner_id, root_id, rel_path, path_escaped, filename, storage_urn, status, asset_type, "
    "category, mime_type, size, hash, metadata, thumbnails, visibility, is_virtual, version, "
    "created_at, updated_at, timeline_at, timeline_source"
)
FAILURES = (
    "hash: file vanished while being read",
    "hash: permission denied",
    "hash: input/output error",
)


def _sqlite_datetime(moment: datetime) -> str:
    """As SQLAlchemy stores a DateTime in SQLite (the listing's cursor compares these)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _write(
    raw: Any, postgresql: bool, table: str, columns: str, rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    if postgresql:
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * (columns.count(",") + 1))
    raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


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
        "gallery first 100": [],
        "gallery months": [],
        "months (counted)": [],
        "gallery tags": [],
    }

    cpu: dict[str, list[float]] = {name: [] for name in samples}
    server = ServerCpu(url)

    def timed(name: str, call: Any) -> Any:
        backends = server.backends()
        started_server = server.seconds(backends)
        started, started_cpu = time.perf_counter(), time.process_time()
        result = call()
        samples[name].append((time.perf_counter() - started) * 1000)
        spent = time.process_time() - started_cpu + server.seconds(backends) - started_server
        cpu[name].append(spent * 1000)
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

    def months_counted() -> None:
        """What the gallery's months cost before the month counters: counting the listing."""
        from sqlalchemy import func, select

        from trove.repositories.assets import AssetRepository, _viewed

        query = AssetFilters(**gallery).to_query(root_id=None)
        with services.database.session() as session:
            repo = AssetRepository(session)
            key = repo._month_key()
            where = [*repo._filters(query, viewer=admin), *_viewed(query, admin)]
            session.execute(select(key, func.count()).where(*where).group_by(key)).all()

    def page(cursor: str | None) -> Any:
        filters = AssetFilters(type=list(FILE_TYPES), limit=PAGE, cursor=cursor)
        return services.assets.list(filters, viewer=admin)

    # What the gallery asks on load (ui/pages/gallery.py, grid.js): its first 100 tiles with
    # copies stacked, then the scrubber's months over the same listing and the tag counts.
    gallery = {"type": list(FILE_TYPES), "stack": True, "sort": "-timeline_at"}

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
            timed(
                "gallery first 100",
                lambda: services.assets.list(AssetFilters(**gallery, limit=100), viewer=admin),
            )
            timed(
                "gallery months",
                lambda: services.assets.timeline(AssetFilters(**gallery), admin),
            )
            timed("months (counted)", months_counted)
            timed("gallery tags", lambda: services.assets.tag_counts(viewer=admin))
    finally:
        server.close()
        services.database.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)
    base = _p95(samples["count(*) baseline"])
    base_cpu = _p95(cpu["count(*) baseline"])
    return {
        "rows": {
            name: {
                "p50_ms": round(statistics.median(ms), 1),
                "p95_ms": round(_p95(ms), 1),
                "p95_vs_count": round(_p95(ms) / base, 3),
                # CPU of this process and, on PostgreSQL, of its server backends: on a
                # shared machine the wall time is mostly waiting for a core.
                "cpu_p50_ms": round(statistics.median(cpu[name]), 1),
                "cpu_p95_ms": round(_p95(cpu[name]), 1),
                "cpu_p95_vs_count": round(_p95(cpu[name]) / base_cpu, 3),
            }
            for name, ms in samples.items()
        },
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


class ServerCpu:
    """CPU time of this database's PostgreSQL backends (/proc/<pid>/schedstat, in ns: the
    server runs on this machine); nothing on SQLite, whose work is this process's own."""

    def __init__(self, url: str) -> None:
        self.monitor = None
        if url.startswith("postgresql"):
            import psycopg

            self.monitor = psycopg.connect(url.replace("+psycopg", ""), autocommit=True)

    def backends(self) -> list[int]:
        if self.monitor is None:
            return []
        rows = self.monitor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
        return [int(pid) for (pid,) in rows]

    @staticmethod
    def seconds(pids: list[int]) -> float:
        total = 0
        for pid in pids:
            try:
                total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        return total / 1e9

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.close()


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{report['assets']:,} assets, {report['rounds']} rounds (targets: p95 <= 50 ms)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(
        f"{'database':<11} {'read':<18} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>8}"
        f" {'CPU p95':>8} {'CPU p95 / count(*)':>19}"
    )
    for database, result in report["databases"].items():
        for name, row in result["rows"].items():
            print(
                f"{database:<11} {name:<18} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}"
                f" {row['cpu_p50_ms']:>8.1f} {row['cpu_p95_ms']:>8.1f}"
                f" {row['cpu_p95_vs_count']:>18.2f}x"
            )
        print(f"{database:<11} {'peak RSS':<18} {result['peak_rss_mb']:>8.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
