"""Search benchmark: the full-text index against today's LIKE scan, on SQLite and PostgreSQL.

    .venv/bin/python bench/search.py [--assets 100000] [--databases sqlite,postgresql]
                                     [--repeat 5] [--rebuild]

The library (generated once per database and size, then reused; `--rebuild` makes it again):
10 year folders of 100 event folders each ("2019-08-14 Kyoto trip", "Beach day 12", ...)
holding IMG_YYYYMMDD_HHMMSS.jpg photos with EXIF make/model/lens, GPS near one of 20 cities and
its place name; every 20th file a PDF whose text (about 200 words) is found by `text:`; every
50th photo a scan with OCR text; 10% of files carry one of 50 tags and 5% of folders another
(inherited by their files); 200 albums of 100 photos each.

Measured:
  * index build: `SearchService.backfill` over the whole library (documents/s);
  * incremental update: rebuilding the documents of 2,000 random assets in batches of 100, as
    a pipeline pass does (ms per asset);
  * 20 representative queries (words, phrases, filters, negation, substrings), each a first
    page of 100 through AssetRepository.list plus its snippets, `--repeat` times after one
    untimed run: p50/p95 over all, and per query; and each again newest first (the
    gallery's order: a common word's page found down the timeline), its CPU per query;
  * the timeline rail's count per month over the whole library (AssetRepository.months, which
    ix_assets_months answers from the index; last measured 0.9 s at 100k without it);
  * the baseline, in the same run: today's LIKE scan of the name and title
    (`AssetQuery.text`) for the free words of the same queries, its p50/p95, and the ratio.
Targets: search p95 <= 50 ms on SQLite at 100k, <= 150 ms on PostgreSQL (the issue asks 1M).

Output: the table on stdout, the JSON report after it and in bench/results/search-<time>.json.
Exit status 0 when the targets are met, 3 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src"), str(REPO / "bench")]

from _common import git_revision, machine_info, write_results  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
CORPUS = REPO / "bench" / ".corpus"
TARGET_P95_MS = {"sqlite": 50.0, "postgresql": 150.0}
BATCH = 5000

QUERIES = [
    "beach",
    "kyoto",
    "canon",
    'camera:"Canon EOS"',
    "invoice",
    'text:"invoice 2023"',
    "tag:family",
    "family",
    "taken:2019-08",
    "near:35.01,135.77,5",
    "type:image beach -tag:private",
    "img_2019",
    "0814",
    "ext:pdf invoice",
    "album:summer",
    "has:gps type:image -canon",
    "lens:50mm",
    "place:paris",
    "-beach type:document",
    "sunset canon",
]
EVENTS = [
    "Beach day",
    "Kyoto trip",
    "Birthday",
    "Sunset walk",
    "Hiking",
    "Wedding",
    "Paris weekend",
    "Garden",
    "Concert",
    "Snow",
]
CAMERAS = [
    ("Canon", "Canon EOS 5D Mark IV", "EF 50mm f/1.8"),
    ("Canon", "Canon EOS R6", "RF 24-105mm F4"),
    ("Nikon", "Nikon D750", "AF-S 50mm f/1.4G"),
    ("Sony", "ILCE-7M3", "FE 35mm F1.8"),
    ("Apple", "iPhone 13", "iPhone 13 back camera 5.1mm f/1.6"),
    ("Google", "Pixel 7", ""),
    ("Fujifilm", "X-T4", "XF 23mm F2"),
    ("Olympus", "E-M10", "M.Zuiko 25mm"),
]
CITIES = [
    ("Paris", "France", 48.8566, 2.3522),
    ("Kyoto", "Japan", 35.0116, 135.7681),
    ("Lisbon", "Portugal", 38.7223, -9.1393),
    ("New York", "United States", 40.7128, -74.006),
    ("Cape Town", "South Africa", -33.9249, 18.4241),
    ("Sydney", "Australia", -33.8688, 151.2093),
    ("Reykjavik", "Iceland", 64.1466, -21.9426),
    ("Berlin", "Germany", 52.52, 13.405),
    ("Mexico City", "Mexico", 19.4326, -99.1332),
    ("Nairobi", "Kenya", -1.2921, 36.8219),
]
WORDS = (  # noqa: SIM905 (a page of words reads better as one string)
    "invoice total amount due payment account contract agreement party clause date "
    "delivery order receipt tax balance statement bank transfer reference customer "
    "supplier quantity price discount shipping address signature period term notice "
    "2021 2022 2023 2024 january march june september december euro dollar "
).split()
TAGS = [f"tag{i:02}" for i in range(48)] + ["family", "private"]


# --- the library ---------------------------------------------------------------------------


def build(url: str, *, assets: int, seed: int = 11) -> None:
    from trove.db.database import Database
    from trove.domain.enums import AssetCategory, AssetStatus, AssetType
    from trove.domain.ids import new_id
    from trove.repositories._sql import utcnow
    from trove.repositories.assets import AssetRepository
    from trove.repositories.links import LinkRepository, edge
    from trove.repositories.tag_flows import TagFlows

    rnd = random.Random(seed)
    database = Database(url)
    postgresql = url.startswith("postgresql")
    now = utcnow()
    per_event = max(1, assets // 1000)
    folders: list[str] = []
    files: list[str] = []
    pending: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    edges: list[tuple[str, str, str]] = []

    def flush(*, final: bool = False) -> None:
        """Rows out in batches as they are made (1M assets' dicts do not fit comfortably):
        on PostgreSQL by COPY, then the links' tag flows through the repository as
        LinkRepository.add_many does; on SQLite through the repositories."""
        if len(pending) < BATCH and len(links) < BATCH and not final:
            return
        # The assets first: the links refer to them.
        if postgresql:
            _copy(url, "assets", pending)
            _copy(url, "links", links)
            edges.extend((r["source_id"], r["target_id"], r["relation"]) for r in links)
        else:
            with database.session() as session:
                AssetRepository(session).insert_many(pending)
            with database.session() as session:
                LinkRepository(session).add_many(links)
        pending.clear()
        links.clear()
        print(".", end="", file=sys.stderr, flush=True)

    def row(name: str, rel: str, kind: str, when: datetime, meta: dict[str, Any]) -> dict:
        folder = kind == AssetType.COLLECTION
        return {
            "id": new_id(),
            "filename": name,
            "rel_path": rel,
            "asset_type": kind,
            "category": AssetCategory.COMPOSITE if folder else AssetCategory.PHYSICAL,
            "status": AssetStatus.READY,
            "storage_urn": f"fs://local/bench/{rel}",
            "mime_type": None
            if folder
            else ("application/pdf" if kind == "document" else "image/jpeg"),
            "hash": None if folder else f"{rnd.getrandbits(128):032x}",
            "meta": meta,
            "thumbnails": {},
            "timeline_at": when,
            "created_at": now,
            "updated_at": now,
        }

    for year in range(10):
        year_row = row(str(2015 + year), str(2015 + year), AssetType.COLLECTION, now, {})
        folders.append(year_row["id"])
        pending.append(year_row)
        for event in range(100):
            start = datetime(2015 + year, 1, 1) + timedelta(days=rnd.randrange(360))
            name = f"{start:%Y-%m-%d} {EVENTS[event % len(EVENTS)]} {event}"
            rel = f"{year_row['rel_path']}/{name}"
            event_row = row(name, rel, AssetType.COLLECTION, start, {})
            folders.append(event_row["id"])
            pending.append(event_row)
            links.append(edge(year_row["id"], event_row["id"], "contains"))
            city = CITIES[rnd.randrange(len(CITIES))]
            for i in range(per_event):
                when = start + timedelta(seconds=rnd.randrange(86400 * 3))
                n = len(files)
                if n % 20 == 19:
                    text = " ".join(rnd.choice(WORDS) for _ in range(200))
                    meta = {"text": {"content": text, "chars": len(text)}}
                    file = row(f"scan_{n:07}.pdf", f"{rel}/scan_{n:07}.pdf", "document", when, meta)
                else:
                    make, model, lens = CAMERAS[rnd.randrange(len(CAMERAS))]
                    lat = city[2] + rnd.uniform(-0.05, 0.05)
                    lon = city[3] + rnd.uniform(-0.05, 0.05)
                    meta = {
                        "exif": {"Make": make, "Model": model, "LensID": lens},
                        "geo": {"lat": round(lat, 6), "lon": round(lon, 6)},
                        "place": {"city": city[0], "country": city[1], "name": city[0]},
                    }
                    if n % 50 == 7:
                        ocr = " ".join(rnd.choice(WORDS) for _ in range(60))
                        meta["ocr"] = {"content": ocr}
                    name = f"IMG_{when:%Y%m%d_%H%M%S}_{i}.jpg"
                    file = row(name, f"{rel}/{name}", AssetType.IMAGE, when, meta)
                files.append(file["id"])
                pending.append(file)
                links.append(edge(event_row["id"], file["id"], "contains"))
                flush()
    albums = [
        row(f"Album {i} {rnd.choice(['summer', 'winter', 'best of', 'friends'])}", "", "", now, {})
        for i in range(200)
    ]
    for album in albums:
        album.update(
            asset_type=AssetType.COLLECTION,
            category=AssetCategory.VIRTUAL,
            is_virtual=True,
            rel_path=None,
            root_id=None,
            mime_type=None,
            hash=None,
        )
        pending.append(album)
        for file_id in rnd.sample(files, min(len(files), 100)):
            links.append(edge(album["id"], file_id, "includes"))
    flush(final=True)
    with database.session() as session:
        flows = TagFlows(session)
        for start in range(0, len(edges), BATCH * 10):
            flows.edges_added(edges[start : start + BATCH * 10])
    with database.session() as session:
        repo = AssetRepository(session)
        tagged_files = rnd.sample(files, len(files) // 10)
        for tag in TAGS:
            ids = [f for f in tagged_files if rnd.random() < 1 / len(TAGS)]
            repo.add_tags(ids, [tag])
        tagged_folders = rnd.sample(folders, len(folders) // 20)
        for folder_id in tagged_folders:
            repo.add_tags([folder_id], [rnd.choice(TAGS)])
        TagFlows(session).tags_added(tagged_folders, TAGS)
    database.dispose()


def _copy(url: str, name: str, rows: list[dict[str, Any]]) -> None:
    """COPY rows (ORM attribute names, as the repositories take them) into a PostgreSQL
    table, with the model's Python-side defaults filled in as an INSERT through it would."""
    import enum

    import psycopg
    from psycopg.types.json import Jsonb
    from sqlalchemy import JSON

    from trove.db.models import Base

    if not rows:
        return
    table = Base.metadata.tables[name]
    keys = {"metadata": "meta"}  # column -> the attribute the rows name it by
    given = {k for row in rows for k in row}
    columns = [
        c for c in table.columns if keys.get(c.name, c.name) in given or c.default is not None
    ]
    # Per column, once: the row key, the default for rows without it, how to adapt a value.
    plan = []
    for c in columns:
        default = c.default
        make = (
            (lambda: None)
            if default is None
            else (lambda d=default: d.arg(None))
            if default.is_callable
            else (lambda d=default: d.arg)
        )
        plan.append((keys.get(c.name, c.name), make, isinstance(c.type, JSON)))

    def adapted(value: Any, json: bool) -> Any:
        if json:
            return Jsonb(value)
        return value.value if isinstance(value, enum.Enum) else value

    names = ", ".join(f'"{c.name}"' for c in columns)
    with (
        psycopg.connect(_libpq(url)) as connection,
        connection.cursor() as cursor,
        cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [adapted(row[k] if k in row else make(), json) for k, make, json in plan]
            )


def _create_text_indexes(url: str) -> None:
    """The words and substrings GIN indexes, built once over rows copied in without them."""
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute("SET maintenance_work_mem = '512MB'")
        connection.execute(
            "CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)"
        )
        connection.execute(
            "CREATE INDEX ix_search_documents_substrings ON search_documents "
            "USING gin (substrings gin_trgm_ops)"
        )


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def prepare(database: str, *, assets: int, rebuild: bool) -> tuple[str, float | None]:
    """The database's URL, and the seconds its library took to build (None: reused)."""
    from trove.db.migrate import ensure_schema

    if database == "sqlite":
        path = CORPUS / f"search-{assets}" / "trove.db"
        if rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    else:
        name = f"trove_bench_search_{assets}"
        _pg_database(name, rebuild=rebuild)
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    ensure_schema(url)
    if _count_assets(url) == 0:
        print(f"building the {database} library of {assets} assets ...", file=sys.stderr)
        started = time.perf_counter()
        build(url, assets=assets)
        seconds = round(time.perf_counter() - started, 1)
        print(f" {seconds:.0f} s", file=sys.stderr)
        return url, seconds
    return url, None


def replicate(assets: int, *, copies_of: int) -> tuple[str, dict[str, Any]]:
    """PostgreSQL: the library of `assets` made on the server as copies of the one of
    `copies_of` (built first, documents and all): a copy of that database, then its assets,
    links, tags and search documents copied again under new ids and paths (`copyN/...`), and
    the text indexes built once over all the documents. Minutes instead of an hour on a
    shared machine, since nothing goes through this process row by row; each word's matches
    are `assets / copies_of` times the smaller library's."""
    import psycopg

    source, name = f"trove_bench_search_{copies_of}", f"trove_bench_search_{assets}"
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    copies = assets // copies_of
    started = time.perf_counter()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
    ids = {
        "assets": ("id",),
        "links": ("id", "source_id", "target_id"),
        "asset_tags": ("asset_id",),
        "inherited_tags": ("asset_id", "source_id"),
        "search_documents": ("asset_id",),
    }
    with psycopg.connect(_libpq(url)) as connection:
        connection.execute("DROP INDEX IF EXISTS ix_search_documents_tsv")
        connection.execute("DROP INDEX IF EXISTS ix_search_documents_substrings")
        for table, id_columns in ids.items():
            columns = [
                str(row[0])
                for row in connection.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "AND table_schema = 'public' ORDER BY ordinal_position",
                    (table,),
                )
                if row[0] != "doc_id"
            ]

            def value(column: str, table: str = table, id_columns: Any = id_columns) -> str:
                if column in id_columns:  # ids begin with 0 (UUIDv7 of this decade)
                    return f"g::text || substr(t.{column}, 2)"
                if table == "assets" and column in ("rel_path", "storage_urn"):
                    return f"'copy' || g || '/' || t.{column}"
                return f't."{column}"'

            names = ", ".join(f'"{c}"' for c in columns)
            values = ", ".join(value(c) for c in columns)
            connection.execute(
                f"INSERT INTO {table} ({names}) SELECT {values} "
                f"FROM {table} t, generate_series(1, {copies - 1}) g"
            )
            print(f" {table}", end="", file=sys.stderr, flush=True)
    library_s = time.perf_counter() - started
    started = time.perf_counter()
    _create_text_indexes(url)
    index_s = time.perf_counter() - started
    _analyze(url)
    documents = assets + 1210 * copies  # the files, and each copy's folders and albums
    print(f" {library_s:.0f} s, indexes {index_s:.0f} s", file=sys.stderr)
    return url, {
        "library_s": round(library_s, 1),
        "index_build": {
            "method": f"{copies} copies of the {copies_of:,} library's documents; "
            "CREATE INDEX over all",
            "documents": documents,
            "seconds": round(index_s, 2),
            "per_s": round(documents / index_s),
        },
    }


