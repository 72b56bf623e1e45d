"""Document libraries: what a page of documents costs to list and to search, beside the same
page of small files, on SQLite and PostgreSQL.

    .venv/bin/python bench/documents.py [--documents 300] [--kb 170] [--rounds 15]
                                        [--databases sqlite,postgresql]

Two libraries of the same number of plain-text files are indexed in turn, each into a fresh
index by the server's own start-up scan and pipeline: documents of `--kb` KB (their text is
extracted, up to 200k characters each) and notes of half a KB (the baseline: the same rows
with almost no text). A fifth of their words carry an accent, as a European text's do. For
each, through the same service the API answers from (`AssetService.list`), `--rounds` times
after one untimed call:

  * the gallery's first page of 100, newest first;
  * a search of a word every file holds (`q=`), its first page of 100 with snippets.

A listing loads each asset's metadata without the documents' text (repositories/assets.py
`_listing`): before, a page of 170 KB documents decoded 17 MB of it (PostgreSQL 165 ms a page,
SQLite 58 ms; 52 and 42 ms after). The search is planned with statistics as soon as the
pipeline has run (repositories/statistics.py): before, the first minute of a new library of
300 documents searched in 3.4 s on PostgreSQL. A search's snippets found the first match of a
text that is not ASCII by folding the whole text one character at a time (93 ms for 175 KB of
French); they fold it a block at a time, with NumPy, up to the match (domain/snippets.py).

Output: a table (p50/p95 and the ratio to the notes' page), the JSON report after it and in
bench/results/documents-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src"), str(REPO / "bench")]

from _common import (  # noqa: E402
    drop_database,
    fresh_database,
    git_revision,
    machine_info,
    percentiles,
    write_results,
)

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/trove_bench_documents"
WORD = "lighthouse"  # in every file of both libraries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--kb", type=int, default=170)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="trove-bench-documents-"))
    try:
        libraries = {
            "documents": write_library(work / "documents", args.documents, kb=args.kb),
            "notes": write_library(work / "notes", args.documents, kb=0.5),
        }
        results: dict[str, Any] = {}
        for database in args.databases.split(","):
            results[database] = {
                name: measure(
                    root, database=database, work=work / f"{database}-{name}", rounds=args.rounds
                )
                for name, root in libraries.items()
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "benchmark": "documents",
        "revision": git_revision(),
        "machine": machine_info(),
        "parameters": vars(args),
        "results": results,
    }
    print_table(results, documents=args.documents, kb=args.kb)
    print(json.dumps(report, indent=2))
    print(f"results written to {write_results('documents', report)}")
    return 0


def write_library(root: Path, count: int, *, kb: float) -> Path:
    """`count` text files of about `kb` KB of made-up words, each holding WORD once, at its
    start (where a common word's first match is)."""
    rng = random.Random(count)
    vocabulary = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
        for _ in range(3000)
    ]
    # A European text: a fifth of its words carry an accent (the text is then not ASCII).
    vocabulary = [w.replace("e", "é", 1) if i % 5 == 0 else w for i, w in enumerate(vocabulary)]
    words = max(1, int(kb * 1024 / 7))
    for i in range(count):
        body = " ".join(rng.choice(vocabulary) for _ in range(words))
        path = root / f"folder-{i % 10}" / f"file-{i:05d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{WORD} {body}\n")
    return root


def measure(root: Path, *, database: str, work: Path, rounds: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from trove.app import create_app
    from trove.config import Settings
    from trove.domain.access import Viewer
    from trove.domain.filters import AssetFilters

    url = fresh_database(PG_URL, 1) if database == "postgresql" else None
    settings = Settings(
        data_dir=work,
        auth=False,
        allowed_hosts="testserver",
        **({"database_url": url} if url else {}),
    )
    app = create_app(settings, roots=[str(root)])
    try:
        started = time.perf_counter()
        with TestClient(app):
            assert app.state.services.indexer.wait_idle(1800), "the library was not indexed"
            indexed_s = time.perf_counter() - started
            assets = app.state.services.assets
            viewer = Viewer.system()
            calls = {
                "listing": AssetFilters(limit=100),
                "search": AssetFilters(limit=100, q=WORD),
            }
            timed = {}
            for name, filters in calls.items():
                page = assets.list(filters, viewer=viewer)  # untimed: caches warm
                samples = []
                for _ in range(rounds):
                    began = time.perf_counter()
                    assets.list(filters, viewer=viewer)
                    samples.append((time.perf_counter() - began) * 1000)
                timed[name] = {**percentiles(samples), "items": len(page.items)}
    finally:
        if url:
            drop_database(url)
    return {"indexed_s": round(indexed_s, 2), **timed}


def print_table(results: dict[str, Any], *, documents: int, kb: int) -> None:
    print(f"\n{documents} text files of {kb} KB (documents) against {documents} of 0.5 KB (notes)")
    columns = ("documents p50", "p95", "notes p50", "p95", "ratio p50")
    print(f"{'database':<11} {'read':<8} " + " ".join(f"{c:>14}" for c in columns))
    for database, by_library in results.items():
        for read in ("listing", "search"):
            docs, notes = by_library["documents"][read], by_library["notes"][read]
            ratio = docs["p50_ms"] / notes["p50_ms"] if notes["p50_ms"] else float("nan")
            print(
                f"{database:<11} {read:<8} {docs['p50_ms']:>14.1f} {docs['p95_ms']:>14.1f} "
                f"{notes['p50_ms']:>14.1f} {notes['p95_ms']:>14.1f} {ratio:>14.2f}"
            )


if __name__ == "__main__":
    sys.exit(main())
