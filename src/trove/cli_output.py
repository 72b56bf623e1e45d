"""How the CLI shows progress and results: rich on a terminal, plain text or JSON otherwise."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from trove.domain.paths import display
from trove.services.library import ScanRun
from trove.services.scan_summary import MAX_FAILED_SHOWN, ScanSummary

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from trove.services.assets import AssetPage


class ScanReporter:
    """Live progress on stderr when it is a terminal (files seen, files/s), summary at the end."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        self.live = sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None
        self._pipeline_task: Any = None
        self._started = time.perf_counter()

    def scan_progress(self, summary: ScanSummary) -> None:
        if not self.live:
            return
        progress = self._ensure_progress()
        if self._task is None:
            self._task = progress.add_task("", total=summary.expected or None)
        elapsed = max(time.perf_counter() - self._started, 1e-6)
        description = f"scanning {summary.path}: {summary.seen / elapsed:,.0f} files/s"
        progress.update(self._task, completed=summary.seen, description=description)

    def pipeline_progress(self, pipeline: Any) -> None:
        if not self.live:
            return
        if self._task is None and self._pipeline_task is None:
            self._started = time.perf_counter()
        progress = self._ensure_progress()
        if self._task is not None:
            progress.remove_task(self._task)
            self._task = None
        if self._pipeline_task is None:
            self._pipeline_task = progress.add_task("processing", total=None)
        elapsed = max(pipeline.elapsed_s or (time.perf_counter() - self._started), 1e-6)
        description = f"processing: {pipeline.assets / elapsed:,.0f} assets/s"
        progress.update(self._pipeline_task, completed=pipeline.assets, description=description)

    def _ensure_progress(self) -> Any:
        if self._progress is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
        return self._progress

    def finish(self, run: ScanRun) -> None:
        if self._progress is not None:
            self._progress.stop()
        if self.as_json:
            print(json.dumps(scan_run_dict(run)))
            return
        for summary in run.scans:
            print(_scan_text(summary))
        if run.pipeline is not None:
            p = run.pipeline
            print(
                f"processed {p.assets} assets in {p.elapsed_s:.2f} s:"
                f" {p.ready} ready, {p.errors} with errors{_failed_steps(p.steps)}"
            )


def _failed_steps(steps: dict[str, dict[str, int]]) -> str:
    """The optional steps that failed (a file is still `ready` without its previews), named
    so that a failure does not hide behind "0 with errors"."""
    failed = {step: n["failed"] for step, n in sorted(steps.items()) if n.get("failed")}
    if not failed:
        return ""
    listed = ", ".join(f"{step} {n}" for step, n in failed.items())
    return f"; steps failed: {listed} (`trove status` lists why)"


def scan_run_dict(run: ScanRun) -> dict[str, Any]:
    scans = [s.as_dict() for s in run.scans]
    totals: dict[str, Any] = {"skipped": {}}
    for key in (
        "seen",
        "new",
        "changed",
        "unchanged",
        "gone",
        "returned",
        "moved",
        "errors",
        "failed",
        "folders",
    ):
        totals[key] = sum(s[key] for s in scans)
    for s in scans:
        for reason, n in s["skipped"].items():
            totals["skipped"][reason] = totals["skipped"].get(reason, 0) + n
    return {
        "roots": [
            {
                "path": s["path"],
                "root_id": s["root_id"],
                "status": s["status"],
                "status_message": s["status_message"],
            }
            for s in scans
        ],
        "summary": totals,
        "scans": scans,
        "pipeline": run.pipeline.as_dict() if run.pipeline else None,
        "elapsed_s": round(sum(s["elapsed_s"] for s in scans), 4),
    }


