"""Knowledge-graph benchmark: about 1M links on SQLite and PostgreSQL, LinkManager against
networkx on the same graph held in memory.

    .venv/bin/python bench/graph.py [--assets 100000] [--samples 200]
                                    [--databases sqlite,postgresql] [--rebuild]

The graph (generated once per database, then reused; `--rebuild` makes it again):
  * a library root folder -> 10 year folders -> 1,000 month folders -> 100 files each (100k
    assets, `contains`), so tagging the root tags a folder of 100k assets;
  * 1,000 albums `include` 200 random assets each, 100 of them nested in other albums;
  * 300k `visually_similar_to` look-alikes (mostly within a folder, some across), 50k proxies
    (`transformed_to`), 20k `duplicate_of`;
  * 10k entities: 5k Person (`depicts`, 200k links) and 5k Project (`owns`, 100k links).

Measured, each over `--samples` random draws (after a few untimed ones):
  * neighbors: one page (50) of a random node's neighbours both ways, with counts per relation;
  * shortest_path: between two random files, both ways, max_depth 6; the same pair by networkx
    (`bidirectional_shortest_path` on an undirected Graph of every link, loaded in memory first:
    its load time and the path lengths are compared, a mismatch is reported);
  * impact counts: impact_analysis of a random file, depth 3 (counts per relation and a page);
  * propagation: tagging the root folder (100k assets below it) and untagging it, and the
    first page of the asset list filtered by that tag (all 100k inherit it).
Targets (this machine): neighbors p95 <= 20 ms, shortest path p95 <= 100 ms, impact p95 <=
200 ms, propagation <= 2 s.

Output: the table on stdout, the JSON report after it and in bench/results/graph-<time>.json.
Exit status 0 when every target is met, 3 when one is missed, 1 when a path disagrees with
networkx.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src"), str(REPO / "bench")]

from _common import git_revision, machine_info, percentiles, write_results  # noqa: E402
from trove.domain.access import Viewer  # noqa: E402

SYSTEM = Viewer.system()

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/trove_bench_graph"
CORPUS = REPO / "bench" / ".corpus"
TARGETS_MS = {"neighbors": 20, "shortest_path": 100, "impact": 200, "tag_folder": 2000}
BATCH = 10_000


# --- the graph ------------------------------------------------------------------------------


class Corpus:
    """Ids of what was generated, to draw samples from (the graph itself stays in the DB)."""

    def __init__(self) -> None:
        self.root = ""
        self.files: list[str] = []
        self.albums: list[str] = []
        self.entities: list[str] = []

    def nodes(self) -> list[str]:
        return [self.root, *self.files, *self.albums, *self.entities]


def build(url: str, *, assets: int, seed: int = 7) -> Corpus:
    from tests.graph_helpers import asset_row

    from trove.db.database import Database
    from trove.domain.enums import AssetType
    from trove.repositories.assets import AssetRepository
    from trove.repositories.entities import EntityRepository
    from trove.repositories.links import edge

    rnd = random.Random(seed)
    corpus = Corpus()
    database = Database(url)
    per_folder = max(1, assets // 1000)
    rows: list[dict[str, Any]] = []

    def asset(name: str, kind: str) -> str:
        row = asset_row(name, asset_type=kind)
        rows.append(row)
        return str(row["id"])

    corpus.root = asset("library", AssetType.COLLECTION)
    years = [asset(f"{2015 + y}", AssetType.COLLECTION) for y in range(10)]
    months = [asset(f"{y}-{m:03}", AssetType.COLLECTION) for y in range(10) for m in range(100)]
    corpus.files = [asset(f"IMG_{i:06}.jpg", AssetType.IMAGE) for i in range(per_folder * 1000)]
    corpus.albums = [asset(f"Album {i}", AssetType.COLLECTION) for i in range(1000)]
    proxies = [asset(f"proxy {i}.webp", AssetType.PROXY) for i in range(len(corpus.files) // 2)]
    with database.session() as session:
        repo = AssetRepository(session)
        for start in range(0, len(rows), BATCH):
            repo.insert_many(rows[start : start + BATCH])
    with database.session() as session:
        entities = EntityRepository(session)
        people = [
            entities.add(type="Person", name=f"Person {i}", metadata={}).id for i in range(5000)
        ]
        projects = [
            entities.add(type="Project", name=f"Project {i}", metadata={}).id for i in range(5000)
        ]
    corpus.entities = people + projects

    def scaled(n: int) -> int:  # the counts above are for 100k assets
        return max(1, n * assets // 100_000)

    def edges() -> Iterator[dict[str, Any]]:
        files = corpus.files
        for y, year in enumerate(years):
            yield edge(corpus.root, year, "contains")
            for m in range(100):
                yield edge(year, months[y * 100 + m], "contains")
        for i, file in enumerate(files):
            yield edge(months[i // per_folder], file, "contains")
        for i, album in enumerate(corpus.albums):
            for file in rnd.sample(files, min(len(files), scaled(200))):
                yield edge(album, file, "includes", position=float(rnd.randrange(10**6)))
            if i >= 100 and i < 200:
                yield edge(corpus.albums[rnd.randrange(100)], album, "includes")
        for _ in range(scaled(300_000)):
            i = rnd.randrange(len(files))
            j = (
                i + rnd.randrange(1, per_folder)
                if rnd.random() < 0.9
                else rnd.randrange(len(files))
            )
            if j < len(files) and j != i:
                yield edge(files[i], files[j], "visually_similar_to", weight=rnd.random())
        for i, proxy in enumerate(proxies):
            yield edge(files[2 * i], proxy, "transformed_to")
        for _ in range(scaled(20_000)):
            a, b = rnd.sample(files, 2)
            yield edge(a, b, "duplicate_of")
        for _ in range(scaled(200_000)):
            link = edge(rnd.choice(files), rnd.choice(people), "depicts")
            yield {**link, "target_type": "Person"}
        for _ in range(scaled(100_000)):
            link = edge(rnd.choice(projects), rnd.choice(files), "owns")
            yield {**link, "source_type": "Project"}

    batch: list[dict[str, Any]] = []
    for row in edges():
        batch.append(row)
        if len(batch) >= BATCH:
            _write_links(database, batch)
            batch = []
    _write_links(database, batch)
    database.dispose()
    return corpus


def _write_links(database: Any, rows: list[dict[str, Any]]) -> None:
    from trove.repositories.links import LinkRepository

    with database.session() as session:
        LinkRepository(session).add_many(rows)
    print(".", end="", file=sys.stderr, flush=True)


def load_corpus(url: str) -> Corpus | None:
    """The ids of a graph built earlier, or None when there is none."""
    from sqlalchemy import select

    from trove.db.database import Database
    from trove.db.models import Asset, Entity, Link

    database = Database(url)
    try:
        with database.session() as session:
            if session.scalar(select(Link.id).limit(1)) is None:
                return None
            corpus = Corpus()
            for asset_id, name, kind in session.execute(
                select(Asset.id, Asset.filename, Asset.asset_type)
            ):
                if name == "library":
                    corpus.root = asset_id
                elif kind == "image":
                    corpus.files.append(asset_id)
                elif name.startswith("Album "):
                    corpus.albums.append(asset_id)
            corpus.entities = list(session.scalars(select(Entity.id)))
            return corpus
    finally:
        database.dispose()


def prepare(database: str, *, assets: int, rebuild: bool) -> tuple[str, Corpus, float | None]:
    from trove.db.migrate import ensure_schema

    if database == "sqlite":
        path = CORPUS / f"graph-{assets}" / "trove.db"
        if rebuild and path.exists():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        url = PG_URL
        _pg_database(rebuild=rebuild)
    ensure_schema(url)
    corpus = None if rebuild else load_corpus(url)
    built_s = None
    if corpus is None or len(corpus.files) != max(1, assets // 1000) * 1000:
        if corpus is not None:
            return prepare(database, assets=assets, rebuild=True)
        print(f"building the {database} graph ...", file=sys.stderr)
        started = time.perf_counter()
        corpus = build(url, assets=assets)
        built_s = time.perf_counter() - started
        print(f" {built_s:.0f} s", file=sys.stderr)
    _analyze(url)
    return url, corpus, built_s


def _pg_database(*, rebuild: bool) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = 'trove_bench_graph'"
        ).fetchone()
        if exists and rebuild:
            admin.execute("DROP DATABASE trove_bench_graph WITH (FORCE)")
            exists = None
        if not exists:
            admin.execute("CREATE DATABASE trove_bench_graph")


def _analyze(url: str) -> None:
    """Fresh statistics, and PostgreSQL's visibility map set so index-only scans are possible."""
    from sqlalchemy import create_engine

    from trove.db.engine import normalise_url

    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE" if url.startswith("sqlite") else "VACUUM ANALYZE")
    engine.dispose()


