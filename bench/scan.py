"""Scan benchmark: how fast `trove scan` registers a library, and how close an unchanged rescan
comes to the cost of merely listing it with `find`.

For each corpus size it measures, as wall time of the whole CLI process (start-up included):

  a. first scan, registration only, on one core: `taskset -c 0 trove scan ROOT --no-wait --json`
  b. unchanged rescan: `trove scan ROOT --no-wait --json`, median (and min) of --repeats runs;
     then twice without `--no-wait`: the first run also waits for the processing the first
     scan left queued ("backlog wait"), the second shows there is nothing left to wait for
  c. the baseline `find ROOT -printf '%s %T@ %i\\n' > /dev/null`, median of --repeats runs

Targets: rescan median / find median <= 3.0, and first-scan registration >= 5,000 files/s.

With `--postgresql URL` the index is a PostgreSQL database instead of SQLite: for each size,
the database `<URL's name>_<size>` is dropped and created empty (`trove status` then creates
the schema); it is dropped again afterwards unless `--keep`. Beside the wall times, the CPU
time of each rescan and find process is reported (not the PostgreSQL backend's).

Rescans and `find` runs alternate, so that a slow patch on the machine hits both sides of the
ratio rather than one. The page cache is warmed with one untimed `find` first: the targets are
about Trove's own overhead, not about the disk.

Exit status: 0 all good; 1 a scan failed or reported counts that do not match the corpus;
3 the numbers are valid but a target was missed; 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import corpus
from _common import (
    REPO_ROOT,
    drop_database,
    filesystem_type,
    fresh_database,
    git_revision,
    machine_info,
    spread,
    timed_run,
    write_results,
)

DEFAULT_SIZES = (10_000, 100_000)
FIRST_SCAN_MIN_FILES_PER_S = 5_000
RESCAN_MAX_RATIO_TO_FIND = 3.0
FIRST_SCAN_CPU = "0"

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_TARGET_MISSED = 0, 1, 2, 3


def log(message: str) -> None:
    """Progress goes to stderr so that stdout stays table + JSON."""
    print(f"[scan-bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Running trove and find
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanRun:
    """One `trove scan` process: its wall time and what it reported, or why it reported
    nothing usable."""

    seconds: float
    output: Mapping | None
    error: str | None = None
    cpu_s: float = 0.0

    @property
    def summary(self) -> Mapping:
        return (self.output or {}).get("summary") or {}

    @property
    def trove_elapsed_s(self) -> float | None:
        return (self.output or {}).get("elapsed_s")


def parse_scan_output(stdout: str) -> Mapping:
    """`trove scan --json` prints one JSON object. Accept it alone or as the last line, so a
    stray log line before it does not turn a good run into a failure."""
    text = stdout.strip()
    candidates = [text, *reversed(text.splitlines())]
    for candidate in candidates:
        try:
            parsed = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            return parsed
    raise ValueError(f"no JSON object in output: {text[:200]!r}")


def run_scan(
    trove: Sequence[str],
    root: Path,
    *,
    env: Mapping[str, str],
    wait: bool,
    cpu: str | None = None,
) -> ScanRun:
    command = [*trove, "scan", str(root), "--json"]
    if not wait:
        command.insert(-1, "--no-wait")
    if cpu is not None:
        command = ["taskset", "-c", cpu, *command]
    run = timed_run(command, env=env)
    if run.returncode != 0:
        stderr_tail = run.stderr.strip().splitlines()[-5:]
        return ScanRun(
            run.seconds,
            None,
            f"`{shlex.join(command)}` exited {run.returncode}: {' | '.join(stderr_tail)}",
        )
    try:
        return ScanRun(run.seconds, parse_scan_output(run.stdout), cpu_s=run.cpu_s)
    except ValueError as error:
        return ScanRun(run.seconds, None, f"`{shlex.join(command)}`: {error}")


def find_command(root: Path) -> list[str]:
    return ["find", str(root), "-printf", "%s %T@ %i\n"]


def warm_page_cache(root: Path) -> None:
    timed_run(find_command(root), keep_stdout=False)


def warm_trove_startup(trove: Sequence[str]) -> None:
    """One untimed `trove --help`, so the first timed scan does not also pay for compiling
    bytecode and faulting the virtualenv into the page cache: a one-off after install."""
    with tempfile.TemporaryDirectory(prefix="trove-bench-warmup-") as data_dir:
        timed_run([*trove, "--help"], env=trove_env(Path(data_dir)))


def trove_env(data_dir: Path) -> dict[str, str]:
    """The caller's environment without any TROVE_* setting (a TROVE_DATABASE_URL or
    TROVE_CONFIG would point the benchmark at someone's real library), plus a fresh data dir."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TROVE_")}
    env["TROVE_DATA_DIR"] = str(data_dir)
    return env


