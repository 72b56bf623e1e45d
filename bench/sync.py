"""Sync and integrity benchmark (issue 4): the FileWatcher, the scavenger and `trove dupes`.

On a `light` corpus of --size files (default 100,000; cached in bench/.corpus/), hard-linked
into a working tree with 1 % of its files copied (real copies) into `Backup/` so that there
are duplicates to find, it measures:

  a. indexing: `trove scan --no-wait` (registration), then SHA-256 of every file with the
     pipeline's hash step alone (the rest of the media pipeline is issue 3's benchmark)
  b. scavenger: an unchanged `trove scan --no-wait`, median of --repeats, beside
     `find ROOT -printf '%s %T@ %i\\n'` (alternating, page cache warm)
  c. `trove dupes --json` beside `jdupes -r -q ROOT`, median of --repeats; the number of
     groups must agree
  d. the watcher in a real `trove serve`: start-up (process start -> the root is watched;
     and the time spent adding the inotify watches), resident memory with and without
     watching, and the latency from a file being closed to its asset being `ready`, over
     --photos writes of a distinct 12 MP JPEG (~4 MB), one at a time, full pipeline included
  e. a scan that finds a 1 %-of-the-tree folder renamed while Trove was stopped (moves)

Targets: latency median < 2 s; `trove dupes` faster than `jdupes -r`.
Output: a table and one line per target on stdout, the JSON report on stdout and in
bench/results/sync-<UTC timestamp>.json; progress on stderr.
Exit status: 0 all good, 1 a measurement failed validation, 3 a target missed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import corpus
from _common import REPO_ROOT, filesystem_type, git_revision, machine_info, spread, timed_run
from _common import write_results as save_results
from scan import find_command, parse_scan_output, trove_env, warm_page_cache

LATENCY_TARGET_S = 2.0
EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_TARGET_MISSED = 0, 1, 2, 3


def log(message: str) -> None:
    print(f"[sync-bench] {message}", file=sys.stderr, flush=True)


# --- the tree ---------------------------------------------------------------------------------


def working_tree(library: Path, work: Path) -> dict:
    """A hard-linked copy of the cached corpus (cheap, leaves the cache untouched: nothing is
    modified in place), plus real copies of every 100th file under Backup/."""
    if work.exists():
        shutil.rmtree(work)
    started = time.perf_counter()
    subprocess.run(["cp", "-al", str(library), str(work)], check=True)
    files = sorted(
        os.path.relpath(os.path.join(d, n), work) for d, _s, names in os.walk(work) for n in names
    )
    copied = 0
    for rel in files[::100]:
        target = work / "Backup" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(work / rel, target)
        copied += 1
    return {
        "files": len(files) + copied,
        "backup_copies": copied,
        "seconds": round(time.perf_counter() - started, 2),
    }


# --- indexing ---------------------------------------------------------------------------------


def index(trove: Sequence[str], work: Path, env: dict[str, str]) -> dict:
    registered = timed_run([*trove, "scan", str(work), "--no-wait", "--json"], env=env)
    if registered.returncode != 0:
        raise RuntimeError(f"trove scan failed: {registered.stderr[-500:]}")
    summary = parse_scan_output(registered.stdout)["summary"]
    started = time.perf_counter()
    hashed = hash_everything(env)
    return {
        "register_s": round(registered.seconds, 2),
        "registered": summary["new"],
        "hash_s": round(time.perf_counter() - started, 2),
        "hashed": hashed,
    }


def hash_everything(env: dict[str, str]) -> int:
    """The pipeline's SHA-256 step over every pending asset, in a child process (Trove's own
    code, with the benchmark's settings)."""
    code = (
        "from trove.config import load_settings\n"
        "from trove.db.database import Database\n"
        "from trove.pipeline.processors.fingerprint import Sha256Processor\n"
        "from trove.pipeline.service import PipelineService\n"
        "s = load_settings()\n"
        "p = PipelineService(s, Database(s.resolved_database_url), [Sha256Processor()])\n"
        "print(p.run_pending().assets)\n"
    )
    # Big batches: with one cheap step the pipeline's per-batch bookkeeping is what costs.
    batched = {**env, "TROVE_PIPELINE_BATCH_SIZE": "500"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=batched, capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip().splitlines()[-1])