def _built(args: Any) -> bool:
    import psycopg

    name = f"trove_bench_search_{args.assets}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    return found is not None and _count_assets(url) > 0


def _count_assets(url: str) -> int:
    from sqlalchemy import func, select

    from trove.db.database import Database
    from trove.db.models import Asset

    database = Database(url)
    with database.session() as session:
        n = int(session.scalar(select(func.count()).select_from(Asset)) or 0)
    database.dispose()
    return n


def _pg_database(name: str, *, rebuild: bool) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and rebuild:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
            exists = None
        if not exists:
            admin.execute(f"CREATE DATABASE {name}")


def _analyze(url: str) -> None:
    from sqlalchemy import create_engine

    from trove.db.engine import normalise_url

    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if url.startswith("sqlite"):
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
        else:
            connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


# --- measurements ---------------------------------------------------------------------------


def build_index(url: str) -> dict[str, Any]:
    from sqlalchemy import delete

    from trove.config import Settings
    from trove.db.database import Database
    from trove.db.models import SearchDocumentRow
    from trove.services.search import SearchService

    database = Database(url)
    with database.session() as session:
        session.execute(delete(SearchDocumentRow))
    service = SearchService(Settings(database_url=url), database)
    started = time.perf_counter()
    documents = service.backfill(batch=2000)
    seconds = time.perf_counter() - started
    database.dispose()
    _analyze(url)
    return {
        "method": "SearchService.backfill",
        "documents": documents,
        "seconds": round(seconds, 2),
        "per_s": round(documents / seconds),
    }