# --------------------------------------------------------------------------------------------
# Validation: the timings only mean something if trove saw the whole corpus
# --------------------------------------------------------------------------------------------


def check_scan(run: ScanRun, *, label: str, expected: Mapping[str, int]) -> list[str]:
    """Problems with one scan, each a sentence naming the run and the mismatch."""
    if run.error is not None:
        return [f"{label}: {run.error}"]
    summary = run.summary
    problems = [
        f"{label}: summary.{key} is {summary.get(key)!r}, expected {value}"
        for key, value in expected.items()
        if summary.get(key) != value
    ]
    offline = [
        root for root in (run.output or {}).get("roots", []) if root.get("status") != "online"
    ]
    if offline:
        problems.append(f"{label}: roots not online: {offline}")
    if problems and summary.get("skipped"):
        problems.append(f"{label}: skipped files by reason: {summary['skipped']}")
    return problems


def check_repeated_scans(
    runs: Sequence[ScanRun], *, label: str, expected: Mapping[str, int]
) -> list[str]:
    """Like `check_scan`, but a problem every run shares is reported once, with how many runs
    had it, instead of once per run."""
    seen: dict[str, int] = {}
    for run in runs:
        for problem in check_scan(run, label=label, expected=expected):
            seen[problem] = seen.get(problem, 0) + 1
    return [f"{problem} (in {times} of {len(runs)} runs)" for problem, times in seen.items()]


def first_scan_expectations(count: int) -> dict[str, int]:
    return {"seen": count, "new": count, "changed": 0, "errors": 0}


def rescan_expectations(count: int) -> dict[str, int]:
    return {"seen": count, "new": 0, "changed": 0, "unchanged": count, "gone": 0, "errors": 0}


# --------------------------------------------------------------------------------------------
# One corpus size
# --------------------------------------------------------------------------------------------


@dataclass
class SizeResult:
    files: int
    corpus: dict
    data_dir: str | None = None
    database_url: str | None = None
    first_scan: dict | None = None
    rescan: dict | None = None
    backlog_wait: dict | None = None
    rescan_wait: dict | None = None
    find: dict | None = None
    ratio: float | None = None
    targets: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def describe_scan(run: ScanRun) -> dict:
    return {
        "seconds": round(run.seconds, 4),
        "cpu_s": round(run.cpu_s, 4),
        "trove_elapsed_s": run.trove_elapsed_s,
        "summary": run.summary or None,
        "pipeline": (run.output or {}).get("pipeline"),
        "error": run.error,
    }


