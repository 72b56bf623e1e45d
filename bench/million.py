"""The real run of issue 14 item 2: a large library indexed by `trove serve` and Redis workers,
or by `trove serve` alone on SQLite (the single-machine case).

    .venv/bin/python bench/million.py [--stages 100000,300000,1000000] [--photos 200]
        [--database-url postgresql://postgres@127.0.0.1:5432/trove_realrun]
        [--broker redis://127.0.0.1:6379/0] [--workers 2] [--processes 1] [--nice 10]
    .venv/bin/python bench/million.py --database-url sqlite:////path/to/trove.db --workers 0

With `--workers 0` there is no broker (TROVE_BROKER_URL unset): the server's in-process
pipeline (TaskIQ's InMemoryBroker, TROVE_PIPELINE_THREADS batches at once) processes what its
scans register. `--database-url sqlite` is Trove's default file, `<data>/state/trove.db`.

The library grows in stages, each a root of its own under `--data` (`part-1` holds the first
stage's files, `part-2` the next stage's new ones, ...; `photos` holds `--photos` 12 MP JPEGs,
added with the first stage), made by bench/corpus.py (`--profile`, default `text`: notes,
READMEs, CSV and JSON; `small` adds 5 % one-page PDFs and 5 % small PNGs, which OCR and
thumbnails make cost ~0.7 s of CPU each; generated once, reused while `corpus-<part>.json` is
there). One `trove serve` and `--workers` x `trove worker --processes N` (PostgreSQL + Redis;
none with `--workers 0`) run for the whole benchmark; each stage adds its root through
`POST /api/dam/roots`, and is timed until registration ends (the root's scan) and until
nothing is left `processing`. Then, with the server still up, an unchanged
`trove scan --no-wait` of every root so far alternates with `find -printf` over the same
folders.

Measured per stage, in one run so the ratios are fair on a shared machine:
- registration rate (new files / the new root's scan time) and full pipeline rate (new files /
  time from the request until none is processing);
- CPU seconds of the server, the workers and this database's PostgreSQL backends, per asset
  (on SQLite there are none: reported as absent, `null`, with the database file's size);
- the peak RSS of the server and of every worker process (sampled each second from /proc);
- `/api/dam/status` and `/api/dam/jobs` latency, polled every 2 s while the stage runs;
- baselines: `find` over the same roots; `file --mime-type -b` + `openssl dgst -sha256` over a
  sample of the stage's new files (`--sample`), in `--workers` x `--processes` shares (the
  in-process pipeline's threads with `--workers 0`), projected to the stage.

Everything runs under `nice -n --nice`. Prints a table and the JSON report (also written to
bench/results/million-<UTC>.json). The database is dropped and created at the start (SQLite:
the file and its -wal and -shm are deleted).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import git_revision, machine_info, percentiles, timed_run, write_results

REPO = Path(__file__).resolve().parent.parent
TROVE = REPO / ".venv" / "bin" / "trove"
PYTHON = REPO / ".venv" / "bin" / "python"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- corpus ----------------------------------------------------------------------------------


def ensure_part(data: Path, name: str, count: int, *, profile: str, seed: int, nice: int) -> Path:
    """bench/corpus.py output in `data/library/<name>`, with its summary beside the library
    (written last: a part without one is regenerated)."""
    library, summary = data / "library" / name, data / f"corpus-{name}.json"
    if (
        summary.exists()
        and library.is_dir()
        and json.loads(summary.read_text()).get("files") == count
    ):
        return library
    shutil.rmtree(library, ignore_errors=True)
    log(f"generating {count} {profile} files in {library} ...")
    out = subprocess.run(
        ["nice", "-n", str(nice), str(PYTHON), str(REPO / "bench" / "corpus.py"), str(library),
         "--count", str(count), "--profile", profile, "--seed", str(seed), "--json"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    summary.write_text(out.stdout)
    return library


# --- processes -------------------------------------------------------------------------------


def read_proc(pid: int) -> tuple[float, int] | None:
    """(user + system CPU seconds, RSS bytes) from /proc, or None once the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
    except (OSError, IndexError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks, int(statm[1]) * os.sysconf("SC_PAGE_SIZE")


def descendants(pid: int) -> list[int]:
    import psutil

    try:
        return [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
    except psutil.Error:
        return []


def database_backends(database: str) -> list[int]:
    """PostgreSQL backends serving `database` (their title names it)."""
    import psutil

    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if cmdline and cmdline[0].startswith("postgres:") and f" {database} " in cmdline[0]:
            found.append(process.pid)
    return found


class Sampler:
    """Each second: RSS and CPU time of every process of each role (server, worker-1...,
    postgres). Peak RSS per role and per process; CPU time per process (the last reading)."""

    def __init__(self, roles: dict[str, int], database: str | None) -> None:
        self.roles, self.database = roles, database
        self.cpu: dict[int, float] = {}
        self.role_of: dict[int, str] = {}
        self.peak_rss: dict[int, int] = {}
        self.window_peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        pids: dict[int, str] = {}
        for role, root in self.roles.items():
            for pid in descendants(root):
                pids[pid] = role
        for pid in database_backends(self.database) if self.database else ():
            pids[pid] = "postgres"
        with self._lock:
            for pid, role in pids.items():
                reading = read_proc(pid)
                if reading is None:
                    continue
                cpu, rss = reading
                self.role_of[pid] = role
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu)
                self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), rss)
                self.window_peak[pid] = max(self.window_peak.get(pid, 0), rss)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.sample()
            except Exception as exc:  # a sampler error must not stop the run
                log(f"sampler: {exc!r}")

    def cpu_by_role(self) -> dict[str, float]:
        self.sample()
        with self._lock:
            totals: dict[str, float] = {}
            for pid, cpu in self.cpu.items():
                role = self.role_of[pid].split("-")[0]
                totals[role] = totals.get(role, 0.0) + cpu
            return totals

    def take_window(self) -> dict[str, Any]:
        """Peak RSS (MB) of each process since the last call, keyed `role:pid`."""
        with self._lock:
            peaks = {
                f"{self.role_of[pid]}:{pid}": round(rss / 2**20, 1)
                for pid, rss in sorted(self.window_peak.items())
                if self.role_of[pid] != "postgres"
            }
            self.window_peak.clear()
        return peaks


