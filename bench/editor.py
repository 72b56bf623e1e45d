"""Editor benchmark: rendering a crop + rotate (with straighten) + adjust edit list on a 12 MP
JPEG through Trove's EditService, beside the same operations written with Pillow alone,
measured in the same run.

    .venv/bin/python bench/editor.py [--runs 5] [--megapixels 12]

Per run, each timed separately (median and min over `--runs`, after one untimed warm-up):
  * baseline, Pillow alone: open, EXIF transpose, crop, quarter turn, straighten (bicubic
    rotate + centre crop), ImageEnhance brightness / contrast / colour, save JPEG q92;
  * trove render: the same list through Trove's decoder and renderer (pipeline/imaging.py,
    pipeline/editing.py) to the encoded JPEG, without the cache or the database;
  * trove save: `EditService.save` end to end, as PUT /api/dam/assets/{id}/edits does it:
    render, the three WebP previews, the proxy, the history row (each run's list differs a
    little, so no run is answered from the render cache).
Each is given as wall time and as CPU time of this process (the steadier figure on a shared
machine). Output: the table on stdout, the JSON report after it and in
bench/results/editor-<time>.json.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src"), str(REPO / "bench")]

from _common import git_revision, machine_info, write_results  # noqa: E402

CROP = [0.1, 0.1, 0.8, 0.8]
DEGREES, STRAIGHTEN = 90, 3.0
ADJUST = {"exposure": 0.3, "contrast": 0.1, "saturation": -0.2, "temperature": 0.2}


def edit_list(run: int) -> list[dict[str, Any]]:
    return [
        {"op": "crop", "box": CROP},
        {"op": "rotate", "degrees": DEGREES, "straighten": STRAIGHTEN},
        {"op": "adjust", **ADJUST, "tint": round(0.001 * run, 3)},  # a new render every run
    ]


def make_photo(path: Path, megapixels: float) -> tuple[int, int]:
    """A camera-like 4:3 JPEG: gradients with noise, so that it compresses like a photo."""
    from PIL import Image

    width = int(math.sqrt(megapixels * 1e6 * 4 / 3))
    height = width * 3 // 4
    noise = Image.effect_noise((width, height), 40).convert("L")
    red = Image.linear_gradient("L").resize((width, height))
    blue = red.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    Image.merge("RGB", (red, noise, blue)).save(path, "JPEG", quality=90)
    return width, height


def pillow_alone(path: Path) -> bytes:
    from PIL import Image, ImageEnhance, ImageOps

    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened) or opened
        image.load()
    x, y, w, h = CROP
    image = image.crop(
        (
            round(x * image.width),
            round(y * image.height),
            round((x + w) * image.width),
            round((y + h) * image.height),
        )
    )
    image = image.transpose(Image.Transpose.ROTATE_270)
    angle = math.radians(STRAIGHTEN)
    cos, sin = abs(math.cos(angle)), abs(math.sin(angle))
    scale = min(
        image.width / (image.width * cos + image.height * sin),
        image.height / (image.width * sin + image.height * cos),
    )
    turned = image.rotate(-STRAIGHTEN, resample=Image.Resampling.BICUBIC)
    width, height = int(image.width * scale), int(image.height * scale)
    left, top = (image.width - width) // 2, (image.height - height) // 2
    image = turned.crop((left, top, left + width, top + height))
    image = ImageEnhance.Brightness(image).enhance(2 ** ADJUST["exposure"])
    image = ImageEnhance.Contrast(image).enhance(1 + ADJUST["contrast"])
    image = ImageEnhance.Color(image).enhance(1 + ADJUST["saturation"])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def timed(action: Callable[[int], Any], runs: int) -> dict[str, Any]:
    """Wall time, and this process's CPU time beside it: on a machine shared with other work
    the CPU seconds are what the render costs, the wall seconds what a user waited."""
    action(-1)  # warm-up: imports, first decode
    samples, cpu = [], []
    for run in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        action(run)
        samples.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return {
        "median_s": round(statistics.median(samples), 4),
        "min_s": round(min(samples), 4),
        "runs_s": [round(s, 4) for s in samples],
        "cpu_median_s": round(statistics.median(cpu), 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--megapixels", type=float, default=12.0)
    args = parser.parse_args()

    from trove.config import Settings
    from trove.domain import edits as edit_domain
    from trove.domain.access import Viewer
    from trove.domain.filters import AssetFilters
    from trove.pipeline import editing, imaging
    from trove.pipeline.processor import AssetView
    from trove.services.container import Services

    with tempfile.TemporaryDirectory(prefix="trove-bench-editor-") as tmp:
        library = Path(tmp) / "library"
        library.mkdir()
        photo = library / "photo.jpg"
        size = make_photo(photo, args.megapixels)
        settings = Settings(data_dir=Path(tmp) / "data", watch=False)
        services = Services.create(settings)
        try:
            services.library.scan_and_process([str(library)], wait=True)
            listed = services.assets.list(AssetFilters(), viewer=Viewer.system()).items
            (item,) = [i for i in listed if i["filename"] == "photo.jpg"]
            asset_id, content_hash = item["id"], item["hash"]
            imaging.configure(settings)
            view = AssetView(
                id=asset_id,
                path=photo,
                size=photo.stat().st_size,
                mtime_ns=None,
                mime_type="image/jpeg",
                asset_type="image",
                hash=content_hash,
                filename=photo.name,
            )

            def trove_render(run: int) -> bytes:
                ops = edit_domain.parse(edit_list(run))
                image = imaging.decode(view, settings, box=1 << 20)
                return editing.encode(editing.apply(image, ops)).data

            def trove_save(run: int) -> None:
                services.edits.save(asset_id, edit_list(run + 100), viewer=Viewer.system())

            results = {
                "pillow_alone": timed(lambda _run: pillow_alone(photo), args.runs),
                "trove_render": timed(trove_render, args.runs),
                "trove_save": timed(trove_save, args.runs),
            }
            output = services.edits.get(asset_id, viewer=Viewer.system())
        finally:
            services.database.dispose()  # the indexer was never started
    report = {
        "benchmark": "editor",
        "photo": {"width": size[0], "height": size[1], "megapixels": args.megapixels},
        "edits": edit_list(0),
        "runs": args.runs,
        "results": results,
        "history_rows": len(output["history"]),
        "git": git_revision(),
        "machine": machine_info(),
    }
    baseline = results["pillow_alone"]["median_s"]
    print(f"\n== editor: {size[0]}x{size[1]} JPEG, crop + rotate 90 + straighten 3 + adjust ==")
    print(f"{'':28}{'median':>10}{'min':>10}{'CPU':>10}{'vs Pillow':>11}")
    for name, label in (
        ("pillow_alone", "Pillow alone (baseline)"),
        ("trove_render", "Trove render"),
        ("trove_save", "Trove save (+ previews, DB)"),
    ):
        r = results[name]
        print(
            f"{label:28}{r['median_s']:>9.3f}s{r['min_s']:>9.3f}s{r['cpu_median_s']:>9.3f}s"
            f"{r['median_s'] / baseline:>10.2f}x"
        )
    print(json.dumps(report, indent=2))
    write_results("editor", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