# --- scavenger and dupes ------------------------------------------------------------------------


def scavenger(trove: Sequence[str], work: Path, env: dict[str, str], repeats: int) -> dict:
    scans, finds = [], []
    for _ in range(repeats):
        run = timed_run([*trove, "scan", str(work), "--no-wait", "--json"], env=env)
        summary = parse_scan_output(run.stdout)["summary"]
        if summary["unchanged"] != summary["seen"] or summary["moved"] or summary["new"]:
            raise RuntimeError(f"the tree was not unchanged: {summary}")
        scans.append(run.seconds)
        finds.append(timed_run(find_command(work), keep_stdout=False).seconds)
    result = {"scan": spread(scans), "find": spread(finds)}
    result["ratio"] = round(result["scan"]["median_s"] / result["find"]["median_s"], 2)
    return result


def dupes(trove: Sequence[str], work: Path, env: dict[str, str], repeats: int) -> dict:
    trove_runs, jdupes_runs = [], []
    groups_trove = groups_jdupes = None
    for _ in range(repeats):
        run = timed_run([*trove, "dupes", "--json"], env=env)
        groups_trove = json.loads(run.stdout)["totals"]["groups"]
        trove_runs.append(run.seconds)
        jd = timed_run(["jdupes", "-r", "-q", str(work)])
        groups_jdupes = len([g for g in jd.stdout.split("\n\n") if g.strip()])
        jdupes_runs.append(jd.seconds)
    result = {
        "trove": spread(trove_runs),
        "jdupes": spread(jdupes_runs),
        "groups": {"trove": groups_trove, "jdupes": groups_jdupes},
    }
    result["speedup"] = round(result["jdupes"]["median_s"] / result["trove"]["median_s"], 2)
    return result


# --- the watcher in a real server --------------------------------------------------------------


class Server:
    """`trove serve ROOT` in the background, with helpers to wait on it."""

    def __init__(self, trove: Sequence[str], work: Path, env: dict[str, str], *, watch: bool):
        self.port = _free_port()
        self.env = {
            **env,
            "TROVE_AUTH": "off",  # one local user on loopback: the status polls need no token
            "TROVE_WATCH": "1" if watch else "0",
            "TROVE_SCAVENGER_INTERVAL": "0",
            "TROVE_VERIFY_INTERVAL": "0",
        }
        fd, self.log_path = tempfile.mkstemp(prefix="trove-serve-", suffix=".log")
        self.started = time.perf_counter()
        with os.fdopen(fd, "wb") as log_file:
            self.process = subprocess.Popen(
                [*trove, "serve", str(work), "--port", str(self.port)],
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

    def status(self) -> dict | None:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/api/dam/status", timeout=30
            ) as response:
                return json.load(response)
        except OSError:
            return None

    def wait_for(self, check, *, timeout: float = 600, what: str = "") -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"trove serve exited: {Path(self.log_path).read_text()[-2000:]}")
            if check():
                return time.perf_counter() - self.started
            time.sleep(0.02)
        raise RuntimeError(f"timed out waiting for {what}")

    def idle(self) -> bool:
        status = self.status()
        if not status:
            return False
        indexer = status["indexer"]
        return indexer["running"] is None and not indexer["queued"]

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return float("nan")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.unlink(self.log_path)


def watcher(
    trove: Sequence[str], work: Path, env: dict[str, str], photos: list[bytes], count: int
) -> dict:
    database = Path(env["TROVE_DATA_DIR"]) / "trove.db"
    server = Server(trove, work, env, watch=True)
    try:
        watching_after = server.wait_for(
            lambda: _watch_status(database, work).startswith("watching"), what="watching"
        )
        server.wait_for(server.idle, what="the start-up rescan")
        status = server.status() or {}
        setup_s = (status.get("watcher") or {}).get("setup_s", {}).get(str(work))
        folders = (status.get("watcher") or {}).get("inotify_watches")
        rss_watching = server.rss_mib()
        indexed, latencies = measure_latency(work, database, photos, count)
    finally:
        server.stop()
    plain = Server(trove, work, env, watch=False)
    try:
        plain.wait_for(plain.idle, what="the unwatched server to settle")
        rss_plain = plain.rss_mib()
    finally:
        plain.stop()
    return {
        "startup_to_watching_s": round(watching_after, 3),
        "adding_watches_s": setup_s,
        "inotify_watches": folders,
        "rss_mib_watching": rss_watching,
        "rss_mib_not_watching": rss_plain,
        "latency": _latency_summary(latencies),
        "latency_to_indexed": _latency_summary(indexed),
    }


