"""Authorization overhead on the asset listing: p95 at 100,000 assets, on SQLite and PostgreSQL.

    .venv/bin/python bench/access.py [--assets 100000] [--rounds 30] [--pages 5]
        [--pg postgresql://postgres@127.0.0.1:5432/test]  (--pg "" to skip PostgreSQL)

The same gallery query (every file type, newest first, 200 a page, the first page then the
following ones by cursor) goes through AssetService.list as the API calls it ("listing": wall
time), and through AssetRepository.list alone ("query": the SQL, where the predicate's cost
is, timed so that a shared machine's load counts less: CPU time on SQLite, the server's
execution time on PostgreSQL), for:
  * baseline: Trove's own viewer (`Viewer.system()`), whose predicate is empty: the query
    without authorization, measured in the same run;
  * admin: a signed-in admin (also an empty predicate);
  * member by library: a member the library is assigned to (root_members);
  * member by grants: a member every asset is granted to one by one (asset_grants);
  * member by album: a member one album holding every asset is granted to;
  * member, little: a member who sees 1 % of the library (the predicate filters most rows).
Target: each member's p95 at most +10 % over the baseline's.

Assets are rows written straight into a fresh, migrated index (no files: listing never reads
them), spread over ten years of timeline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "bench")]

from _common import git_revision, machine_info, write_results  # noqa: E402
from trove.config import Settings  # noqa: E402
from trove.db.models import OWNER_ID, Asset, AssetGrant, Link, RootMember, User  # noqa: E402
from trove.domain.access import Viewer  # noqa: E402
from trove.domain.filters import FILE_TYPES, AssetFilters  # noqa: E402
from trove.domain.ids import new_id  # noqa: E402
from trove.repositories._sql import utcnow  # noqa: E402
from trove.repositories.assets import AssetRepository  # noqa: E402
from trove.services.container import Services  # noqa: E402

PAGE = 200
CHUNK = 10_000
USERS = {
    "library": "00000000-0000-7000-8000-00000000b001",
    "grants": "00000000-0000-7000-8000-00000000b002",
    "album": "00000000-0000-7000-8000-00000000b003",
    "little": "00000000-0000-7000-8000-00000000b004",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--pages", type=int, default=5, help="pages per round (first + cursor)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "benchmark": "access",
        "assets": args.assets,
        "rounds": args.rounds,
        "pages": args.pages,
        "revision": git_revision(),
        "machine": machine_info(),
        "databases": {},
    }
    with scratch_databases("access", pg_admin_url=args.pg) as (tmp, urls):
        for name, url in urls.items():
            report["databases"][name] = measure(url, tmp / name, args)
    print_table(report)
    print(f"results: {write_results('access', report)}")


def measure(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    services = Services.create(Settings(data_dir=data_dir, database_url=url))
    started = time.perf_counter()
    _populate(services, args.assets)
    written_s = time.perf_counter() - started
    print(f"{url.split(':')[0]}: {args.assets:,} assets written in {written_s:.1f} s")
    viewers = {
        "baseline (no predicate)": Viewer.system(),
        "admin": Viewer(user_id=OWNER_ID, is_admin=True),
        "member by library": Viewer(user_id=USERS["library"]),
        "member by grants": Viewer(user_id=USERS["grants"]),
        "member by album": Viewer(user_id=USERS["album"]),
        "member, 1 % visible": Viewer(user_id=USERS["little"]),
    }
    names = list(viewers)
    listing: dict[str, list[float]] = {name: [] for name in viewers}
    query: dict[str, list[float]] = {name: [] for name in viewers}
    for turn in range(args.rounds):  # interleaved and rotated: drift hits every viewer alike
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            listing[name] += _pages(services, viewers[name], args.pages)
            query[name] += _query_pages(services, viewers[name], args.pages)
    services.database.dispose()
    return {"listing": _summary(listing), "query": _summary(query)}


def _summary(samples: dict[str, list[float]]) -> dict[str, Any]:
    base = _p95(samples["baseline (no predicate)"])
    return {
        name: {
            "n": len(ms),
            "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(_p95(ms), 2),
            "p95_vs_baseline": round(_p95(ms) / base, 3),
        }
        for name, ms in samples.items()
    }


def _query_pages(services: Services, viewer: Viewer, pages: int) -> list[float]:
    """The SQL alone (AssetRepository.list): what the predicate adds, without the JSON. On
    SQLite, the process's CPU time (the query runs in it; other processes' load on a shared
    machine does not count); on PostgreSQL, the server's own execution time (EXPLAIN ANALYZE)."""
    timings, cursor = [], None
    for _ in range(pages):
        query = AssetFilters(type=list(FILE_TYPES), limit=PAGE, cursor=cursor).to_query()
        with services.database.session() as session:
            repo = AssetRepository(session)
            if session.get_bind().dialect.name == "postgresql":
                timings.append(_server_ms(session, repo, query, viewer))
            started = time.process_time()
            rows, cursor = repo.list(query, viewer=viewer)
            if session.get_bind().dialect.name != "postgresql":
                timings.append((time.process_time() - started) * 1000)
        assert len(rows) == PAGE
    return timings


def _server_ms(session: Any, repo: AssetRepository, query: Any, viewer: Viewer) -> float:
    """PostgreSQL's execution time of the page's SELECT, as EXPLAIN ANALYZE reports it."""
    from sqlalchemy import event

    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not captured:
            captured.append((statement, params))

    bind = session.connection()
    event.listen(bind, "before_cursor_execute", capture)
    try:
        repo.list(query, viewer=viewer)
    finally:
        event.remove(bind, "before_cursor_execute", capture)
    statement, params = captured[0]
    raw = bind.connection.dbapi_connection.cursor()
    raw.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, params)
    return float(raw.fetchone()[0][0]["Execution Time"])


