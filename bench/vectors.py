"""The vector index for search by meaning, chosen by measurement (docs/decisions.md).

    .venv/bin/python bench/vectors.py [--vectors 100000] [--queries 50] [--extra PATH]

Vectors: unit-length 384-number rows (MiniLM's size) drawn at random, queried by a stored row
plus noise. Each candidate answers the best 400 for each query (what a blended search asks),
on one core:

  * the baseline, in the same run: today's exact scan minus its database read (decode the
    base64 float16 each asset keeps in its metadata, stack, multiply) - a lower bound of the
    3.3 s bench/ai.py measured at 100k;
  * `numpy-f32`: one float32 matrix in memory, loaded once, a matrix-vector product and a
    partial sort (services/vector_index.py); also float16 in memory, for its memory;
  * `sqlite-vec` (exact, SQLite only) and `usearch` (HNSW, an index file), when importable:
    `--extra PATH` adds a folder to the import path (they are not Trove's dependencies).

Reported: build/load time, memory, p50/p95 per query, and recall of the best 10 against exact.
Output: the table on stdout, the JSON report after it and in bench/results/vectors-<time>.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src"), str(REPO / "bench")]

from _common import git_revision, machine_info, write_results  # noqa: E402

DIMENSIONS = 384
BEST = 400


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timings(search: Callable[[np.ndarray], np.ndarray], queries: np.ndarray) -> dict[str, Any]:
    search(queries[0])
    samples = []
    for q in queries:
        started = time.perf_counter()
        search(q)
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 95), 2),
    }


def top(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(scores))
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best])]


def recall(found: Callable[[np.ndarray], np.ndarray], exact: list[set[int]], queries: Any) -> float:
    hits = [
        len(set(found(q)[:10].tolist()) & want) / 10 for q, want in zip(queries, exact, strict=True)
    ]
    return round(statistics.mean(hits), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--extra", default="")
    args = parser.parse_args()
    if args.extra:
        sys.path.append(args.extra)  # after the venv: its numpy stays the one in use
    rng = np.random.default_rng(7)
    n = args.vectors
    matrix = rng.standard_normal((n, DIMENSIONS)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    picks = rng.integers(0, n, args.queries)
    noise = rng.standard_normal((args.queries, DIMENSIONS)).astype(np.float32) * 0.05
    queries = matrix[picks] + noise
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact = [set(top(matrix @ q, 10).tolist()) for q in queries]
    results: dict[str, Any] = {}

    packed = [base64.b64encode(row.astype(np.float16).tobytes()).decode() for row in matrix]

    def scan(q: np.ndarray) -> np.ndarray:
        rows = [np.frombuffer(base64.b64decode(p), dtype=np.float16) for p in packed]
        return top(np.stack(rows).astype(np.float32) @ q, BEST)

    few = queries[: max(2, min(5, args.queries))]
    results["baseline-scan"] = {**timings(scan, few), "memory_mb": 0, "build_s": 0.0}

    started = time.perf_counter()
    blob = b"".join(row.astype(np.float16).tobytes() for row in matrix)
    loaded = np.frombuffer(blob, dtype=np.float16).reshape(n, DIMENSIONS).astype(np.float32)
    load_s = time.perf_counter() - started
    results["numpy-f32"] = {
        **timings(lambda q: top(loaded @ q, BEST), queries),
        "memory_mb": round(loaded.nbytes / 2**20),
        "build_s": round(load_s, 2),
        "recall_at_10": recall(lambda q: top(loaded @ q, BEST), exact, queries),
    }
    half = loaded.astype(np.float16)
    results["numpy-f16"] = {
        **timings(lambda q: top(half @ q.astype(np.float16), BEST), few),
        "memory_mb": round(half.nbytes / 2**20),
        "build_s": 0.0,
    }
    results.update(_sqlite_vec(matrix, queries, exact))
    results.update(_usearch(matrix, queries, exact))
    report = {
        "benchmark": "vectors",
        "revision": git_revision(),
        "machine": machine_info(),
        "vectors": n,
        "best": BEST,
        "candidates": results,
    }
    print(f"\n== {n:,} vectors of {DIMENSIONS}, best {BEST} per query ==")
    head = ("candidate", "p50 ms", "p95 ms", "memory MB", "build s", "recall")
    print("{:<16} {:>9} {:>9} {:>10} {:>8} {:>7}".format(*head))
    for name, r in results.items():
        if "unavailable" in r:
            print(f"{name:<16} unavailable: {r['unavailable']}")
            continue
        print(
            f"{name:<16} {r['p50_ms']:>9.2f} {r['p95_ms']:>9.2f} {r['memory_mb']:>10} "
            f"{r['build_s']:>8.2f} {r.get('recall_at_10', '-'):>7}"
        )
    print(json.dumps(report, indent=2))
    write_results("vectors", report)
    return 0


def _sqlite_vec(matrix: np.ndarray, queries: np.ndarray, exact: list[set[int]]) -> dict[str, Any]:
    try:
        import sqlite_vec
    except ImportError:
        return {}
    import sqlite3

    folder = tempfile.mkdtemp()
    db = sqlite3.connect(f"{folder}/v.db")
    if not hasattr(db, "enable_load_extension"):  # Python built without it (pyenv's default)
        return {"sqlite-vec": {"unavailable": "this Python's sqlite3 cannot load extensions"}}
    db.enable_load_extension(True)
    sqlite_vec.load(db)
    started = time.perf_counter()
    db.execute(f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{DIMENSIONS}])")
    db.executemany(
        "INSERT INTO v(rowid, embedding) VALUES (?, ?)",
        ((i, row.tobytes()) for i, row in enumerate(matrix)),
    )
    db.commit()
    build_s = time.perf_counter() - started

    def search(q: np.ndarray) -> np.ndarray:
        rows = db.execute(
            "SELECT rowid FROM v WHERE embedding MATCH ? AND k = ? ORDER BY distance",
            (q.astype(np.float32).tobytes(), BEST),
        ).fetchall()
        return np.array([r[0] for r in rows])

    size = Path(f"{folder}/v.db").stat().st_size
    return {
        "sqlite-vec": {
            **timings(search, queries[:10]),
            "memory_mb": round(size / 2**20),
            "build_s": round(build_s, 2),
            "recall_at_10": recall(search, exact[:10], queries[:10]),
        }
    }


def _usearch(matrix: np.ndarray, queries: np.ndarray, exact: list[set[int]]) -> dict[str, Any]:
    try:
        from usearch.index import Index
    except ImportError:
        return {}
    index = Index(ndim=DIMENSIONS, metric="cos", dtype="f16")
    started = time.perf_counter()
    index.add(np.arange(len(matrix)), matrix, threads=1)
    build_s = time.perf_counter() - started

    def search(q: np.ndarray) -> np.ndarray:
        return np.asarray(index.search(q, BEST, threads=1).keys)

    return {
        "usearch-hnsw": {
            **timings(search, queries),
            "memory_mb": round(index.memory_usage / 2**20),
            "build_s": round(build_s, 2),
            "recall_at_10": recall(search, exact, queries),
        }
    }


if __name__ == "__main__":
    sys.exit(main())
