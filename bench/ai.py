"""What each AI step adds to the pipeline, per photo, on one core.

    .venv/bin/python bench/ai.py [--photos 24] [--repeat 3]

Photos: scikit-image's sample pictures (a portrait, a cat, coffee, a rocket, ...) enlarged to
a 12-megapixel camera's 4000x3000 and written as JPEG. The process is pinned to one CPU and
torch to one thread. Each photo goes through the thumbnail step (decode + preview pyramid:
what every photo already costs, the baseline measured in the same run), then through each AI
step reading the preview that step left in memory, as in a pipeline pass. The first call of
each step (loading its model) is timed apart: a worker pays it once.

Output: the table on stdout, the JSON report after it and in bench/results/ai-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src"), str(REPO / "bench")]

from _common import git_revision, machine_info, write_results  # noqa: E402

SAMPLES = ("astronaut", "chelsea", "coffee", "rocket", "camera", "hubble_deep_field")


def make_photos(folder: Path, count: int) -> list[Path]:
    from PIL import Image
    from skimage import data

    paths = []
    for i in range(count):
        name = SAMPLES[i % len(SAMPLES)]
        image = Image.fromarray(getattr(data, name)()).convert("RGB").resize((4000, 3000))
        path = folder / f"IMG_{i:04d}_{name}.jpg"
        image.save(path, quality=90)
        paths.append(path)
    return paths


def view(path: Path) -> Any:
    from trove.pipeline.processor import AssetView
    from trove.storage.hashing import sha256_file

    stat = path.stat()
    return AssetView(
        id=path.stem, path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns,
        mime_type="image/jpeg", asset_type="image", hash=sha256_file(path)[0], filename=path.name,
        width=4000, height=3000,
    )  # fmt: skip


def ai_steps(settings: Any) -> dict[str, Any]:
    from trove.pipeline.ai.faces import FaceProcessor
    from trove.pipeline.ai.labels import LabelProcessor
    from trove.pipeline.ai.semantic import SemanticProcessor

    return {
        "ai_labels": LabelProcessor(settings),
        "ai_faces": FaceProcessor(settings),
        "ai_semantic": SemanticProcessor(settings),
    }


def exact_search_ms(count: int) -> float:
    """One query over `count` stored vectors as SemanticSearch does it after reading them:
    unpack each (base64 float16) and take the dot products (the database read is apart)."""
    import numpy as np

    from trove.pipeline.ai.semantic import pack, unpack

    rng = np.random.default_rng(1)
    stored = [pack(v / np.linalg.norm(v)) for v in rng.normal(size=(count, 384))]
    query = rng.normal(size=384).astype(np.float32)
    start = time.perf_counter()
    vectors = [unpack(v) for v in stored]
    matrix = np.stack([v for v in vectors if v is not None])
    (matrix @ query).argsort()[-50:]
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import torch

    torch.set_num_threads(1)
    from trove.config import Settings
    from trove.pipeline.processors.thumbnails import ThumbnailProcessor

    with tempfile.TemporaryDirectory(prefix="trove-bench-ai-") as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "data", ai_labels=True, ai_faces=True, ai_semantic=True
        )
        photos = make_photos(Path(tmp), args.photos)
        thumbnails = ThumbnailProcessor(settings)
        steps = ai_steps(settings)
        first: dict[str, float] = {}
        times: dict[str, list[float]] = {"thumbnails (baseline)": [], **{n: [] for n in steps}}
        for _ in range(args.repeat):
            for path in photos:
                asset = view(path)
                for name in [n for n in times if n.startswith("thumbnails")]:
                    for cached in (Path(tmp) / "data").rglob("*.webp"):
                        cached.unlink()  # time a fresh pyramid, not a cache hit
                    start = time.perf_counter()
                    thumbnails.process(asset)
                    times[name].append(time.perf_counter() - start)
                meta: dict[str, Any] = {}
                for name, step in steps.items():
                    start = time.perf_counter()
                    result = step.process(replace(asset, meta=dict(meta)))
                    elapsed = time.perf_counter() - start
                    meta.update(result.metadata)
                    if name not in first:
                        first[name] = elapsed
                        continue
                    times[name].append(elapsed)
    baseline = statistics.median(times["thumbnails (baseline)"])
    rows = []
    for name, samples in times.items():
        median = statistics.median(samples)
        rows.append({
            "step": name,
            "median_ms": round(median * 1000, 1),
            "p95_ms": round(sorted(samples)[int(0.95 * (len(samples) - 1))] * 1000, 1),
            "first_call_ms": round(first[name] * 1000, 1) if name in first else None,
            "ratio_to_thumbnails": round(median / baseline, 2),
        })  # fmt: skip
    print(f"{'step':<24}{'median ms':>10}{'p95 ms':>10}{'first ms':>10}{'x thumbs':>10}")
    for row in rows:
        first_ms = "" if row["first_call_ms"] is None else f"{row['first_call_ms']:.0f}"
        print(
            f"{row['step']:<24}{row['median_ms']:>10.1f}{row['p95_ms']:>10.1f}"
            f"{first_ms:>10}{row['ratio_to_thumbnails']:>10.2f}"
        )
    report = {
        "benchmark": "ai",
        "photos": args.photos,
        "repeat": args.repeat,
        "photo_size": "4000x3000 JPEG",
        "one_core": True,
        "steps": rows,
        "semantic_exact_search_ms": {n: round(exact_search_ms(n), 1) for n in (10_000, 100_000)},
        "machine": machine_info(),
        "git": git_revision(),
    }
    for count, ms in report["semantic_exact_search_ms"].items():
        print(f"semantic exact search over {count:,} vectors: {ms:.0f} ms (unpack + dot)")
    print(json.dumps(report, indent=2))
    write_results("ai", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