def bulk_index(url: str) -> dict[str, Any]:
    """Every document at once, as a first index of a large library is best built on
    PostgreSQL: the GIN indexes dropped, the documents read through SearchRepository in pages
    of assets and written by COPY with their tsvector, then the indexes built in one pass."""
    from sqlalchemy import select

    from trove.db.database import Database
    from trove.db.models import Asset
    from trove.domain.enums import AssetType
    from trove.repositories.search import SearchRepository, tsvector_text

    assert url.startswith("postgresql"), "the bulk build is PostgreSQL's"
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute("DROP INDEX IF EXISTS ix_search_documents_tsv")
        connection.execute("DROP INDEX IF EXISTS ix_search_documents_substrings")
        connection.execute("TRUNCATE search_documents")
    database = Database(url)
    done, last = 0, ""
    while True:
        with database.session() as session:
            ids = list(
                session.scalars(
                    select(Asset.id)
                    .where(
                        Asset.id > last,
                        Asset.deleted_at.is_(None),
                        Asset.asset_type != AssetType.PROXY,
                    )
                    .order_by(Asset.id)
                    .limit(BATCH * 2)
                )
            )
            documents = SearchRepository(session).documents_for(ids)
        if not ids:
            break
        last = ids[-1]
        _copy(
            url,
            "search_documents",
            [{**d.row(), "tsv": tsvector_text(d)} for d in documents],
        )
        done += len(documents)
    database.dispose()
    written = time.perf_counter() - started
    _create_text_indexes(url)
    seconds = time.perf_counter() - started
    _analyze(url)
    return {
        "method": "bulk: COPY, then CREATE INDEX",
        "documents": done,
        "seconds": round(seconds, 2),
        "documents_seconds": round(written, 2),
        "indexes_seconds": round(seconds - written, 2),
        "per_s": round(done / seconds),
    }