def _scan_text(s: ScanSummary) -> str:
    if s.status != "online":
        return f"{s.path}: OFFLINE — {s.status_message}; nothing in the index was changed"
    rate = s.seen / s.elapsed_s if s.elapsed_s else 0.0
    lines = [
        f"{s.path}: {s.seen} files in {s.folders} folders,"
        f" {s.elapsed_s:.2f} s ({rate:,.0f} files/s)",
        f"  new {s.new}, changed {s.changed}, unchanged {s.unchanged}, gone {s.gone},"
        f" returned {s.returned}, moved {s.moved}, errors {s.errors}",
    ]
    for reason, n in sorted(s.skipped.items()):
        lines.append(f"  skipped {n}: {reason}")
    lines += [f"  not indexed: {failure}" for failure in s.failed_entries[:MAX_FAILED_SHOWN]]
    return "\n".join(lines)


def print_status(status: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(status))
        return
    for warning in status.get("warnings", []):
        print(f"WARNING: {warning}")
    print(f"database: {status['database']}")
    for root in status["roots"]:
        state = root["status"] + (f" ({root['status_message']})" if root["status_message"] else "")
        print(f"root {root['path']}: {state}, last scan {root['last_scan_at'] or 'never'}")
        if root.get("watch_status"):
            print(f"  changes: {root['watch_status']}")
        for failure in root.get("failures", []):
            print(
                f"  failed {failure['step']} x{failure['count']}: {display(failure['message'])}"
                f" (e.g. {display(failure['example'])})"
            )
    print("assets by status: " + _pairs(status["by_status"]))
    print("assets by type:   " + _pairs(status["by_type"]))
    jobs = status.get("jobs")
    if jobs:
        print_jobs(jobs)
    else:
        for step, counts in sorted(status["steps"].items()):
            print(f"step {step}: " + _pairs(counts))


def print_jobs(jobs: dict[str, Any]) -> None:
    """The pipeline per step: queued / running / done / skipped / failed, and throughput."""
    print(
        f"pipeline ({jobs['broker']}): {jobs['processing']} assets processing,"
        f" {jobs['running']} running, {jobs['assets_per_s']:.2f} assets/s"
        f" over the last {jobs['window_s']} s"
    )
    print(
        f"  {'step':<12}{'queued':>8}{'running':>8}{'done':>8}{'skipped':>8}{'failed':>8}"
        f"{'per min':>9}{'avg ms':>9}"
    )
    for name, s in jobs["steps"].items():
        avg = "" if s["avg_ms"] is None else f"{s['avg_ms']:.1f}"
        print(
            f"  {name:<12}{s['queued']:>8}{s['running']:>8}{s['done']:>8}{s['skipped']:>8}"
            f"{s['failed']:>8}{s['per_minute']:>9.1f}{avg:>9}"
        )


def print_duplicates(report: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report))
        return
    totals = report["totals"]
    print(
        f"{totals['groups']} groups of identical files, {totals['files']} files;"
        f" {totals['wasted_bytes']:,} bytes held more than once (nothing is removed)"
    )
    for group in report["items"]:
        print(f"{group['hash'][:16]}  {group['count']} x {group['size']:,} bytes")
        for copy in group["assets"]:
            print(f"    {display(os.path.join(copy['root_path'], copy['path']))}")


def print_verify(report: Any, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict()))
        return
    print(
        f"verified {report.checked} files ({report.bytes_read:,} bytes, {report.elapsed_s:.2f} s,"
        f" {report.mb_per_s:.1f} MB/s): {report.ok} intact, {len(report.corrupted)} corrupted,"
        f" {report.changed} changed since indexed (trove scan), {report.unreadable} unreadable"
        + (" -- interrupted" if report.interrupted else "")
    )
    for item in report.rewritten:
        print(f"REWRITTEN {display(item['path'])}: same size and date, new bytes; indexed again")
    for item in report.corrupted:
        print(
            f"CORRUPTED {display(item['path'])}: expected {item['expected_hash'][:16]},"
            f" found {item['actual_hash'][:16]}"
        )


def print_gc(report: Any, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict()))
        return
    verb = "would remove" if report.dry_run else "removed"
    print(
        f"{verb} {report.removed} orphaned cache entries ({report.removed_bytes:,} bytes);"
        f" kept {report.kept} in use and {report.kept_recent} recent"
    )
    for name in report.left_alone:
        print(f"  left alone (not a cache entry): {name}")