class Poller:
    """GET /api/dam/status and /api/dam/jobs every 2 s (as the UI does), timing each."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.latencies: dict[str, list[float]] = {"status": [], "jobs": []}
        self.last_status: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.latencies = {"status": [], "jobs": []}
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread:
            self._thread.join()
        return {name: percentiles(values) for name, values in self.latencies.items()}

    def _run(self) -> None:
        while not self._stop.wait(2.0):
            for name in ("status", "jobs"):
                try:
                    started = time.perf_counter()
                    body = get_json(f"{self.base}/api/dam/{name}")
                    self.latencies[name].append((time.perf_counter() - started) * 1000)
                    if name == "status":
                        self.last_status = body
                except Exception as exc:
                    log(f"poll {name}: {exc!r}")


def get_json(url: str, *, body: dict | None = None, timeout: float = 120.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST" if body else "GET")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def wait_until(check: Any, *, timeout: float, every: float = 1.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting")
        time.sleep(every)


def status(base: str) -> dict[str, Any]:
    return get_json(f"{base}/api/dam/status")


# --- baselines -------------------------------------------------------------------------------


def files_under(folder: Path) -> list[Path]:
    return [Path(d) / f for d, _, names in os.walk(folder) for f in names]


def tools_baseline(files: list[Path], *, workers: int, nice: int) -> dict[str, Any]:
    """`file --mime-type -b` then `openssl dgst -sha256` over every file, `workers` shares in
    parallel, through xargs (bench/pipeline.py's small-files baseline)."""
    import resource

    lists = Path(tempfile.mkdtemp(prefix="trove-million-"))
    shares = []
    for i in range(workers):
        share = lists / f"share-{i}"
        share.write_bytes(b"".join(os.fsencode(f) + b"\0" for f in files[i::workers]))
        shares.append(share)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    running = [
        subprocess.Popen(
            ["nice", "-n", str(nice), "sh", "-c",
             f"xargs -0 -a {share} file --mime-type -b > /dev/null"
             f" && xargs -0 -a {share} openssl dgst -sha256 > /dev/null"],
        )
        for share in shares
    ]  # fmt: skip
    for process in running:
        process.wait()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(lists, ignore_errors=True)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"files": len(files), "seconds": round(seconds, 3), "cpu_s": round(cpu, 3)}


# --- the run ---------------------------------------------------------------------------------


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        raise SystemExit(f"--database-url {url}: a SQLite database file is needed")
    return Path(database)


def sqlite_files(url: str) -> list[Path]:
    path = sqlite_path(url)
    return [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))]


def sqlite_mb(url: str) -> float:
    """The SQLite index's size on disk, its write-ahead log included."""
    return round(sum(f.stat().st_size for f in sqlite_files(url) if f.exists()) / 2**20, 1)