def graph_size(url: str) -> dict[str, Any]:
    from sqlalchemy import func, select

    from trove.db.database import Database
    from trove.db.models import Asset, Entity, Link

    database = Database(url)
    with database.session() as session:
        rows = session.execute(select(Link.relation, func.count()).group_by(Link.relation))
        by_relation = {relation: int(n) for relation, n in rows}
        size = {
            "assets": session.scalar(select(func.count()).select_from(Asset)),
            "entities": session.scalar(select(func.count()).select_from(Entity)),
            "links": sum(by_relation.values()),
            "links_by_relation": dict(sorted(by_relation.items())),
        }
    database.dispose()
    return size


# --- measuring ------------------------------------------------------------------------------


def percentiles_s(samples_s: list[float]) -> dict[str, Any]:
    return percentiles([s * 1000 for s in samples_s], digits=2)


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def sample(draws: list[Callable[[], Any]], *, warmup: int = 5) -> list[float]:
    for call in draws[:warmup]:
        call()
    return [timed(call)[0] for call in draws]


def in_memory_graph(url: str) -> Any:
    """Every link as an undirected networkx Graph: the reference the task asks for."""
    import networkx as nx
    from sqlalchemy import create_engine

    from trove.db.engine import normalise_url

    engine = create_engine(normalise_url(url))
    graph = nx.Graph()
    with engine.connect() as connection:
        result = connection.exec_driver_sql("SELECT source_id, target_id FROM links")
        while rows := result.fetchmany(100_000):
            graph.add_edges_from(rows)
    engine.dispose()
    return graph