def measure_latency(
    work: Path, database: Path, photos: list[bytes], count: int
) -> tuple[list[float], list[float]]:
    """Write `count` distinct photos one at a time; for each, the time from close() returning
    to its asset being in the index (the watcher's part: debounce, sync) and to it being
    `ready` (the media pipeline too), polled every 5 ms, read-only."""
    inbox = work / "Inbox"
    inbox.mkdir(exist_ok=True)
    root_id = _root_id(database, work)
    indexed: list[float] = []
    latencies: list[float] = []
    for i in range(count):
        template = photos[i % len(photos)]
        end = corpus.jpeg_header_end(template)
        data = template[:end] + corpus.jpeg_comment_segment(f"bench {i}".encode()) + template[end:]
        rel = f"Inbox/IMG_{i:04d}.jpg"
        with open(work / rel, "wb") as fh:
            fh.write(data)
        closed = time.perf_counter()
        deadline = closed + 60
        seen = None
        while (status := _asset_status(database, root_id, rel)) != "ready":
            if seen is None and status is not None:
                seen = time.perf_counter() - closed
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{rel} not ready within 60 s")
            time.sleep(0.005)
        latencies.append(time.perf_counter() - closed)
        indexed.append(seen if seen is not None else latencies[-1])
        log(f"latency {i + 1}/{count}: indexed {indexed[-1]:.3f} s, ready {latencies[-1]:.3f} s")
    return indexed, latencies


def _latency_summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "files": len(samples),
        "median_s": round(statistics.median(ordered), 3),
        "p95_s": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 3),
        "min_s": round(ordered[0], 3),
        "max_s": round(ordered[-1], 3),
    }


def _watch_status(database: Path, work: Path) -> str:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute(
                "SELECT watch_status FROM roots WHERE path = ?", (str(work),)
            ).fetchone()
    except sqlite3.Error:
        return ""
    return (row[0] or "") if row else ""


def _root_id(database: Path, work: Path) -> str:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT id FROM roots WHERE path = ?", (str(work),)).fetchone()[0]


def _asset_status(database: Path, root_id: str, rel: str) -> str | None:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute(
                "SELECT status FROM assets WHERE root_id = ? AND rel_path = ?", (root_id, rel)
            ).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- moves --------------------------------------------------------------------------------------


def folder_moved_while_stopped(trove: Sequence[str], work: Path, env: dict[str, str]) -> dict:
    (work / "Backup").rename(work / "Backup (moved)")
    run = timed_run([*trove, "scan", str(work), "--no-wait", "--json"], env=env)
    scan = parse_scan_output(run.stdout)["scans"][0]
    return {
        "seconds": round(run.seconds, 3),
        "moved": scan["moved"],
        "new": scan["new"],
        "gone": scan["gone"],
        "hashed_for_moves": scan["hashed_for_moves"],
    }


# --- report -------------------------------------------------------------------------------------


