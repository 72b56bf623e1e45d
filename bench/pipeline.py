"""Pipeline benchmark: Trove's media pipeline against the best standalone tools.

    .venv/bin/python bench/pipeline.py [--photos 120] [--videos 4] [--pdfs 50] [--workers 1,2]
                                       [--pack-entries 500] [--pes 20]
                                       [--modes in-process,redis] [--redis redis://127.0.0.1:6379/0]
    .venv/bin/python bench/pipeline.py --small 20000 [--small-profile small|text] [--workers 2]

Small files (`--small N`): a bench/corpus.py `small` library (text notes, CSV, JSON, Markdown;
5 % one-page PDFs, 5 % small PNGs) or a `text` one, where the cost is per file, not per pixel.
Trove's `trove scan` (registration + the whole pipeline) is timed against the baseline the
issue names: `file --mime-type -b` + `openssl dgst -sha256` over the same files, W shares in
parallel (xargs, many files per process), in the same run. Target: ratio ≤ 2.0. For the
`small` profile, whose PNGs and PDFs Trove also previews and reads text from (OCR), a second
baseline does that same work with the standalone tools (`run_same_work_baseline`), and its
ratio is reported beside the first.

The library: `--photos` 12 MP JPEGs (bench/corpus.py `photos` profile, with EXIF), `--videos`
1080p H.264 clips (two of them MOV, which Trove also transcodes), `--pdfs` text PDFs (a third
of them invoices, a third contracts, for the document_type step), one ZIP texture pack of
`--pack-entries` PNG maps (archive, archive_preview steps) and `--pes` Windows executables
with version info and an icon (app_package step, pefile in a child process each). Cached in
bench/.corpus/pipeline-<photos>-<videos>-<pdfs>-<pack entries>-<pes>/.

For each worker count W in `--workers` (1 runs pinned to one core with taskset, as does its
baseline), and each mode:
- Trove in-process: `trove scan ROOT --json` with TROVE_PIPELINE_THREADS=W, fresh data dir:
  registration + the whole pipeline, start-up included.
- Trove + Redis: W `trove worker` processes (started and warmed before the clock starts), then
  `trove scan ROOT --json` with TROVE_BROKER_URL, which sends the work and waits for it.
- Baseline (run just before and just after each Trove run; the mean of the two is its
  baseline, since these machines' speed drifts within minutes), the same work done by the
  best standalone tools, W processes in parallel over
  halves of the file list: `exiftool -fast -json` (one invocation per share), `vipsthumbnail`
  at 1920, 800 and 200 px to WebP (many files per invocation; PDFs too), one `ffmpeg` per video
  writing the three sizes from one decoded frame, `openssl dgst -sha256` over every file;
  for the composite types `zipinfo -v` over the pack, `unzip -p` of its base colour map into
  `vipsthumbnail`, and pefile in one plain Python process over all executables.

Reported: wall time and CPU time (user + system of the whole process tree: on a shared machine
the wall time swings with the neighbours, the CPU time much less), files/s and MB/s for the
whole pipeline, per step (from the outcomes Trove recorded: busy time per step summed over
workers, so files/s per step is per busy worker), peak RSS of the biggest Trove process and
of the whole tree, and the time ratio Trove / baseline (≤ 1.0: Trove is at least as fast).
Targets: ratio ≤ 1.0; ≥ 7 photos/s with 2 workers in-process; peak RSS per worker < 600 MB.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO_ROOT, git_revision, machine_info, write_results

TROVE = REPO_ROOT / ".venv" / "bin" / "trove"
CORPUS_DIR = REPO_ROOT / "bench" / ".corpus"


# --- the library ---------------------------------------------------------------------------


def build_library(photos: int, videos: int, pdfs: int, *, pack_entries: int, pes: int) -> Path:
    root = CORPUS_DIR / f"pipeline-{photos}-{videos}-{pdfs}-{pack_entries}-{pes}" / "library"
    done = root.parent / "done"
    if done.exists():
        return root
    if root.parent.exists():
        shutil.rmtree(root.parent)
    from corpus import generate, text_pdf

    if photos:
        log(f"generating {photos} photos (12 MP) ...")
        generate(root / "photos", photos, profile="photos", seed=7)
    for i in range(videos):
        suffix = "mov" if i % 2 else "mp4"
        path = root / "videos" / f"clip-{i:02d}.{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration=5,hue=h={i * 40}",
             "-f", "lavfi", "-i", "sine=frequency=330:duration=5",
             "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
             "-shortest", str(path)],
            check=True,
        )  # fmt: skip
    for i in range(pdfs):
        lines = [*DOCUMENT_KINDS[i % 3](i), *(f"Line {n} of a text page." for n in range(30))]
        head, tail = text_pdf([lines, lines[:20]], title=f"doc {i}")
        path = root / "documents" / f"doc-{i:03d}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(head + tail)
    if pack_entries:
        log(f"generating a texture pack of {pack_entries} maps ...")
        write_texture_pack(root / "packs" / "materials.zip", pack_entries)
    for i in range(pes):
        write_pe(root / "apps" / f"setup-{i:02d}.exe", i)
    done.write_text("ok\n")
    return root


DOCUMENT_KINDS = (
    lambda i: [
        "INVOICE", f"Invoice No: INV-{i:05d}", "Date: 2026-03-14", "Bill to: Globex Corporation",
        f"Total due: {100 + i},00 EUR",
    ],
    lambda i: [
        "SERVICE AGREEMENT", "Made by and between Initech LLC", "and Umbrella Corp.",
        "Governing law: Delaware.", f"Contract No: C-{i}",
    ],
    lambda i: [f"Trove benchmark document {i}"],
)  # fmt: skip
MAPS = ("basecolor", "normal", "roughness", "height")


def write_texture_pack(path: Path, entries: int) -> None:
    """`entries` 128 px PNG maps, four per material (base colour, normal, roughness, height)."""
    import io
    import random
    import zipfile

    from PIL import Image

    rng = random.Random(5)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n in range(entries):
            material, kind = divmod(n, len(MAPS))
            noise = Image.effect_noise((128, 128), 40 + rng.random() * 40).convert("RGB")
            tint = Image.new("RGB", (128, 128), tuple(rng.randrange(256) for _ in range(3)))
            buffer = io.BytesIO()
            Image.blend(noise, tint, 0.6).save(buffer, "PNG")
            name = f"material_{material:03d}/material_{material:03d}_{MAPS[kind]}.png"
            archive.writestr(name, buffer.getvalue())


def write_pe(path: Path, index: int) -> None:
    import io

    from PIL import Image

    sys.path.insert(0, str(REPO_ROOT))
    from tests.pe_media import pe_file

    icon = io.BytesIO()
    Image.new("RGB", (48, 48), (index * 12 % 256, 80, 160)).save(icon, "PNG")
    pe_file(
        path,
        strings={
            "ProductName": f"Bench App {index}",
            "CompanyName": "Trove Bench Ltd",
            "FileDescription": "Benchmark installer",
            "ProductVersion": f"1.{index}.0",
        },
        icon_png=icon.getvalue(),
        signed=index % 2 == 0,
    )


def files_of(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# --- measuring -----------------------------------------------------------------------------


class RssSampler:
    """Peak resident memory of a process tree, sampled every 50 ms (psutil)."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.peak_process = 0
        self.peak_tree = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def add(self, pid: int) -> None:
        self.roots.append(pid)

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(0.05):
            total = 0
            for root in list(self.roots):
                try:
                    parent = psutil.Process(root)
                    tree = [parent, *parent.children(recursive=True)]
                except psutil.Error:
                    continue
                for process in tree:
                    try:
                        rss = process.memory_info().rss
                    except psutil.Error:
                        continue
                    total += rss
                    self.peak_process = max(self.peak_process, rss)
            self.peak_tree = max(self.peak_tree, total)


