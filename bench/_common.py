"""Helpers shared by the benchmark scripts.

They answer the questions every results file must answer to be comparable with another one
later: which commit, which machine, how a process was timed, and where results go.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"


@dataclass(frozen=True)
class TimedRun:
    """One finished process and its wall time (start-up included, as a user would feel it)."""

    seconds: float
    returncode: int
    stdout: str
    stderr: str
    # User + system seconds of the process and its children: on a shared machine the wall
    # time swings with the neighbours' load, the CPU time much less.
    cpu_s: float = 0.0


def timed_run(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    keep_stdout: bool = True,
) -> TimedRun:
    """Run `command` to completion and time it with a monotonic clock around the whole process.

    With `keep_stdout=False` output goes to /dev/null, as in `find ... > /dev/null`, so that
    a baseline does not pay for a pipe it would not have in the shell.
    """
    import resource

    stdout = subprocess.PIPE if keep_stdout else subprocess.DEVNULL
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        list(command),
        env=None if env is None else dict(env),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return TimedRun(
        seconds, completed.returncode, completed.stdout or "", completed.stderr, cpu_s=cpu_s
    )


def spread(samples: Sequence[float]) -> dict[str, float | list[float]]:
    """Median for the headline (robust to one slow run), min as the best case, and the raw
    runs so that noisy results can be recognised as such later."""
    return {
        "median_s": round(statistics.median(samples), 4),
        "min_s": round(min(samples), 4),
        "runs_s": [round(sample, 4) for sample in samples],
    }


def percentiles(samples_ms: Sequence[float], *, digits: int = 1) -> dict[str, Any]:
    """p50, p95 (nearest rank) and max of latencies in milliseconds; {"n": 0} for none."""
    if not samples_ms:
        return {"n": 0}
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), digits),
        "p95_ms": round(p95, digits),
        "max_ms": round(ordered[-1], digits),
    }


def git_revision(repo: Path = REPO_ROOT) -> dict[str, str | bool | None]:
    """The commit measured, and whether the measured code differed from it."""

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)

    if shutil.which("git") is None:
        return {"commit": None, "dirty": None}
    head = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no", "--", "src", "pyproject.toml")
    return {
        "commit": head.stdout.strip() if head.returncode == 0 else None,
        "dirty": bool(status.stdout.strip()) if status.returncode == 0 else None,
    }


def filesystem_type(path: Path) -> str | None:
    """ext4 vs tmpfs vs overlay changes metadata-heavy timings a lot; record it. findmnt
    names ext4 as such (`stat -f` says "ext2/ext3"); stat is the fallback."""
    for command in (
        ["findmnt", "-n", "-o", "FSTYPE", "-T", str(path)],
        ["stat", "-f", "-c", "%T", str(path)],
    ):
        if shutil.which(command[0]) is None:
            continue
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip():
            return result.stdout.strip()
    return None


def cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def memory_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def machine_info() -> dict[str, object]:
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model(),
        "memory_gib": memory_total_gib(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
    }


def write_results(
    name: str, report: Mapping[str, object], *, results_dir: Path = RESULTS_DIR
) -> Path:
    """Write `report` to `<results_dir>/<name>-<UTC timestamp>.json` (never over an earlier
    file from the same second) and return the path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    path, n = results_dir / f"{stem}.json", 2
    while path.exists():
        path, n = results_dir / f"{stem}-{n}.json", n + 1
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def fresh_database(url: str, count: int) -> str:
    """`<url>_<count>`, dropped if there and created empty."""
    import psycopg

    base, name = url.rsplit("/", 1)
    name = f"{name}_{count}"
    with psycopg.connect(_libpq_url(f"{base}/postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def drop_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(_libpq_url(f"{base}/postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq_url(url: str) -> str:
    """SQLAlchemy's `postgresql+psycopg://...` as libpq takes it (`postgresql://...`)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"