def table(report: dict) -> str:
    s, d, w = report["scavenger"], report["dupes"], report["watcher"]
    m, lat = report["moves"], report["watcher"]["latency"]
    rows = [
        ("measure", "Trove", "baseline"),
        (
            "unchanged rescan (scavenger)",
            f"{s['scan']['median_s']:.3f} s",
            f"find {s['find']['median_s']:.3f} s (x{s['ratio']})",
        ),
        (
            "duplicate groups",
            f"{d['trove']['median_s']:.3f} s ({d['groups']['trove']} groups)",
            f"jdupes -r {d['jdupes']['median_s']:.3f} s ({d['groups']['jdupes']} groups)",
        ),
        (
            "watcher start-up",
            f"{w['startup_to_watching_s']:.2f} s to watching;"
            f" watches added in {w['adding_watches_s']} s",
            f"{w['inotify_watches']} inotify watches",
        ),
        (
            "server memory (RSS)",
            f"{w['rss_mib_watching']} MiB watching",
            f"{w['rss_mib_not_watching']} MiB not watching",
        ),
        (
            f"closed -> ready, {lat['files']} x 12 MP JPEG",
            f"median {lat['median_s']:.3f} s, p95 {lat['p95_s']:.3f} s",
            f"min {lat['min_s']:.3f} s, max {lat['max_s']:.3f} s",
        ),
        (
            "closed -> in the index (watcher only)",
            f"median {report['watcher']['latency_to_indexed']['median_s']:.3f} s,"
            f" p95 {report['watcher']['latency_to_indexed']['p95_s']:.3f} s",
            "debounce after close: TROVE_WATCH_SETTLE",
        ),
        (
            "scan after a folder rename",
            f"{m['seconds']:.3f} s, {m['moved']} moved",
            f"new {m['new']}, gone {m['gone']}, hashed {m['hashed_for_moves']}",
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  ".join(c.ljust(wd) for c, wd in zip(r, widths, strict=True)) for r in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="corpus files (light)")
    parser.add_argument("--photos", type=int, default=50, help="writes timed for latency")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trove", default=None, help="trove command (default .venv/bin/trove)")
    parser.add_argument("--keep", action="store_true", help="keep the working tree and data")
    args = parser.parse_args(argv)
    default = REPO_ROOT / ".venv" / "bin" / "trove"
    trove = args.trove.split() if args.trove else [str(default) if default.exists() else "trove"]
    if shutil.which("jdupes") is None:
        print("jdupes is not installed (apt-get install jdupes)", file=sys.stderr)
        return EXIT_USAGE

    library, _summary = corpus.ensure_cached(args.size, profile="light", log=log)
    photo_root, _ = corpus.ensure_cached(10, profile="photos", log=log)
    photos = [p.read_bytes() for p in sorted(photo_root.rglob("*")) if p.is_file()]
    work = corpus.DEFAULT_CACHE_DIR / f"sync-work-{args.size}"
    data_dir = Path(tempfile.mkdtemp(prefix="trove-bench-sync-"))
    env = trove_env(data_dir)
    report: dict = {
        "benchmark": "sync",
        "git": git_revision(),
        "machine": machine_info(),
        "corpus": {"path": str(library), "size": args.size, "filesystem": filesystem_type(library)},
    }
    try:
        log("working tree (hard links + 1 % real copies)")
        report["tree"] = working_tree(library, work)
        warm_page_cache(work)
        log("indexing: registration, then SHA-256 of every file")
        report["index"] = index(trove, work, env)
        log("scavenger vs find")
        report["scavenger"] = scavenger(trove, work, env, args.repeats)
        log("trove dupes vs jdupes -r")
        report["dupes"] = dupes(trove, work, env, args.repeats)
        log("watcher: start-up, memory, latency")
        report["watcher"] = watcher(trove, work, env, photos, args.photos)
        log("a folder renamed while stopped")
        report["moves"] = folder_moved_while_stopped(trove, work, env)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(data_dir, ignore_errors=True)
    problems = []
    if report["dupes"]["groups"]["trove"] != report["dupes"]["groups"]["jdupes"]:
        problems.append(f"duplicate groups disagree: {report['dupes']['groups']}")
    if report["moves"]["moved"] < report["tree"]["backup_copies"]:
        problems.append(f"folder rename not recognised as moves: {report['moves']}")
    targets = {
        "latency_median_s": {
            "value": report["watcher"]["latency"]["median_s"],
            "target": f"< {LATENCY_TARGET_S}",
            "met": report["watcher"]["latency"]["median_s"] < LATENCY_TARGET_S,
        },
        "dupes_faster_than_jdupes": {
            "value": report["dupes"]["speedup"],
            "target": "> 1.0 (jdupes time / trove time)",
            "met": report["dupes"]["speedup"] > 1.0,
        },
    }
    report["targets"], report["problems"] = targets, problems
    path = save_results("sync", report)
    print(json.dumps(report, indent=2))
    print()
    print(table(report))
    for name, target in targets.items():
        verdict = "met" if target["met"] else "MISSED"
        print(f"target {name}: {target['value']} ({target['target']}): {verdict}")
    for problem in problems:
        print(f"VALIDATION FAILED: {problem}")
    print(f"results: {path}")
    if problems:
        return EXIT_INVALID
    return EXIT_OK if all(t["met"] for t in targets.values()) else EXIT_TARGET_MISSED


if __name__ == "__main__":
    raise SystemExit(main())