def _pages(services: Services, viewer: Viewer, pages: int) -> list[float]:
    timings, cursor = [], None
    for _ in range(pages):
        filters = AssetFilters(type=list(FILE_TYPES), limit=PAGE, cursor=cursor)
        started = time.perf_counter()
        page = services.assets.list(filters, viewer=viewer)
        timings.append((time.perf_counter() - started) * 1000)
        assert len(page.items) == PAGE, (viewer, len(page.items))
        cursor = page.next_cursor
    return timings


def _populate(services: Services, count: int) -> None:
    now = utcnow()
    start = datetime(2015, 1, 1)
    with services.database.session() as session:
        session.execute(Asset.__table__.update().values(owner_id=OWNER_ID))
        for name, user_id in USERS.items():
            session.add(User(id=user_id, name=f"bench-{name}", created_at=now))
        root_id = new_id()
        session.execute(
            _table("roots").insert(),
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
        session.add(RootMember(root_id=root_id, user_id=USERS["library"]))
    ids = [new_id() for _ in range(count)]
    album = new_id()
    for offset in range(0, count, CHUNK):
        chunk = ids[offset : offset + CHUNK]
        with services.database.session() as session:
            session.execute(
                Asset.__table__.insert(),
                [
                    {
                        "id": asset_id,
                        "root_id": root_id,
                        "rel_path": f"{(offset + i) // 1000:03}/IMG_{offset + i:06}.jpg",
                        "filename": f"IMG_{offset + i:06}.jpg",
                        "storage_urn": f"bench://{offset + i}",
                        "status": "ready",
                        "asset_type": "image",
                        "category": "physical",
                        "mime_type": "image/jpeg",
                        "metadata": {},
                        "thumbnails": {},
                        "created_at": now,
                        "updated_at": now,
                        "timeline_at": start + timedelta(minutes=53 * (offset + i)),
                        "owner_id": OWNER_ID,
                    }
                    for i, asset_id in enumerate(chunk)
                ],
            )
            session.execute(
                AssetGrant.__table__.insert(),
                [{"asset_id": a, "user_id": USERS["grants"], "created_at": now} for a in chunk]
                + [
                    {"asset_id": a, "user_id": USERS["little"], "created_at": now}
                    for a in chunk[::100]
                ],
            )
            if offset == 0:
                session.execute(
                    Asset.__table__.insert(),
                    [
                        {
                            "id": album,
                            "filename": "everything",
                            "storage_urn": f"virtual://collection/{album}",
                            "status": "ready",
                            "asset_type": "collection",
                            "category": "virtual",
                            "is_virtual": True,
                            "metadata": {},
                            "thumbnails": {},
                            "created_at": now,
                            "updated_at": now,
                            "timeline_at": now,
                            "owner_id": OWNER_ID,
                        }
                    ],
                )
                session.add(AssetGrant(asset_id=album, user_id=USERS["album"], created_at=now))
            session.execute(
                Link.__table__.insert(),
                [
                    {
                        "id": new_id(),
                        "source_id": album,
                        "source_type": "Asset",
                        "target_id": a,
                        "target_type": "Asset",
                        "relation": "includes",
                        "weight": 1.0,
                        "metadata": {},
                        "position": float(offset + i),
                        "created_at": now,
                    }
                    for i, a in enumerate(chunk)
                ],
            )
    with services.database.session() as session:
        session.execute(_text("ANALYZE"))  # plans from real statistics, on both databases


def _table(name: str) -> Any:
    from trove.db.models import Base

    return Base.metadata.tables[name]


def _text(sql: str) -> Any:
    from sqlalchemy import text

    return text(sql)


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@contextmanager
def scratch_databases(bench: str, *, pg_admin_url: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """A temporary folder and the databases to measure, by name: a SQLite file in it and,
    unless `pg_admin_url` is empty, a new PostgreSQL database, dropped afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"trove-bench-{bench}-") as tmp:
        urls = {"sqlite": f"sqlite:///{tmp}/trove.db"}
        pg_name = f"trove_bench_{bench}_{uuid.uuid4().hex[:8]}"
        if pg_admin_url:
            _create_pg(pg_admin_url, pg_name)
            urls["postgresql"] = _pg_url(pg_admin_url, pg_name)
        try:
            yield Path(tmp), urls
        finally:
            if pg_admin_url:
                _drop_pg(pg_admin_url, pg_name)


def _pg_url(admin_url: str, name: str) -> str:
    return "postgresql+psycopg://" + admin_url.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"


def _create_pg(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")


def _drop_pg(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{report['assets']:,} assets, pages of {PAGE} (target: members' p95 <= 1.10x)")
    print(
        f"{'database':<11} {'viewer':<24} {'listing p50/p95 ms':>19} {'x':>6}"
        f" {'query p50/p95 ms':>17} {'x':>6}"
    )
    for database, kinds in report["databases"].items():
        for viewer, row in kinds["listing"].items():
            sql = kinds["query"][viewer]
            print(
                f"{database:<11} {viewer:<24} {row['p50_ms']:>9.1f}/{row['p95_ms']:<9.1f}"
                f" {row['p95_vs_baseline']:>5.2f}x {sql['p50_ms']:>8.2f}/{sql['p95_ms']:<8.2f}"
                f" {sql['p95_vs_baseline']:>5.2f}x"
            )


if __name__ == "__main__":
    main()