def children_cpu_s() -> float:
    """User + system seconds of every child process waited for so far (descendants too: see
    adopt_orphans)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def adopt_orphans() -> None:
    """Make this process the reaper of its orphaned descendants (Linux). Trove's worker
    processes are children of a fork server, itself a child of `trove scan`, which exits
    without waiting for it: its CPU, and its children's, would reach no one's
    RUSAGE_CHILDREN. Adopted here and waited for (reap_orphans), they count."""
    import ctypes

    pr_set_child_subreaper = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_orphans(keep: set[int], *, timeout_s: float = 30.0) -> None:
    """Wait for the descendants left to this process (a fork server ends once its parent
    has; its workers, already waited for by it, may be adopted first), except the children
    in `keep` (which their Popen waits for). One still there at the deadline is killed."""
    import psutil

    deadline = time.monotonic() + timeout_s
    while orphans := [c for c in psutil.Process().children() if c.pid not in keep]:
        for child in orphans:
            try:
                child.wait(max(0.0, deadline - time.monotonic()))
            except psutil.TimeoutExpired:
                child.kill()
                child.wait()
            except psutil.NoSuchProcess:
                pass


def pinned(workers: int) -> list[str]:
    return ["taskset", "-c", "0"] if workers == 1 and shutil.which("taskset") else []


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    env.update(extra)
    return env


# --- Trove ---------------------------------------------------------------------------------


def run_trove(root: Path, *, workers: int, mode: str, redis_url: str) -> dict:
    data = Path(tempfile.mkdtemp(prefix="trove-bench-pipeline-"))
    env = clean_env(TROVE_DATA_DIR=str(data), TROVE_PIPELINE_THREADS=str(workers))
    worker_procs: list[subprocess.Popen[bytes]] = []
    # Creating the index (migrations, once per data dir) is set-up, not indexing: untimed.
    subprocess.run([str(TROVE), "status"], env=env, capture_output=True, check=True)
    if mode == "redis":
        env.update(TROVE_BROKER_URL=redis_url, TROVE_BROKER_QUEUE=f"bench-{uuid.uuid4().hex[:8]}")
        worker_procs.append(
            subprocess.Popen(
                [*pinned(workers), str(TROVE), "worker", "--processes", str(workers)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        time.sleep(6)  # spawned worker processes import and connect before the clock starts
    try:
        with RssSampler([p.pid for p in worker_procs]) as rss:
            cpu_before = children_cpu_s()
            started = time.perf_counter()
            scan = subprocess.Popen(
                [*pinned(workers), str(TROVE), "scan", str(root), "--json"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            rss.add(scan.pid)
            out, err = scan.communicate()
            seconds = time.perf_counter() - started
            reap_orphans(keep={p.pid for p in worker_procs})
            # The scan process and its worker processes (`trove worker`'s: not counted).
            cpu_s = children_cpu_s() - cpu_before
    finally:
        for process in worker_procs:
            os.killpg(process.pid, 15)
            process.wait(30)
        reap_orphans(keep=set())  # what the workers left (counted in no run's figures)
    if scan.returncode != 0:
        raise SystemExit(f"trove scan exited {scan.returncode}: {err.decode()[-2000:]}")
    report = json.loads(out)
    steps = step_figures(data / "trove.db")
    shutil.rmtree(data, ignore_errors=True)
    return {
        "mode": mode,
        "workers": workers,
        "seconds": round(seconds, 3),
        "cpu_s": round(cpu_s, 3),
        "pipeline": report.get("pipeline"),
        "steps": steps,
        "peak_rss_mb": round(rss.peak_process / 2**20, 1),
        "peak_rss_tree_mb": round(rss.peak_tree / 2**20, 1),
    }


def step_figures(database: Path) -> dict[str, dict]:
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute(
            "SELECT s.step, s.status, count(*), sum(s.duration_ms), sum(a.size)"
            " FROM asset_steps s JOIN assets a ON a.id = s.asset_id GROUP BY s.step, s.status"
        ).fetchall()
    finally:
        connection.close()
    steps: dict[str, dict] = {}
    for step, status, n, ms, size in rows:
        entry = steps.setdefault(step, {"files": 0, "busy_s": 0.0, "bytes": 0, "statuses": {}})
        entry["statuses"][status] = n
        entry["files"] += n
        entry["busy_s"] += (ms or 0) / 1000
        entry["bytes"] += size or 0
    for entry in steps.values():
        busy = entry["busy_s"] or 1e-9
        entry["files_per_busy_s"] = round(entry["files"] / busy, 2)
        entry["mb_per_busy_s"] = round(entry["bytes"] / 2**20 / busy, 1)
        entry["busy_s"] = round(entry["busy_s"], 3)
    return steps


# --- baseline ------------------------------------------------------------------------------


def run_baseline(files: list[Path], *, workers: int) -> dict:
    photos = [f for f in files if f.suffix.lower() in (".jpg", ".jpeg", ".pdf")]
    videos = [f for f in files if f.suffix.lower() in (".mp4", ".mov")]
    out = Path(tempfile.mkdtemp(prefix="trove-bench-baseline-"))
    shares = [files[i::workers] for i in range(workers)]
    photo_shares = [photos[i::workers] for i in range(workers)]
    video_shares = [videos[i::workers] for i in range(workers)]
    timings: dict[str, float] = {}
    cpu_before = children_cpu_s()

    def parallel(name: str, commands: list[list[str]]) -> None:
        started = time.perf_counter()
        running = [
            subprocess.Popen(
                [*pinned(workers), *c], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for c in commands
            if c
        ]
        for process in running:
            process.wait()
        timings[name] = round(time.perf_counter() - started, 3)

    parallel(
        "exiftool",
        [["exiftool", "-fast", "-json", "-G", "-n", *map(str, s)] for s in shares if s],
    )
    started = time.perf_counter()
    for size, name in ((1920, "large"), (800, "medium"), (200, "small")):
        parallel(
            f"vipsthumbnail_{name}",
            [
                ["vipsthumbnail", "-s", f"{size}x{size}", "-o", f"{out}/%s-{name}.webp[Q=80]",
                 *map(str, share)]
                for share in photo_shares
                if share
            ],
        )  # fmt: skip
    timings["vipsthumbnail"] = round(time.perf_counter() - started, 3)
    video_commands = []
    for share in video_shares:
        if not share:
            continue
        script = " && ".join(
            f"ffmpeg -nostdin -v error -y -ss 0.5 -i {v} -frames:v 1 -filter_complex "
            "'split=3[a][b][c];[a]scale=1920:-2[l];[b]scale=800:-2[m];[c]scale=200:-2[s]' "
            f"-map '[l]' -frames:v 1 {out}/{v.stem}-l.webp"
            f" -map '[m]' -frames:v 1 {out}/{v.stem}-m.webp"
            f" -map '[s]' -frames:v 1 {out}/{v.stem}-s.webp"
            for v in share
        )
        video_commands.append(["sh", "-c", script])
    parallel("ffmpeg_frames", video_commands)
    parallel("openssl_sha256", [["openssl", "dgst", "-sha256", *map(str, s)] for s in shares if s])
    packs = [f for f in files if f.suffix.lower() == ".zip"]
    parallel("zipinfo", [["zipinfo", "-v", str(p)] for p in packs])
    parallel(
        "unzip_vipsthumbnail",
        [
            ["sh", "-c", f"unzip -p {p} material_000/material_000_basecolor.png >{out}/base.png"
             f" && vipsthumbnail -s 1920x1920 -o {out}/base-l.webp[Q=80] {out}/base.png"]
            for p in packs
        ],
    )  # fmt: skip
    exes = [str(f) for f in files if f.suffix.lower() == ".exe"]
    script = "import pefile, sys\nfor p in sys.argv[1:]:\n    pefile.PE(p)"
    parallel("pefile", [[sys.executable, "-c", script, *exes]] if exes else [])
    shutil.rmtree(out, ignore_errors=True)
    total = sum(v for k, v in timings.items() if not k.startswith("vipsthumbnail_"))
    cpu_s = round(children_cpu_s() - cpu_before, 3)
    return {"workers": workers, "seconds": round(total, 3), "cpu_s": cpu_s, "parts": timings}


def null_separated(paths: list[Path]) -> bytes:
    """A file list for `xargs -0 -a`: any name, spaces and newlines included."""
    return b"".join(os.fsencode(path) + b"\0" for path in paths)


def run_small_baseline(files: list[Path], *, workers: int) -> dict:
    """`file --mime-type -b` then `openssl dgst -sha256` over every file: W shares in
    parallel, each through xargs (as many files per process as fit on a command line)."""
    lists = Path(tempfile.mkdtemp(prefix="trove-bench-small-"))
    shares = []
    for i in range(workers):
        share = lists / f"share-{i}"
        share.write_bytes(null_separated(files[i::workers]))
        shares.append(share)
    cpu_before = children_cpu_s()
    started = time.perf_counter()
    running = [
        subprocess.Popen(
            [*pinned(workers), "sh", "-c",
             f"xargs -0 -a {share} file --mime-type -b"
             f" && xargs -0 -a {share} openssl dgst -sha256"],
            stdout=subprocess.DEVNULL,
        )
        for share in shares
    ]  # fmt: skip
    for process in running:
        process.wait()
    seconds = time.perf_counter() - started
    cpu_s = children_cpu_s() - cpu_before
    shutil.rmtree(lists, ignore_errors=True)
    return {"workers": workers, "seconds": round(seconds, 3), "cpu_s": round(cpu_s, 3)}


def ocr_candidates(files: list[Path]) -> list[Path]:
    """The files Trove's `ocr` step reads text from, by its own tests (untimed): pictures
    that look like a page of text, and PDFs without a text layer."""
    import pypdfium2
    from PIL import Image

    from trove.pipeline.imaging import fit
    from trove.pipeline.processors.ocr import document_likeness

    chosen = []
    for path in files:
        suffix = path.suffix.lower()
        if suffix == ".png":
            with Image.open(path) as image:
                looks, _signals = document_likeness(fit(image.convert("RGB"), 800))
            if looks:
                chosen.append(path)
        elif suffix == ".pdf":
            document = pypdfium2.PdfDocument(path)
            try:
                page = document[0]
                text = page.get_textpage().get_text_bounded().strip()
            finally:
                document.close()
            if not text:
                chosen.append(path)
    return chosen


def run_same_work_baseline(files: list[Path], *, workers: int, ocr: list[Path]) -> dict:
    """What `trove scan` does to a mixed small-file library, done by the standalone tools: the
    named baseline (`file` + `openssl`), then for the PNGs and PDFs `exiftool -fast -json`,
    `vipsthumbnail` at the three preview sizes (never enlarged), `pdftotext`, and Tesseract
    over the pictures Trove reads text from (`ocr_candidates`; a PDF's page drawn at 300 dpi
    by `pdftocairo` first: `pdftoppm` took 5x its time to scale up a scan's picture). W shares
    in parallel, many files per process where the tool allows."""
    media = [f for f in files if f.suffix.lower() in (".png", ".pdf")]
    out = Path(tempfile.mkdtemp(prefix="trove-bench-same-work-"))
    scripts = []
    for i in range(workers):
        share = out / f"share-{i}"
        share.write_bytes(null_separated(files[i::workers]))
        media_share = out / f"media-{i}"
        media_share.write_bytes(null_separated(media[i::workers]))
        pdf_share = out / f"pdfs-{i}"
        pdf_share.write_bytes(null_separated([f for f in media[i::workers] if f.suffix == ".pdf"]))
        images, pages = [], []
        for n, path in enumerate(ocr[i::workers]):
            if path.suffix.lower() == ".pdf":
                page = out / f"page-{i}-{n}"
                pages.append(f"pdftocairo -q -r 300 -gray -png -f 1 -l 1 -singlefile"
                             f" {shlex.quote(str(path))} {page}")  # fmt: skip
                images.append(f"{page}.png")
            else:
                images.append(str(path))
        (out / f"ocr-{i}").write_text("".join(f"{image}\n" for image in images))
        thumbnails = " && ".join(
            f"xargs -0 -a {media_share} vipsthumbnail -s '{size}x{size}>'"
            f" -o '{out}/%s-{name}.webp[Q=80]'"
            for size, name in ((1920, "large"), (800, "medium"), (200, "small"))
        )
        scripts.append(
            " && ".join(
                [
                    f"xargs -0 -a {share} file --mime-type -b",
                    f"xargs -0 -a {share} openssl dgst -sha256",
                    f"xargs -0 -a {media_share} exiftool -q -fast -json -G -n",
                    thumbnails,
                    f"xargs -0 -a {pdf_share} -I{{}} pdftotext -q {{}} -",
                    *pages,
                    # One thread each: W Tesseracts with OpenMP threads of their own took
                    # 1.8x the time here (its FAQ's advice for parallel runs).
                    f"OMP_THREAD_LIMIT=1 tesseract {out}/ocr-{i} {out}/text-{i} 2>/dev/null"
                    if images
                    else "true",
                ]
            )
        )
    cpu_before = children_cpu_s()
    started = time.perf_counter()
    running = [
        subprocess.Popen([*pinned(workers), "sh", "-c", script], stdout=subprocess.DEVNULL)
        for script in scripts
    ]
    codes = [process.wait() for process in running]
    seconds = time.perf_counter() - started
    cpu_s = children_cpu_s() - cpu_before
    shutil.rmtree(out, ignore_errors=True)
    if any(codes):
        raise SystemExit(f"the same-work baseline failed: exit codes {codes}")
    return {
        "workers": workers,
        "seconds": round(seconds, 3),
        "cpu_s": round(cpu_s, 3),
        "ocr_files": len(ocr),
    }


def bracketing(before: dict, after: dict) -> dict:
    """The baseline of a Trove run: the mean of one run just before it and one just after.
    These machines' speed drifts by 10-30 % within minutes (the same `file` + `openssl` run
    took 4.4 s and 6.6 s a few minutes apart); one baseline run taken before Trove's made
    the ratio swing with it. Both runs are kept in the report."""
    return {
        "workers": before["workers"],
        "seconds": round((before["seconds"] + after["seconds"]) / 2, 3),
        "cpu_s": round((before["cpu_s"] + after["cpu_s"]) / 2, 3),
        "before": before,
        "after": after,
    }


# --- report --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=120)
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--pdfs", type=int, default=50)
    parser.add_argument("--pack-entries", type=int, default=500)
    parser.add_argument("--pes", type=int, default=20)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--modes", default="in-process,redis")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--small", type=int, default=0, help="small-files mode: N files")
    parser.add_argument("--small-profile", choices=("small", "text"), default="small")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each (alternating)")
    args = parser.parse_args()
    if not TROVE.exists():
        print(f"no trove executable at {TROVE}", file=sys.stderr)
        return 2
    adopt_orphans()
    same_work_of = None  # the tools doing Trove's whole work: the mixed small files only
    if args.small:
        from corpus import ensure_cached

        root, _summary = ensure_cached(args.small, profile=args.small_profile, log=log)
        baseline_of = run_small_baseline
        if args.small_profile == "small":
            candidates = ocr_candidates(files_of(root))
            same_work_of = functools.partial(run_same_work_baseline, ocr=candidates)
    else:
        root = build_library(
            args.photos, args.videos, args.pdfs, pack_entries=args.pack_entries, pes=args.pes
        )
        baseline_of = run_baseline
    files = files_of(root)
    total_mb = sum(f.stat().st_size for f in files) / 2**20
    photos = sum(1 for f in files if f.suffix.lower() in (".jpg", ".jpeg"))
    subprocess.run([str(TROVE), "--help"], capture_output=True)  # compile bytecode, untimed
    for f in files:  # warm the page cache, untimed
        f.read_bytes()
    results = []
    load_before = os.getloadavg()
    for workers in (int(w) for w in args.workers.split(",")):
        for repeat in range(1, args.repeats + 1):
            for mode in args.modes.split(","):
                log(f"baseline, trove {mode}, baseline: {workers} worker(s), run {repeat} ...")
                before = baseline_of(files, workers=workers)
                same_before = same_work_of(files, workers=workers) if same_work_of else None
                trove = run_trove(root, workers=workers, mode=mode, redis_url=args.redis)
                baseline = bracketing(before, baseline_of(files, workers=workers))
                if same_work_of:
                    same = bracketing(same_before, same_work_of(files, workers=workers))
                    trove["same_work_baseline"] = same
                    trove["ratio_to_same_work"] = round(trove["seconds"] / same["seconds"], 3)
                    trove["cpu_ratio_to_same_work"] = round(
                        trove["cpu_s"] / max(same["cpu_s"], 1e-9), 3
                    )
                trove["files_per_s"] = round(len(files) / trove["seconds"], 2)
                trove["photos_per_s"] = round(photos / trove["seconds"], 2)
                trove["mb_per_s"] = round(total_mb / trove["seconds"], 1)
                trove["ratio_to_baseline"] = round(trove["seconds"] / baseline["seconds"], 3)
                trove["cpu_ratio_to_baseline"] = round(
                    trove["cpu_s"] / max(baseline["cpu_s"], 1e-9), 3
                )
                results.append({"trove": trove, "baseline": baseline})
    report = {
        "benchmark": "pipeline-small" if args.small else "pipeline",
        "machine": machine_info(),
        "revision": git_revision(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "library": {
            "root": str(root),
            "files": len(files),
            "photos": photos,
            "mb": round(total_mb, 1),
        },
        "runs": results,
    }
    path = write_results("pipeline", report)
    print(json.dumps(report, indent=2))
    print_table(report)
    log(f"results written to {path}")
    return 0


def print_table(report: dict) -> None:
    lib = report["library"]
    print(f"\nlibrary: {lib['files']} files ({lib['photos']} photos 12 MP), {lib['mb']} MB")
    print(f"load average before/after: {report['load_average']}")
    print(f"{'run':<16}{'seconds':>9}{'cpu s':>8}{'files/s':>9}{'photos/s':>9}{'MB/s':>7}"
          f"{'baseline s':>11}{'cpu s':>8}{'ratio':>7}{'cpu ratio':>10}"
          f"{'peak RSS':>10}")  # fmt: skip
    for run in report["runs"]:
        t, b = run["trove"], run["baseline"]
        name = f"{t['mode']} x{t['workers']}"
        print(
            f"{name:<16}{t['seconds']:>9.1f}{t['cpu_s']:>8.1f}{t['files_per_s']:>9.1f}"
            f"{t['photos_per_s']:>9.2f}{t['mb_per_s']:>7.1f}{b['seconds']:>11.1f}"
            f"{b['cpu_s']:>8.1f}{t['ratio_to_baseline']:>7.2f}{t['cpu_ratio_to_baseline']:>10.2f}"
            f"{t['peak_rss_mb']:>7.0f} MB"
        )
    for run in report["runs"]:
        t = run["trove"]
        if "same_work_baseline" in t:
            same = t["same_work_baseline"]
            print(
                f"  the tools doing the same work ({same['before']['ocr_files']} files OCR'd):"
                f" {same['seconds']:.1f} s, {same['cpu_s']:.1f} s CPU;"
                f" ratio {t['ratio_to_same_work']:.2f}, cpu ratio {t['cpu_ratio_to_same_work']:.2f}"
            )
    ratios: dict[str, list[float]] = {}
    for run in report["runs"]:
        name = f"{run['trove']['mode']} x{run['trove']['workers']}"
        ratios.setdefault(name, []).append(run["trove"]["ratio_to_baseline"])
    for name, values in ratios.items():
        print(f"median ratio, {name}: {statistics.median(values):.2f} (of {len(values)} runs)")
    last = report["runs"][-1]["trove"]
    print("\nper step (last run; busy time summed over workers):")
    for step, s in sorted(last["steps"].items(), key=lambda kv: -kv[1]["busy_s"]):
        print(
            f"  {step:<16}{s['files']:>6} files {s['busy_s']:>8.1f} s busy"
            f"{s['busy_s'] * 1000 / max(s['files'], 1):>9.1f} ms/file"
            f"{s['files_per_busy_s']:>9.1f} files/s{s['mb_per_busy_s']:>9.1f} MB/s  {s['statuses']}"
        )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