def print_export(written: Mapping[str, int], *, out: Path | None) -> None:
    """The count of what was written; on stderr when the export itself went to stdout."""
    counts = ", ".join(f"{n} {kind}s" for kind, n in written.items() if kind != "header")
    where = f" to {out}" if out is not None else ""
    print(f"exported {counts or 'nothing'}{where}", file=sys.stderr if out is None else sys.stdout)


def print_import(report: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report))
        return
    matched = ", ".join(f"{n} {kind}s" for kind, n in report["matched"].items())
    print(f"restored {matched or 'nothing'}")
    if report["unmatched"]:
        missed = ", ".join(f"{n} {kind}s" for kind, n in report["unmatched"].items())
        print(f"not found here: {missed}")
        for ref in report["unmatched_refs"]:
            print(f"  {ref}")


def print_relocated(done: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(done))
        return
    print(
        f"relocated {done['name']}: {done['old_path']} -> {done['new_path']} "
        f"({done['matched']} of {done['sampled']} sampled files matched; "
        f"{done['assets']} records kept their ids)"
    )


def print_xmp(report: dict[str, Any]) -> None:
    skipped = ", ".join(f"{n} {why}" for why, n in report["skipped"].items())
    print(f"wrote {report['written']} XMP sidecars" + (f"; skipped {skipped}" if skipped else ""))
    for problem in report["failed"]:
        print(f"  failed: {problem}", file=sys.stderr)


def print_backup(result: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
        return
    print(
        f"backed up to {result['path']} ({result['size']:,} bytes, {result['method']},"
        f" {result['elapsed_s']:.2f} s)"
    )


def print_assets(page: AssetPage, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"items": page.items, "next_cursor": page.next_cursor}))
        return
    for item in page.items:
        size = "" if item["size"] is None else f"{item['size']:>12,}"
        print(
            f"{item['id']}  {item['asset_type']:<10} {item['status']:<10} {size:>12}  "
            f"{display(item['path'] or item['filename'])}"
        )
    if page.next_cursor:
        print(f"-- more: --cursor {page.next_cursor}", file=sys.stderr)


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def print_path(path: dict[str, Any], *, as_json: bool) -> None:
    """Node by node, each link between them drawn the way it points."""
    if as_json:
        print(json.dumps(path))
        return
    nodes, edges = path["nodes"], path["edges"]
    for index, node in enumerate(nodes):
        kind = node["asset"]["asset_type"] if node["asset"] else node["type"]
        print(f"{node['name']}  ({kind} {node['id']})")
        if index < len(edges):
            edge = edges[index]
            arrow = (
                f"  --{edge['relation']}-->"
                if edge["direction"] == "forward"
                else (f"  <--{edge['relation']}--")
            )
            print(arrow)


def print_albums(tree: list[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"items": tree}))
        return
    if not tree:
        print("no albums yet (make one in the web UI, or POST /api/dam/albums)")
        return

    def show(nodes: list[dict[str, Any]], prefix: str) -> None:
        for i, node in enumerate(nodes):
            last = i == len(nodes) - 1
            count = f"{node['count']} item{'' if node['count'] == 1 else 's'}"
            print(f"{prefix}{'└── ' if last else '├── '}{node['name']}  ({count})  {node['id']}")
            show(node["children"], prefix + ("    " if last else "│   "))

    show(tree, "")


def print_users(users: list[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(users, default=str))
        return
    for user in users:
        state = "  (disabled)" if user["disabled"] else ""
        print(f"{user['name']:<24} {user['role']:<7} {user['id']}{state}")


def print_tokens(tokens: list[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(tokens, default=str))
        return
    for token in tokens:
        state = "revoked" if token["revoked"] else f"last used {token['last_used_at'] or 'never'}"
        print(f"{token['id']}  {token['user']:<16} {token['scope']:<5} {token['name']}  ({state})")