def bench_size(
    count: int,
    *,
    trove: Sequence[str],
    profile: str,
    seed: int,
    repeats: int,
    keep: bool,
    cache_dir: Path,
    pin_first_scan: bool,
    drain_backlog: bool,
    postgresql: str | None = None,
) -> SizeResult:
    library, summary = corpus.ensure_cached(
        count, profile=profile, seed=seed, cache_dir=cache_dir, log=log
    )
    result = SizeResult(
        files=count,
        corpus={
            "path": str(library),
            "profile": profile,
            "seed": seed,
            "bytes": summary["bytes"],
            "folders": summary["folders"],
            "filesystem": filesystem_type(library),
        },
    )
    log(f"{count} files: warming the page cache")
    warm_page_cache(library)
    data_dir = Path(tempfile.mkdtemp(prefix=f"trove-bench-scan-{count}-"))
    result.corpus["data_dir_filesystem"] = filesystem_type(data_dir)
    env = trove_env(data_dir)
    database_url = fresh_database(postgresql, count) if postgresql else None
    if database_url is not None:
        env["TROVE_DATABASE_URL"] = database_url
        result.corpus["database"] = "postgresql"
    try:
        measure_scans(
            result,
            library=library,
            trove=trove,
            env=env,
            repeats=repeats,
            cpu=FIRST_SCAN_CPU if pin_first_scan else None,
            drain_backlog=drain_backlog,
        )
    finally:
        if keep:
            result.data_dir = str(data_dir)
            result.database_url = database_url
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
            if database_url is not None:
                drop_database(database_url)
    evaluate_targets(result)
    return result


def measure_scans(
    result: SizeResult,
    *,
    library: Path,
    trove: Sequence[str],
    env: Mapping[str, str],
    repeats: int,
    cpu: str | None,
    drain_backlog: bool,
) -> None:
    """Fill `result` with the first scan, then the rescans and find runs. Rescans of a root
    whose first scan failed would mean nothing, so they are skipped then."""
    if measure_first_scan(result, library=library, trove=trove, env=env, cpu=cpu):
        measure_rescans(
            result,
            library=library,
            trove=trove,
            env=env,
            repeats=repeats,
            drain_backlog=drain_backlog,
        )


def measure_first_scan(
    result: SizeResult,
    *,
    library: Path,
    trove: Sequence[str],
    env: Mapping[str, str],
    cpu: str | None,
) -> bool:
    """Time the registration-only first scan; False if it produced no usable report."""
    count = result.files
    # Creating the index (Alembic migrations, once per data dir) is not registration: it is
    # done and timed on its own, so files/s measures stat + MIME + insert.
    log(f"{count} files: creating the empty index (trove status)")
    setup = timed_run([*trove, "status", "--json"], env=env, keep_stdout=False)
    log(f"{count} files: first scan" + (f" pinned to CPU {cpu}" if cpu is not None else ""))
    first = run_scan(trove, library, env=env, wait=False, cpu=cpu)
    result.first_scan = describe_scan(first)
    result.first_scan["index_creation_s"] = round(setup.seconds, 3)
    result.problems += check_scan(
        first, label="first scan", expected=first_scan_expectations(count)
    )
    if first.error is not None:
        return False
    result.first_scan["files_per_s"] = round(count / first.seconds, 1)
    # On a shared machine the wall time depends on the neighbours; files per CPU second of
    # the pinned process does much less (start-up and index reading included in both).
    result.first_scan["files_per_cpu_s"] = round(count / max(first.cpu_s, 1e-9), 1)
    return True