def delete_sqlite(url: str) -> None:
    """A fresh SQLite index: its file, write-ahead log and shared memory deleted."""
    for file in sqlite_files(url):
        file.unlink(missing_ok=True)
    sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)


def recreate_database(url: str) -> str:
    base, name = url.rsplit("/", 1)
    admin = base + "/postgres"
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", admin, "-q", "-c", sql], check=True)
    return name


def redis_flush_queue(url: str, queue: str) -> None:
    host_port = url.split("://", 1)[1].split("/")[0]
    host, _, port = host_port.partition(":")
    keys = [queue, f"{queue}:workers"]
    subprocess.run(["redis-cli", "-h", host, "-p", port or "6379", "DEL", *keys],
                   check=False, capture_output=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stages", default="100000,300000,1000000")
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument(
        "--profile", default="text", help="bench/corpus.py profile of the small files"
    )
    parser.add_argument("--data", type=Path, default=Path("/work/bench-data/million"))
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/trove_realrun",
        help="PostgreSQL (dropped and created), sqlite:////path/to/trove.db (deleted) or"
        " `sqlite` (the data dir's default file)",
    )
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="`trove worker` commands; 0: no broker, the server's in-process pipeline",
    )
    parser.add_argument("--processes", type=int, default=1, help="--processes of each")
    parser.add_argument("--nice", type=int, default=10)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--sample", type=int, default=4000, help="files for the tools baseline")
    parser.add_argument("--repeats", type=int, default=3, help="timed rescans and finds")
    parser.add_argument("--stage-timeout", type=float, default=4 * 3600)
    args = parser.parse_args()

    stages = [int(s) for s in args.stages.split(",")]
    parts: list[tuple[str, int]] = []
    previous = 0
    for i, total in enumerate(stages, 1):
        parts.append((f"part-{i}", total - previous))
        previous = total
    photos = None
    if args.photos:
        photos = ensure_part(args.data, "photos", args.photos, profile="photos", seed=9,
                             nice=args.nice)  # fmt: skip

    state = args.data / "state"
    if args.database_url == "sqlite":
        args.database_url = f"sqlite:///{state / 'trove.db'}"
    # No workers, no broker: the server processes what it registers, in-process.
    broker = args.broker if args.workers > 0 else None
    database: str | None = None  # the PostgreSQL database whose backends are sampled
    if is_sqlite(args.database_url):
        delete_sqlite(args.database_url)
    else:
        database = recreate_database(args.database_url)
    queue = f"trove-million-{os.getpid()}"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    env.update(TROVE_DATA_DIR=str(state), TROVE_DATABASE_URL=args.database_url)
    if broker:
        env.update(TROVE_BROKER_URL=broker, TROVE_BROKER_QUEUE=queue)
    env.update(
        TROVE_AUTH="off",
        TROVE_PORT=str(args.port),
        TROVE_ALLOWED_ROOTS=str(args.data / "library"),
        # Nothing but the stages' own work during the run: no hourly rescan, no bitrot pass,
        # no nightly export.
        TROVE_SCAVENGER_INTERVAL="0",
        TROVE_VERIFY_INTERVAL="0",
        TROVE_EXPORT_KEEP="0",
    )
    nice = ["nice", "-n", str(args.nice)]
    base = f"http://127.0.0.1:{args.port}"
    logs = state / "logs"
    logs.mkdir()
    processes: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(role: str, command: list[str]) -> None:
        out = open(logs / f"{role}.log", "wb")  # noqa: SIM115 - closed with the process
        processes[role] = subprocess.Popen(
            [*nice, str(TROVE), *command], env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip

    report: dict[str, Any] = {
        "benchmark": "million",
        "machine": machine_info(),
        "git": git_revision(),
        "options": {k: str(v) for k, v in vars(args).items()},
        "database": "sqlite" if database is None else "postgresql",
        "pipeline": "redis workers" if broker else "in-process",
        "load_before": os.getloadavg(),
        "stages": [],
    }
    sampler: Sampler | None = None
    poller = Poller(base)
    roots: list[Path] = []
    try:
        spawn("server", ["serve"])
        wait_until(lambda: _answers(base), timeout=300)
        for i in range(args.workers):
            spawn(f"worker-{i + 1}", ["worker", "--processes", str(args.processes)])
        sampler = Sampler({role: p.pid for role, p in processes.items()}, database)
        sampler.start()
        time.sleep(5)
        done = 0
        for number, (part, count) in enumerate(parts, 1):
            folder = ensure_part(args.data, part, count, profile=args.profile, seed=number,
                                 nice=args.nice)  # fmt: skip
            new_roots = [folder] + ([photos] if photos and number == 1 else [])
            roots += new_roots
            new_files = count + (args.photos if number == 1 else 0)
            log(f"stage {number}: {part} ({new_files} new files, {done + new_files} in all)")
            stage = run_stage(
                args, base, sampler, poller, new_roots, roots, new_files, done, nice, broker, env
            )
            stage.update(stage=number, part=part, total_files=done + new_files)
            done += new_files
            report["stages"].append(stage)
            print_stage(stage)
            path = write_results("million", report)
            log(f"partial results: {path}")
    finally:
        poller.stop()
        for process in processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if sampler:
            sampler.stop()
        if broker:
            redis_flush_queue(broker, queue)
    report["load_after"] = os.getloadavg()
    path = write_results("million", report)
    print(json.dumps(report, indent=2))
    print_table(report)
    log(f"results: {path}")
    return 0


def _answers(base: str) -> bool:
    try:
        status(base)
        return True
    except Exception:
        return False


def run_stage(
    args: argparse.Namespace,
    base: str,
    sampler: Sampler,
    poller: Poller,
    new_roots: list[Path],
    roots: list[Path],
    new_files: int,
    done_before: int,
    nice: list[str],
    broker: str | None,
    env: dict[str, str],
) -> dict[str, Any]:
    cpu_before = sampler.cpu_by_role()
    sampler.take_window()
    load_before = os.getloadavg()
    poller.start()
    started = time.perf_counter()
    for root in new_roots:
        get_json(f"{base}/api/dam/roots", body={"path": str(root)})

    def scanned() -> bool:
        indexer = (poller.last_status or {}).get("indexer") or {}
        return all(str(r) in indexer.get("last_scans", {}) for r in new_roots)

    wait_until(scanned, timeout=args.stage_timeout)
    registered_at = time.perf_counter() - started
    last = poller.last_status["indexer"]["last_scans"]
    scan_s = sum(last[str(r)]["elapsed_s"] for r in new_roots)

    def processed() -> bool:
        body = poller.last_status
        ready = body.get("by_status", {})
        finished = sum(ready.get(s, 0) for s in ("ready", "error"))
        return (
            ready.get("processing", 0) == 0
            and finished >= done_before + new_files
            and not body["indexer"]["running"]
            and not body["indexer"]["queued"]
        )

    wait_until(processed, timeout=args.stage_timeout)
    pipeline_s = time.perf_counter() - started
    latencies = poller.stop()
    cpu_after = sampler.cpu_by_role()
    rss = sampler.take_window()
    by_status = poller.last_status.get("by_status", {})
    cpu = {role: round(cpu_after.get(role, 0) - cpu_before.get(role, 0), 1) for role in cpu_after}
    log(f"  registered in {registered_at:.1f} s, processed in {pipeline_s:.1f} s; cpu {cpu}")
    trove_cpu = cpu.get("server", 0) + cpu.get("worker", 0)
    sqlite = sampler.database is None
    database_mb = sqlite_mb(args.database_url) if sqlite else None

    # Baselines and the unchanged rescan, with the server and workers idle. As many shares as
    # batches run at once: one per worker process, or the in-process pipeline's threads.
    if broker:
        shares = args.workers * args.processes
    else:
        from trove.config import load_settings

        shares = max(1, load_settings(environ=env).pipeline_threads)
    population = files_under(new_roots[0])  # the stage's small files, not its photos
    sample = random.Random(0).sample(population, min(args.sample, len(population)))
    tools = tools_baseline(sample, workers=shares, nice=args.nice)
    scale = new_files / max(1, len(sample))
    find_cmd = [*nice, "find", *map(str, roots), "-printf", "%s %T@ %i\n"]
    scan_cmd = [*nice, str(TROVE), "scan", *map(str, roots), "--no-wait", "--json"]
    timed_run(find_cmd, keep_stdout=False)  # warm the page cache
    rescans, finds, scan_cpu, find_cpu, problems = [], [], [], [], []
    for _ in range(args.repeats):
        run = timed_run(scan_cmd, env=env)  # the server's settings: its index and broker
        rescans.append(run.seconds)
        scan_cpu.append(run.cpu_s)
        try:
            summaries = json.loads(run.stdout)
            problems += _rescan_problems(summaries)
        except ValueError:
            problems.append(f"scan exited {run.returncode}: {run.stderr[-500:]}")
        found = timed_run(find_cmd, keep_stdout=False)
        finds.append(found.seconds)
        find_cpu.append(found.cpu_s)
    rescan_s, find_s = statistics.median(rescans), statistics.median(finds)
    return {
        "new_files": new_files,
        "by_status": by_status,
        "registration_s": round(scan_s, 2),
        "registration_files_per_s": round(new_files / scan_s, 1) if scan_s else None,
        "registered_after_s": round(registered_at, 2),
        "pipeline_s": round(pipeline_s, 2),
        "pipeline_files_per_s": round(new_files / pipeline_s, 1),
        "cpu_s": cpu,
        "cpu_ms_per_asset": {
            "trove": round(1000 * trove_cpu / new_files, 3),
            # SQLite runs inside the server: no backends of its own, absent rather than 0.
            "with_postgres": None if sqlite else round(1000 * sum(cpu.values()) / new_files, 3),
        },
        "database_backends": "absent (SQLite, in the server's process)" if sqlite else "postgres",
        "database_file_mb": database_mb,
        "peak_rss_mb": rss,
        "latency": latencies,
        "load": {"before": load_before, "after": os.getloadavg()},
        "tools": {
            **tools,
            "projected_s": round(tools["seconds"] * scale, 1),
            "projected_cpu_s": round(tools["cpu_s"] * scale, 1),
            "cpu_ms_per_file": round(1000 * tools["cpu_s"] / max(1, tools["files"]), 3),
            "shares": shares,
            "ratio_wall": round(pipeline_s / (tools["seconds"] * scale), 2),
        },
        "rescan": {
            "median_s": round(rescan_s, 3),
            "runs_s": [round(s, 3) for s in rescans],
            "cpu_s": [round(s, 2) for s in scan_cpu],
            "find_median_s": round(find_s, 3),
            "find_runs_s": [round(s, 3) for s in finds],
            "find_cpu_s": [round(s, 2) for s in find_cpu],
            "ratio": round(rescan_s / find_s, 2),
            "problems": problems,
        },
    }


def _rescan_problems(summaries: Any) -> list[str]:
    """An unchanged rescan must see every file and change nothing."""
    roots = summaries.get("roots", summaries) if isinstance(summaries, dict) else summaries
    problems = []
    for s in roots if isinstance(roots, list) else []:
        if not isinstance(s, dict):
            continue
        for key in ("new", "changed", "gone", "errors"):
            if s.get(key):
                problems.append(f"{s.get('path')}: {key}={s[key]}")
        if s.get("seen") != s.get("unchanged"):
            problems.append(f"{s.get('path')}: seen {s.get('seen')} != unchanged")
    return problems


def print_stage(stage: dict[str, Any]) -> None:
    log(
        f"  stage {stage['stage']}: {stage['total_files']} files; registration "
        f"{stage['registration_files_per_s']}/s, pipeline {stage['pipeline_files_per_s']}/s "
        f"({stage['tools']['ratio_wall']}x tools), rescan {stage['rescan']['median_s']} s "
        f"({stage['rescan']['ratio']}x find), rss {stage['peak_rss_mb']}"
        + (f", sqlite {stage['database_file_mb']} MB" if stage["database_file_mb"] else "")
    )


def print_table(report: dict[str, Any]) -> None:
    head = (
        f"{'files':>9} {'new':>8} {'reg/s':>7} {'pipe/s':>7} {'x tools':>7} {'cpu ms/a':>8}"
        f" {'+pg':>6} {'rescan s':>8} {'find s':>7} {'ratio':>5} {'srv MB':>7} {'wrk MB':>7}"
        f" {'st p95':>7} {'jobs p95':>8}"
    )
    print(head)
    for s in report["stages"]:
        rss = s["peak_rss_mb"]
        server = max((v for k, v in rss.items() if k.startswith("server")), default=0)
        worker = max((v for k, v in rss.items() if k.startswith("worker")), default="-")
        with_pg = s["cpu_ms_per_asset"]["with_postgres"]
        lat = s["latency"]
        print(
            f"{s['total_files']:>9} {s['new_files']:>8} {s['registration_files_per_s']:>7}"
            f" {s['pipeline_files_per_s']:>7} {s['tools']['ratio_wall']:>7}"
            f" {s['cpu_ms_per_asset']['trove']:>8} {'-' if with_pg is None else with_pg:>6}"
            f" {s['rescan']['median_s']:>8} {s['rescan']['find_median_s']:>7}"
            f" {s['rescan']['ratio']:>5} {server:>7} {worker:>7}"
            f" {lat['status'].get('p95_ms', '-'):>7} {lat['jobs'].get('p95_ms', '-'):>8}"
        )


if __name__ == "__main__":
    sys.exit(main())