def incremental(url: str, *, samples: int = 2000, batch: int = 100) -> dict[str, Any]:
    from sqlalchemy import select

    from trove.db.database import Database
    from trove.db.models import Asset
    from trove.services.search import reindex

    database = Database(url)
    with database.session() as session:
        ids = list(session.scalars(select(Asset.id)))
    chosen = random.Random(5).sample(ids, min(samples, len(ids)))
    started = time.perf_counter()
    for start in range(0, len(chosen), batch):
        with database.session() as session:
            reindex(session, chosen[start : start + batch])
    seconds = time.perf_counter() - started
    database.dispose()
    return {
        "assets": len(chosen),
        "batch": batch,
        "ms_per_asset": round(seconds * 1000 / len(chosen), 3),
    }


def _has_documents(url: str) -> bool:
    from sqlalchemy import select

    from trove.db.database import Database
    from trove.db.models import SearchDocumentRow

    database = Database(url)
    with database.session() as session:
        found = session.scalar(select(SearchDocumentRow.doc_id).limit(1)) is not None
    database.dispose()
    return found


def time_months(url: str, *, repeat: int) -> dict[str, Any]:
    """The gallery's scrubber: assets per month over everything, and for a common word."""
    from trove.db.database import Database
    from trove.domain.access import Viewer
    from trove.domain.filters import AssetFilters
    from trove.repositories.assets import AssetRepository

    database = Database(url)
    found: dict[str, Any] = {}
    for label, q in (("all", None), ("canon", "canon")):
        samples = []
        for _ in range(repeat + 1):
            with database.session() as session:
                started = time.perf_counter()
                months = AssetRepository(session).months(
                    AssetFilters(q=q).to_query(), Viewer.system()
                )
                samples.append((time.perf_counter() - started) * 1000)
        found[label] = {
            "p50_ms": round(statistics.median(samples[1:]), 2),
            "months": len(months.rows),
            "estimated": months.estimated,
        }
    database.dispose()
    return found