def measure_rescans(
    result: SizeResult,
    *,
    library: Path,
    trove: Sequence[str],
    env: Mapping[str, str],
    repeats: int,
    drain_backlog: bool,
) -> None:
    """Alternate timed rescans with timed finds; with `drain_backlog`, then two rescans that
    wait (since the media pipeline, draining 100k files takes many minutes): the first also
    waits for the processing the registration-only first scan left queued (the backlog), the
    second shows that afterwards an unchanged rescan has nothing to wait for. No ratio is
    computed if a rescan failed: the time to crash is not the time to rescan."""
    count = result.files
    rescans, finds = [], []
    for n in range(1, repeats + 1):
        log(f"{count} files: rescan {n}/{repeats} and find {n}/{repeats}")
        rescans.append(run_scan(trove, library, env=env, wait=False))
        finds.append(timed_run(find_command(library), keep_stdout=False))
    expected = rescan_expectations(count)
    result.problems += check_repeated_scans(rescans, label="rescan", expected=expected)
    if drain_backlog:
        log(f"{count} files: rescan without --no-wait, draining the first scan's backlog")
        backlog = run_scan(trove, library, env=env, wait=True)
        log(f"{count} files: rescan without --no-wait, nothing left to wait for")
        waited = run_scan(trove, library, env=env, wait=True)
        result.problems += check_scan(backlog, label="rescan (waiting, backlog)", expected=expected)
        result.problems += check_scan(waited, label="rescan (waiting)", expected=expected)
        result.backlog_wait = describe_scan(backlog)
        result.rescan_wait = describe_scan(waited)
    result.problems += [
        f"find exited {run.returncode}: {run.stderr.strip()[:200]}"
        for run in finds
        if run.returncode != 0
    ]
    result.find = spread([run.seconds for run in finds])
    result.find["cpu_s"] = [round(run.cpu_s, 4) for run in finds]
    if any(run.error is not None for run in rescans):
        return
    result.rescan = spread([run.seconds for run in rescans])
    result.rescan["cpu_s"] = [round(run.cpu_s, 4) for run in rescans]
    result.rescan["cpu_ratio"] = round(
        statistics.median(run.cpu_s for run in rescans)
        / max(statistics.median(run.cpu_s for run in finds), 1e-9),
        2,
    )
    result.rescan["trove_elapsed_s"] = [run.trove_elapsed_s for run in rescans]
    result.rescan["summary"] = rescans[-1].summary or None
    result.ratio = round(result.rescan["median_s"] / result.find["median_s"], 2)


def evaluate_targets(result: SizeResult) -> None:
    if result.first_scan is not None and "files_per_s" in result.first_scan:
        rate = result.first_scan["files_per_s"]
        result.targets["first_scan_files_per_s"] = {
            "value": rate,
            "target": f">= {FIRST_SCAN_MIN_FILES_PER_S}",
            "met": rate >= FIRST_SCAN_MIN_FILES_PER_S,
        }
    if result.ratio is not None:
        result.targets["rescan_ratio_to_find"] = {
            "value": result.ratio,
            "target": f"<= {RESCAN_MAX_RATIO_TO_FIND}",
            "met": result.ratio <= RESCAN_MAX_RATIO_TO_FIND,
        }


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def seconds_cell(value: float | None, best: float | None = None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f} s" if best is None else f"{value:.3f} s ({best:.3f})"


def successful_seconds(scan: Mapping | None) -> float | None:
    """A failed run's time is how long it took to fail: not worth a table cell."""
    if scan is None or scan.get("error") is not None:
        return None
    return scan["seconds"]


