"""Sidecars benchmark: reading digiKam XMP sidecars (keywords, rating, MWG face regions) into
their photos through Trove's `sidecar` step, beside ExifTool reading the same sidecars in one
process, and what remembering sidecars costs an unchanged rescan; measured in the same run.

    .venv/bin/python bench/sidecars.py [--photos 400]

  * baseline: `exiftool -G -n -json -struct` over every sidecar, one process (what the step
    asks of ExifTool, without Trove);
  * trove step: SidecarProcessor.process_batch over the photos in batches of 64, as a worker
    runs it (folder listing, ExifTool through its resident process, parsing), no database;
  * unchanged rescan of the library with sidecars and of the same photos without them
    (ScanService.scan in-process, the median of 7 rescans), and `find` over the same tree.
Output: the table on stdout, the JSON report after it and in bench/results/sidecars-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src"), str(REPO / "bench")]

from _common import git_revision, machine_info, write_results  # noqa: E402

BATCH = 64
RESCANS = 7  # the median of these (a shared machine's neighbours come and go)


def make_library(root: Path, photos: int, *, sidecars: bool) -> list[Path]:
    from PIL import Image
    from tests.test_sidecars import DIGIKAM

    made = []
    for i in range(photos):
        path = root / f"{i // 100:03d}" / f"IMG_{i:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 48), (i % 255, 80, 160)).save(path, "JPEG", quality=80)
        if sidecars:
            Path(f"{path}.xmp").write_text(DIGIKAM.format(rating=i % 6, extra=""))
        made.append(path)
    return made


def step_seconds(photos: list[Path], settings: Any) -> float:
    from trove.pipeline.processor import AssetView
    from trove.pipeline.processors.sidecar import SidecarProcessor

    processor = SidecarProcessor(settings)
    views = [
        AssetView(id=str(i), path=p, size=1, mtime_ns=1, mime_type="image/jpeg",
                  asset_type="image", hash="x", filename=p.name)
        for i, p in enumerate(photos)
    ]  # fmt: skip
    processor.process_batch(views[:2])  # ExifTool started before timing
    started = time.perf_counter()
    for start in range(0, len(views), BATCH):
        results = processor.process_batch(views[start : start + BATCH])
        assert all(r.found and r.found.tags for r in results.values())
    seconds = time.perf_counter() - started
    processor.close()
    return seconds


def rescan_seconds(root: Path, settings: Any) -> float:
    from trove.services.scanner import ScanService

    scanner = ScanService(settings)
    scanner.scan(root)
    times = []
    for _ in range(RESCANS):
        started = time.perf_counter()
        summary = scanner.scan(root)
        times.append(time.perf_counter() - started)
        assert summary.new == 0 and summary.changed == 0
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=400)
    args = parser.parse_args()

    from trove.config import Settings

    work = Path(tempfile.mkdtemp(prefix="trove-bench-sidecars-"))
    try:
        with_xmp = make_library(work / "with", args.photos, sidecars=True)
        make_library(work / "without", args.photos, sidecars=False)
        xmp = [f"{p}.xmp" for p in with_xmp]
        started = time.perf_counter()
        subprocess.run(
            ["exiftool", "-G", "-n", "-json", "-struct", "-fast", *xmp],
            check=True, stdout=subprocess.DEVNULL, timeout=600,
        )  # fmt: skip
        exiftool = time.perf_counter() - started
        settings = Settings(data_dir=work / "data", auth=False)
        step = step_seconds(with_xmp, settings)
        rescan_with = rescan_seconds(work / "with", Settings(data_dir=work / "d1", auth=False))
        rescan_without = rescan_seconds(
            work / "without", Settings(data_dir=work / "d2", auth=False)
        )
        started = time.perf_counter()
        subprocess.run(["find", str(work / "with")], check=True, stdout=subprocess.DEVNULL)
        find = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = args.photos
    rows = [
        ("exiftool -json -struct, one process (baseline)", exiftool, n),
        ("trove sidecar step, batches of 64", step, n),
        ("unchanged rescan, photos + sidecars", rescan_with, 2 * n),
        ("unchanged rescan, photos only (baseline)", rescan_without, n),
        ("find over photos + sidecars (baseline)", find, 2 * n),
    ]
    print(f"{'what':<50} {'seconds':>8} {'ms/file':>8}")
    for name, seconds, files in rows:
        print(f"{name:<50} {seconds:>8.3f} {seconds * 1000 / files:>8.3f}")
    print(f"step / exiftool: {step / exiftool:.2f}x; rescan with / without sidecars: "
          f"{rescan_with / rescan_without:.2f}x")  # fmt: skip
    report = {
        "revision": git_revision(),
        "machine": machine_info(),
        "photos": n,
        "seconds": {name: round(seconds, 4) for name, seconds, _ in rows},
        "ratios": {
            "step_vs_exiftool": round(step / exiftool, 3),
            "rescan_with_vs_without_sidecars": round(rescan_with / rescan_without, 3),
        },
    }
    print(json.dumps(report, indent=2))
    write_results("sidecars", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