def run_queries(url: str, *, repeat: int) -> dict[str, Any]:
    from trove.db.database import Database
    from trove.domain.access import Viewer
    from trove.domain.filters import AssetFilters
    from trove.domain.queries import AssetQuery
    from trove.domain.search_query import parse
    from trove.repositories.assets import AssetRepository
    from trove.services.search import snippets

    database = Database(url)
    found: dict[str, dict[str, list[float]]] = {
        k: {} for k in ("search", "search_cpu", "newest", "newest_cpu", "like", "like_cpu")
    }
    _freeze_start_up()
    counts: dict[str, int] = {}

    def timed(q: str, *, sort: str | None = None, text: str | None = None) -> tuple[float, float]:
        with database.session() as session:
            if text is None:
                query = AssetFilters(q=q, limit=100, sort=sort).to_query()
            else:
                query = AssetQuery(text=text, limit=100)
            stat = _backend_stat(session)
            wall, cpu = time.perf_counter(), _cpu_ms(stat)
            items, _ = AssetRepository(session).list(query, viewer=Viewer.system())
            snippets(session, query.search, [a.id for a in items])
            wall, cpu = time.perf_counter() - wall, _cpu_ms(stat) - cpu
            if text is None and sort is None:
                counts[q] = len(items)
            return wall * 1000, cpu

    for q in QUERIES:
        words = " ".join(c.value for c in parse(q).clauses if c.key == "" and not c.negated)
        timed(q)
        runs = [timed(q) for _ in range(repeat)]
        found["search"][q] = [w for w, _ in runs]
        found["search_cpu"][q] = [c for _, c in runs]
        timed(q, sort="-timeline_at")  # one untimed run in this order too (as said above)
        runs = [timed(q, sort="-timeline_at") for _ in range(repeat)]
        found["newest"][q] = [w for w, _ in runs]
        found["newest_cpu"][q] = [c for _, c in runs]
        if words:
            timed(q, text=words)
            runs = [timed(q, text=words) for _ in range(repeat)]
            found["like"][q] = [w for w, _ in runs]
            found["like_cpu"][q] = [c for _, c in runs]
    database.dispose()
    return {**found, "counts": counts}


def _freeze_start_up() -> None:
    """What this process made so far kept out of the garbage collector's full passes, as
    the server does once started (trove.app._freeze_start_up): each full pass otherwise
    walked it all, 40-77 ms landing on one query's time, 2-3 times a run."""
    import gc

    gc.collect()
    gc.freeze()