def format_table(results: Sequence[SizeResult]) -> str:
    headers = (
        "files",
        "first scan (1 CPU)",
        "files/s",
        "files/cpu s",
        "rescan median (min)",
        "backlog wait",
        "rescan, waiting",
        "find median (min)",
        "rescan/find",
        "cpu ratio",
    )
    rows = [headers]
    for result in results:
        first, rescan, find = result.first_scan or {}, result.rescan or {}, result.find or {}
        rows.append(
            (
                str(result.files),
                seconds_cell(first.get("seconds")),
                f"{first['files_per_s']:.0f}" if "files_per_s" in first else "-",
                f"{first['files_per_cpu_s']:.0f}" if "files_per_cpu_s" in first else "-",
                seconds_cell(rescan.get("median_s"), rescan.get("min_s")),
                seconds_cell(successful_seconds(result.backlog_wait)),
                seconds_cell(successful_seconds(result.rescan_wait)),
                seconds_cell(find.get("median_s"), find.get("min_s")),
                f"{result.ratio:.2f}" if result.ratio is not None else "-",
                f"{rescan['cpu_ratio']:.2f}" if "cpu_ratio" in rescan else "-",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(headers))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def format_verdicts(results: Sequence[SizeResult]) -> list[str]:
    lines = []
    for result in results:
        for name, target in result.targets.items():
            verdict = "met" if target["met"] else "MISSED"
            lines.append(
                f"{result.files} files: {name} = {target['value']} "
                f"(target {target['target']}): {verdict}"
            )
        lines += [
            f"VALIDATION FAILED ({result.files} files): {problem}" for problem in result.problems
        ]
    return lines


def exit_status(results: Sequence[SizeResult]) -> int:
    if any(result.problems for result in results):
        return EXIT_INVALID
    if any(not target["met"] for result in results for target in result.targets.values()):
        return EXIT_TARGET_MISSED
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def default_trove() -> list[str] | None:
    local = REPO_ROOT / ".venv" / "bin" / "trove"
    if local.exists():
        return [str(local)]
    found = shutil.which("trove")
    return [found] if found else None


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        message = f"sizes must be comma-separated integers: {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark `trove scan`: first-scan registration rate and unchanged-rescan "
        "cost relative to `find`.",
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated corpus sizes (default: 10000,100000)",
    )
    parser.add_argument(
        "--trove",
        help="trove command, may include arguments (default: "
        ".venv/bin/trove in the repo if present, else trove on PATH)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the TROVE_DATA_DIR of each size for inspection"
    )
    parser.add_argument(
        "--profile",
        choices=sorted(corpus.PROFILES),
        default="light",
        help="corpus profile (default: light)",
    )
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default: 0)")
    parser.add_argument(
        "--drain-backlog",
        action="store_true",
        help="also time rescans that wait for the whole media pipeline (many minutes at 100k)",
    )
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        help="index into PostgreSQL: for each size the database <URL's name>_<size> is "
        "dropped and created (e.g. postgresql://postgres@127.0.0.1:5432/trove_bench_scan)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed rescans and find runs per size (default: 3)"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=corpus.DEFAULT_CACHE_DIR,
        help="where generated corpora are kept (default: bench/.corpus)",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def resolve_trove(option: str | None) -> list[str] | None:
    command = shlex.split(option) if option else default_trove()
    if not command or shutil.which(command[0]) is None:
        return None
    return command


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    trove = resolve_trove(args.trove)
    if trove is None:
        print(
            "scan: no runnable trove executable; install the project (.venv/bin/trove) or "
            "pass --trove",
            file=sys.stderr,
        )
        return EXIT_USAGE
    pin = shutil.which("taskset") is not None
    if not pin:
        log("taskset not found: the first scan runs unpinned")

    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load_before = os.getloadavg()
    revision = git_revision()  # now, not after the run: the tree may change meanwhile
    warm_trove_startup(trove)
    results = []
    for count in args.sizes:
        try:
            results.append(
                bench_size(
                    count,
                    trove=trove,
                    profile=args.profile,
                    seed=args.seed,
                    repeats=args.repeats,
                    keep=args.keep,
                    cache_dir=args.cache_dir,
                    pin_first_scan=pin,
                    drain_backlog=args.drain_backlog,
                    postgresql=args.postgresql,
                )
            )
        except corpus.CorpusError as error:
            print(f"scan: cannot make the {count}-file corpus: {error}", file=sys.stderr)
            return EXIT_USAGE

    report = {
        "benchmark": "scan",
        "started_at": started_at,
        "trove": {"command": trove, **revision},
        "machine": machine_info(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "settings": {
            "profile": args.profile,
            "seed": args.seed,
            "repeats": args.repeats,
            "database": "postgresql" if args.postgresql else "sqlite",
            "first_scan_pinned_to_cpu": FIRST_SCAN_CPU if pin else None,
        },
        "targets": {
            "first_scan_min_files_per_s": FIRST_SCAN_MIN_FILES_PER_S,
            "rescan_max_ratio_to_find": RESCAN_MAX_RATIO_TO_FIND,
        },
        "results": [vars(result) for result in results],
        "exit_status": exit_status(results),
    }
    path = write_results("scan", report)
    print(json.dumps(report, indent=2))
    print()
    print(format_table(results))
    print(f"load average before/after: {report['load_average']}")
    print()
    print("\n".join(format_verdicts(results)))
    print(f"\nresults written to {path}")
    for result in results:
        if result.data_dir:
            print(f"kept data dir for {result.files} files: {result.data_dir}")
        if result.database_url:
            print(f"kept database for {result.files} files: {result.database_url}")
    return report["exit_status"]


if __name__ == "__main__":
    sys.exit(main())
