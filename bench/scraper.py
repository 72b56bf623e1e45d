"""URL scraper benchmark: median time per page against a local test site, beside a plain httpx
GET of the same page measured in the same run.

    .venv/bin/python bench/scraper.py [--pages 10]

Runs itself inside a network namespace of its own with only loopback up (`unshare -n`, as
root), like the tests: the site, the scraper and its browser cannot reach anything else. The
site is tests/scraper_site.py (a page with title, Open Graph tags, icon and picture), allowed
through `scraper_allow_hosts`.

Per page, each timed separately (median and p95 over `--pages` pages, after one untimed warm-up):
  * baseline: `client.get(page)` on one shared httpx.Client (a new connection each time, as
    the scraper makes); beside it `httpx.get(page)`, which
    builds a client (and loads the CA bundle) every time, and Chromium started and closed
    with nothing loaded (what every screenshot pays first);
  * fetch: the scraper's checked, pinned fetch of the page alone (policy, resolution, caps);
  * scrape, no screenshot: the page, its metadata and its picture (og:image, decoded);
  * scrape: all of it with the Chromium screenshot (the browser started once and kept, a fresh
    context per page, as the pipeline step does).
Output: the table on stdout, the JSON report after it and in bench/results/scraper-<time>.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src"), str(REPO / "bench")]

from _common import git_revision, machine_info, write_results  # noqa: E402

ISOLATED = "TROVE_BENCH_ISOLATED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()
    if os.environ.get(ISOLATED) != "1":
        return _rerun_isolated()
    report = measure(pages=args.pages)
    print(table(report))
    path = write_results("scraper", report)
    print(json.dumps(report, indent=2))
    print(f"results: {path}", file=sys.stderr)
    return 0


def _rerun_isolated() -> int:
    """This script again, in a fresh network namespace with only loopback up."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        print("needs root and unshare(1): the benchmark runs in its own network namespace")
        return 2
    script = f"ip link set lo up && exec {sys.executable} {' '.join(map(_quote, sys.argv))}"
    env = {**os.environ, ISOLATED: "1"}
    return subprocess.run(["unshare", "-n", "sh", "-c", script], env=env).returncode


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def measure(*, pages: int) -> dict[str, object]:
    import httpx
    from tests import scraper_site

    from trove.config import Settings
    from trove.scraper.fetch import Want
    from trove.scraper.scrape import WebScraper

    data_dir = Path(tempfile.mkdtemp(prefix="trove-bench-scraper-"))
    with scraper_site.serve() as site:
        base = Settings(data_dir=data_dir, scraper_allow_hosts=f"127.0.0.1:{site.port}")
        full = WebScraper(base)
        light = WebScraper(dataclasses.replace(base, scraper_screenshot=False))
        # No keep-alive: the test site's HTTP/1.1 keep-alive meets TCP's delayed ACK (~40 ms per
        # request), which would flatter everything compared with it.
        shared = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), trust_env=False)
        steps: dict[str, Callable[[str], object]] = {
            "baseline: httpx.get": lambda url: shared.get(url).raise_for_status(),
            "httpx.get, new client": lambda url: httpx.get(url).raise_for_status(),
            "chromium start + close": lambda url: _browser_alone(),
            "fetch (checked, pinned)": lambda url: full.fetcher.get(url, want=Want.PAGE),
            "scrape, no screenshot": light.scrape,
            "scrape with screenshot": full.scrape,
        }
        results = {}
        for name, step in steps.items():
            step(site.url("/page?warm-up"))
            samples = []
            for n in range(pages):
                started = time.perf_counter()
                step(site.url(f"/page?n={n}"))
                samples.append(time.perf_counter() - started)
            results[name] = _summary(samples)
        full.close()
    shutil.rmtree(data_dir, ignore_errors=True)
    baseline = results["baseline: httpx.get"]["median_ms"]
    for summary in results.values():
        summary["x_baseline"] = round(summary["median_ms"] / baseline, 1)
    return {
        "benchmark": "scraper",
        "pages": pages,
        "steps": results,
        "machine": machine_info(),
        "revision": git_revision(),
    }


def _browser_alone() -> None:
    """The part of a screenshot that is Chromium starting and stopping, nothing loaded."""
    from playwright.sync_api import sync_playwright

    from trove.scraper.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS)).close()


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median_ms": round(statistics.median(samples) * 1000, 2),
        "p95_ms": round(p95 * 1000, 2),
        "min_ms": round(ordered[0] * 1000, 2),
    }


def table(report: dict[str, object]) -> str:
    steps = report["steps"]
    assert isinstance(steps, dict)
    lines = [
        f"URL scraper, {report['pages']} pages of a local site (own network namespace)",
        f"{'step':<26} {'median ms':>10} {'p95 ms':>10} {'x baseline':>11}",
    ]
    for name, summary in steps.items():
        lines.append(
            f"{name:<26} {summary['median_ms']:>10.1f} {summary['p95_ms']:>10.1f}"
            f" {summary['x_baseline']:>11.1f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