def _backend_stat(session: Any) -> str | None:
    """The scheduler statistics of the session's PostgreSQL backend (a process of this
    machine), so that a query's CPU time counts the server's as well as this process's."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    return f"/proc/{pid}/schedstat"


def _cpu_ms(stat: str | None) -> float:
    """CPU milliseconds used so far by this process, and by the backend when there is one."""
    used = time.process_time() * 1000
    if stat is not None:
        with open(stat) as f:
            used += int(f.read().split()[0]) / 1e6
    return used


# --- blended: words and meaning ---------------------------------------------------------------

# Queries of the meaning alone (no document holds all their words), beside the 20's free words.
MEANING_QUERIES = ["seaside holiday", "dog on a beach", "mountains in winter"]


def add_vectors(url: str, *, seed: int = 3) -> dict[str, Any]:
    """A meaning vector for every file, as the `ai_semantic` step would store it (float16,
    unit length): MiniLM's embedding of its event and its city, plus noise, so that a query's
    nearest are the files of the events and places it means."""
    import numpy as np
    from sqlalchemy import select

    from trove.db.database import Database
    from trove.db.models import Asset, AssetVector
    from trove.domain.enums import AssetType
    from trove.pipeline.ai.semantic import embed
    from trove.repositories.vectors import VectorRepository

    database = Database(url)
    with database.session() as session:
        if session.scalar(select(AssetVector.asset_id).limit(1)) is not None:
            database.dispose()
            return {"vectors": None, "seconds": None}
        rows = list(
            session.execute(
                select(Asset.id, Asset.rel_path, Asset.meta["place"]["city"].as_string()).where(
                    Asset.asset_type != AssetType.COLLECTION
                )
            )
        )
    started = time.perf_counter()
    texts = [e.lower() for e in EVENTS] + [c[0] for c in CITIES] + ["a scanned document"]
    known = dict(zip(texts, embed(texts).astype(np.float32), strict=True))
    rnd = np.random.default_rng(seed)
    vectors: dict[str, bytes | None] = {}
    for asset_id, rel_path, city in rows:
        event = next((e.lower() for e in EVENTS if e in (rel_path or "")), "a scanned document")
        v = known[event] + 0.6 * known.get(city or "", known["a scanned document"])
        v = v + 0.3 * rnd.standard_normal(v.shape).astype(np.float32) / np.sqrt(v.shape[0])
        vectors[asset_id] = (v / np.linalg.norm(v)).astype(np.float16).tobytes()
    items = list(vectors.items())
    for start in range(0, len(items), BATCH):
        with database.session() as session:
            VectorRepository(session).sync(dict(items[start : start + BATCH]))
    seconds = time.perf_counter() - started
    database.dispose()
    return {"vectors": len(vectors), "seconds": round(seconds, 1)}


def run_blended(url: str, *, repeat: int) -> dict[str, Any]:
    """The queries with free words, and the meaning-only ones, through the blended search as
    the listing serves them with TROVE_AI_SEMANTIC on (SemanticSearch.page and the snippets):
    the words' best 200 and the vector index's nearest, filtered and fused."""
    from trove.config import Settings
    from trove.db.database import Database
    from trove.domain.access import Viewer
    from trove.domain.filters import AssetFilters
    from trove.services.search import snippets
    from trove.services.semantic import SemanticSearch

    database = Database(url)
    semantic = SemanticSearch(Settings(database_url=url, ai_semantic=True), database)
    samples: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    found: dict[str, dict[str, int]] = {}

    def timed(q: str) -> tuple[float, float]:
        with database.session() as session:
            query = AssetFilters(q=q, limit=100).to_query()
            stat = _backend_stat(session)
            wall, used = time.perf_counter(), _cpu_ms(stat)
            page = semantic.page(session, query, viewer=Viewer.system())
            snippets(session, query.search, [a.id for a in page.items])
            wall, used = time.perf_counter() - wall, _cpu_ms(stat) - used
            found[q] = {
                "results": len(page.items),
                "by_meaning": sum(1 for a in page.items if a.id in page.cosine),
            }
            return wall * 1000, used

    started = time.perf_counter()
    semantic.index.nearest(query_vector_of("warm up"), k=1)  # loads every vector
    load_s = time.perf_counter() - started
    for q in [*QUERIES, *MEANING_QUERIES]:
        if not semantic.blends(AssetFilters(q=q, limit=100).to_query()):
            continue
        timed(q)  # embeds the query (cached, as paging does)
        runs = [timed(q) for _ in range(repeat)]
        samples[q] = [w for w, _ in runs]
        cpu[q] = [c for _, c in runs]
    database.dispose()
    return {
        "index_load_s": round(load_s, 2),
        "vectors": len(semantic.index),
        "blended": summary(samples),
        "blended_cpu": summary(cpu),
        "per_query": {
            q: {
                "p50_ms": round(statistics.median(v), 2),
                "cpu_p50_ms": round(statistics.median(cpu[q]), 2),
                **found[q],
            }
            for q, v in samples.items()
        },
    }


def query_vector_of(text: str) -> Any:
    from trove.services.semantic import query_vector

    return query_vector(text)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(samples: dict[str, list[float]]) -> dict[str, float]:
    flat = [s for values in samples.values() for s in values]
    return {
        "p50_ms": round(statistics.median(flat), 2),
        "p95_ms": round(percentile(flat, 95), 2),
        "max_ms": round(max(flat), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--keep-index",
        action="store_true",
        help="reuse the documents a previous run built (no index build measured)",
    )
    parser.add_argument(
        "--blended",
        choices=("auto", "yes", "no"),
        default="auto",
        help="also time the blended words + meaning search (auto: up to 200k assets)",
    )
    parser.add_argument(
        "--copies-of",
        type=int,
        default=0,
        help="PostgreSQL: make the library as copies of the (built) one of this many assets",
    )
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="build the library and its index, measure the build, and stop",
    )
    parser.add_argument(
        "--bulk-index",
        action="store_true",
        help="PostgreSQL: build the index by COPY and CREATE INDEX instead of the backfill",
    )
    args = parser.parse_args()
    report: dict[str, Any] = {
        "benchmark": "search",
        "revision": git_revision(),
        "machine": machine_info(),
        "assets": args.assets,
        "queries": QUERIES,
        "databases": {},
    }
    missed = False
    for database in args.databases.split(","):
        copied: dict[str, Any] | None = None
        if args.copies_of and database == "postgresql" and (args.rebuild or not _built(args)):
            url, copied = replicate(args.assets, copies_of=args.copies_of)
            library_s: float | None = copied["library_s"]
        else:
            url, library_s = prepare(database, assets=args.assets, rebuild=args.rebuild)
        if copied is not None:
            index = copied["index_build"]
        elif args.keep_index and _has_documents(url):
            _analyze(url)
            index = {"documents": None, "seconds": None, "per_s": None}
        else:
            print(f"{database}: building the index ...", file=sys.stderr)
            bulk = args.bulk_index and database == "postgresql"
            index = bulk_index(url) if bulk else build_index(url)
        if args.build_only:
            report["databases"][database] = {"library_build_s": library_s, "index_build": index}
            print(f"{database}: index build {index}", file=sys.stderr)
            continue
        update = incremental(url)
        months = time_months(url, repeat=args.repeat)
        measured = run_queries(url, repeat=args.repeat)
        blended: dict[str, Any] | None = None
        if args.blended == "yes" or (args.blended == "auto" and args.assets <= 200_000):
            vectors = add_vectors(url)
            blended = {"vectors_added": vectors, **run_blended(url, repeat=args.repeat)}
        found = summary(measured["search"])
        baseline = summary(measured["like"])
        words_only = summary({q: measured["search"][q] for q in measured["like"]})
        words_cpu = summary({q: measured["search_cpu"][q] for q in measured["like"]})
        result = {
            "library_build_s": library_s,
            "index_build": index,
            "incremental_update": update,
            "search": found,
            "search_cpu": summary(measured["search_cpu"]),
            "search_newest_first": summary(measured["newest"]),
            "search_newest_first_cpu": summary(measured["newest_cpu"]),
            "timeline_months": months,
            "search_free_text_queries": words_only,
            "like_scan": baseline,
            "like_scan_cpu": summary(measured["like_cpu"]),
            "load_average": list(__import__("os").getloadavg()),
            "like_p95_over_search_p95": round(baseline["p95_ms"] / words_only["p95_ms"], 1),
            "search_cpu_free_text_queries": words_cpu,
            "like_cpu_p95_over_search_cpu_p95": round(
                summary(measured["like_cpu"])["p95_ms"] / words_cpu["p95_ms"], 1
            ),
            "target_p95_ms": TARGET_P95_MS[database],
            "per_query": {
                q: {
                    "p50_ms": round(statistics.median(v), 2),
                    "results": measured["counts"][q],
                    "like_p50_ms": round(statistics.median(measured["like"][q]), 2)
                    if q in measured["like"]
                    else None,
                    "cpu_p50_ms": round(statistics.median(measured["search_cpu"][q]), 2),
                    "newest_cpu_p50_ms": round(statistics.median(measured["newest_cpu"][q]), 2),
                    "like_cpu_p50_ms": round(statistics.median(measured["like_cpu"][q]), 2)
                    if q in measured["like_cpu"]
                    else None,
                }
                for q, v in measured["search"].items()
            },
        }
        result["blended"] = blended
        missed |= found["p95_ms"] > TARGET_P95_MS[database]
        report["databases"][database] = result
        _print_table(database, args.assets, result)
    print(json.dumps(report, indent=2))
    write_results("search", report)
    return 3 if missed else 0


def _print_table(database: str, assets: int, r: dict[str, Any]) -> None:
    print(f"\n== {database}, {assets:,} assets ==")
    i, u = r["index_build"], r["incremental_update"]
    if i["seconds"] is None:
        print("index build      (kept from an earlier run: --keep-index)")
    else:
        rate = f"{i['per_s']:,} documents/s, {i['method']}"
        print(f"index build      {i['seconds']:>8.1f} s   ({rate})")
    m = r["timeline_months"]
    every, canon = m["all"]["p50_ms"], m["canon"]["p50_ms"]
    print(f"months (rail)    all p50 {every:>7.2f} ms   canon p50 {canon:>7.2f} ms")
    print(f"incremental      {u['ms_per_asset']:>8.3f} ms per asset (batches of {u['batch']})")
    s, w, b = r["search"], r["search_free_text_queries"], r["like_scan"]
    target = r["target_p95_ms"]
    print(
        f"search (20 q)    p50 {s['p50_ms']:>7.2f} ms  p95 {s['p95_ms']:>7.2f} ms  target {target}"
    )
    c, n = r["search_cpu"], r["search_newest_first"]
    where = "this process" if database == "sqlite" else "this process + its PostgreSQL backend"
    print(f"  its CPU time   p50 {c['p50_ms']:>7.2f} ms  p95 {c['p95_ms']:>7.2f} ms  ({where})")
    nc = r["search_newest_first_cpu"]
    print(f"  newest first   p50 {n['p50_ms']:>7.2f} ms  p95 {n['p95_ms']:>7.2f} ms")
    print(f"    its CPU time p50 {nc['p50_ms']:>7.2f} ms  p95 {nc['p95_ms']:>7.2f} ms")
    w_cpu = r["search_cpu_free_text_queries"]
    print(f"  free-text only p50 {w['p50_ms']:>7.2f} ms  p95 {w['p95_ms']:>7.2f} ms")
    print(f"    its CPU time p50 {w_cpu['p50_ms']:>7.2f} ms  p95 {w_cpu['p95_ms']:>7.2f} ms")
    ratio = r["like_p95_over_search_p95"]
    print(f"LIKE scan        p50 {b['p50_ms']:>7.2f} ms  p95 {b['p95_ms']:>7.2f} ms  ({ratio}x)")
    lc, cpu_ratio = r["like_scan_cpu"], r["like_cpu_p95_over_search_cpu_p95"]
    print(
        f"  its CPU time   p50 {lc['p50_ms']:>7.2f} ms  p95 {lc['p95_ms']:>7.2f} ms  "
        f"({cpu_ratio}x the free-text search's CPU p95)"
    )
    print(f"load average during the run: {r['load_average']}")
    print(
        f"{'query':<34} {'p50 ms':>8} {'CPU p50':>8} {'newest CPU':>10} {'LIKE p50':>9} "
        f"{'LIKE CPU':>9} {'results':>8}"
    )
    for q, v in r["per_query"].items():
        like = f"{v['like_p50_ms']:>9.2f}" if v["like_p50_ms"] is not None else f"{'-':>9}"
        like_cpu = (
            f"{v['like_cpu_p50_ms']:>9.2f}" if v["like_cpu_p50_ms"] is not None else f"{'-':>9}"
        )
        print(
            f"{q:<34} {v['p50_ms']:>8.2f} {v['cpu_p50_ms']:>8.2f} "
            f"{v['newest_cpu_p50_ms']:>10.2f} {like} {like_cpu} "
            f"{v['results']:>8}"
        )
    blended = r.get("blended")
    if not blended:
        return
    bw, bc = blended["blended"], blended["blended_cpu"]
    print(
        f"blended (words + meaning, {blended['vectors']:,} vectors in memory, "
        f"loaded in {blended['index_load_s']} s)"
    )
    print(f"  wall           p50 {bw['p50_ms']:>7.2f} ms  p95 {bw['p95_ms']:>7.2f} ms")
    print(f"  its CPU time   p50 {bc['p50_ms']:>7.2f} ms  p95 {bc['p95_ms']:>7.2f} ms")
    print(f"{'blended query':<34} {'p50 ms':>8} {'CPU p50':>8} {'results':>8} {'by meaning':>10}")
    for q, v in blended["per_query"].items():
        print(
            f"{q:<34} {v['p50_ms']:>8.2f} {v['cpu_p50_ms']:>8.2f} {v['results']:>8} "
            f"{v['by_meaning']:>10}"
        )


if __name__ == "__main__":
    sys.exit(main())