def run(database: str, *, assets: int, samples: int, rebuild: bool) -> dict[str, Any]:
    import networkx as nx

    from trove.config import Settings
    from trove.domain.filters import AssetFilters
    from trove.services.assets import AssetPatch
    from trove.services.container import Services
    from trove.services.links import NotFound

    url, corpus, built_s = prepare(database, assets=assets, rebuild=rebuild)
    settings = Settings(data_dir=CORPUS / f"graph-{assets}" / "data", database_url=url)
    services = Services.create(settings)
    links = services.links
    rnd = random.Random(11)
    report: dict[str, Any] = {"database": database, "built_s": built_s, "size": graph_size(url)}
    print(f"{database}: {report['size']['links']:,} links", file=sys.stderr)

    nodes = corpus.nodes()
    report["neighbors"] = percentiles_s(
        sample(
            [
                lambda n=rnd.choice(nodes): links.get_neighbors(n, limit=50, viewer=SYSTEM)
                for _ in range(samples)
            ]
        )
    )

    pairs = [tuple(rnd.sample(corpus.files, 2)) for _ in range(samples)]
    found: dict[tuple[str, str], int | None] = {}

    def path(a: str, b: str) -> None:
        try:
            found[(a, b)] = len(links.shortest_path(a, b, max_depth=6, viewer=SYSTEM)["edges"])
        except NotFound:
            found[(a, b)] = None

    report["shortest_path"] = percentiles_s(sample([lambda p=p: path(*p) for p in pairs]))

    load_s, graph = timed(lambda: in_memory_graph(url))
    reference: dict[tuple[str, str], int | None] = {}

    def nx_path(a: str, b: str) -> None:
        try:
            length = len(nx.bidirectional_shortest_path(graph, a, b)) - 1
        except nx.NetworkXNoPath:
            length = None
        reference[(a, b)] = length if length is not None and length <= 6 else None

    report["networkx_path"] = {
        **percentiles_s(sample([lambda p=p: nx_path(*p) for p in pairs])),
        "load_s": round(load_s, 2),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
    }
    mismatches = [p for p in pairs if found.get(p) != reference.get(p)]
    report["path_lengths"] = dict(sorted(_count(found.values()).items(), key=str))
    report["path_mismatches"] = len(mismatches)

    report["impact"] = percentiles_s(
        sample(
            [
                lambda n=rnd.choice(corpus.files): links.impact_analysis(
                    n, depth=3, limit=50, viewer=SYSTEM
                )
                for _ in range(samples)
            ]
        )
    )

    tag_s, _ = timed(
        lambda: services.assets.update(corpus.root, AssetPatch(tags=["bench"]), viewer=SYSTEM)
    )
    inherited = _inherited_count(services.database, "bench")
    page = AssetFilters(tag=["bench"], limit=100)
    report["tag_filter_page"] = percentiles_s(
        sample(
            [
                lambda: services.assets.list(page, viewer=SYSTEM)
                for _ in range(max(5, samples // 20))
            ]
        )
    )
    untag_s, _ = timed(
        lambda: services.assets.update(corpus.root, AssetPatch(tags=[]), viewer=SYSTEM)
    )
    report["tag_folder"] = {
        "tag_ms": round(tag_s * 1000, 1),
        "untag_ms": round(untag_s * 1000, 1),
        "assets_reached": inherited,
        "left_after_untag": _inherited_count(services.database, "bench"),
    }
    services.database.dispose()
    return report


def _count(values: Any) -> dict[Any, int]:
    counts: dict[Any, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _inherited_count(database: Any, tag: str) -> int:
    """Assets the tag reaches below the tagged one (as a tag filter would list them)."""
    from sqlalchemy import func, select

    from trove.repositories.tag_flows import tagged

    with database.session() as session:
        reached = tagged(tag).subquery()
        count = select(func.count(func.distinct(reached.c[0])))
        return max(0, int(session.scalar(count) or 0) - 1)


# --- output ---------------------------------------------------------------------------------


def table(reports: list[dict[str, Any]]) -> list[str]:
    lines = [
        f"{'database':<11}{'measure':<38}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'target':>10}",
    ]
    for r in reports:
        rows = [
            ("neighbors, one page of 50", r["neighbors"], f"p95<={TARGETS_MS['neighbors']}"),
            (
                "shortest_path, max_depth 6",
                r["shortest_path"],
                f"p95<={TARGETS_MS['shortest_path']}",
            ),
            ("  networkx, same pairs (in memory)", r["networkx_path"], "reference"),
            ("impact_analysis, depth 3", r["impact"], f"p95<={TARGETS_MS['impact']}"),
        ]
        for name, p, target in rows:
            lines.append(
                f"{r['database']:<11}{name:<38}{p['n']:>5}{p['p50_ms']:>10}{p['p95_ms']:>10}"
                f"{target:>10}"
            )
        t = r["tag_folder"]
        lines.append(
            f"{r['database']:<11}{'tag a folder of {:,} (add)'.format(t['assets_reached']):<38}"
            f"{1:>5}{t['tag_ms']:>10}{'':>10}{'<=2000':>10}"
        )
        p = r["tag_filter_page"]
        lines.append(
            f"{r['database']:<11}{'  asset list page, filtered by that tag':<38}{p['n']:>5}"
            f"{p['p50_ms']:>10}{p['p95_ms']:>10}{'':>10}"
        )
        lines.append(
            f"{r['database']:<11}{'  untag it (remove)':<38}{1:>5}{t['untag_ms']:>10}{'':>10}"
            f"{'<=2000':>10}"
        )
        lines.append(
            f"{r['database']:<11}  graph: {r['size']['assets']:,} assets, "
            f"{r['size']['entities']:,} entities, {r['size']['links']:,} links; "
            f"networkx load {r['networkx_path']['load_s']} s;"
            f" path lengths {r['path_lengths']}; mismatches {r['path_mismatches']}"
        )
    return lines


def missed(report: dict[str, Any]) -> list[str]:
    out = []
    for key in ("neighbors", "shortest_path", "impact"):
        if report[key]["p95_ms"] > TARGETS_MS[key]:
            out.append(f"{report['database']} {key} p95 {report[key]['p95_ms']} ms")
    for key in ("tag_ms", "untag_ms"):
        if report["tag_folder"][key] > TARGETS_MS["tag_folder"]:
            out.append(f"{report['database']} {key} {report['tag_folder'][key]} ms")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rebuild", action="store_true", help="Generate the graph again.")
    args = parser.parse_args()
    reports = [
        run(db, assets=args.assets, samples=args.samples, rebuild=args.rebuild)
        for db in args.databases.split(",")
    ]
    full = {
        "benchmark": "graph",
        "machine": machine_info(),
        "git": git_revision(),
        "command": " ".join(sys.argv),
        "targets_ms": TARGETS_MS,
        "results": reports,
    }
    print("\n".join(table(reports)))
    print(json.dumps(full, indent=2))
    print(f"written to {write_results('graph', full)}", file=sys.stderr)
    if any(r["path_mismatches"] for r in reports):
        return 1
    return 3 if any(missed(r) for r in reports) else 0


if __name__ == "__main__":
    raise SystemExit(main())
