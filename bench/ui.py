"""Gallery benchmark: 100,000 indexed assets (or an index), a real `trove serve`, a real browser.

    .venv/bin/python bench/ui.py [--corpus LIBRARY] [--rounds 5] [--pages 20]
                                 [--lightbox 40] [--only gallery|lightbox] [--paint-only]
    .venv/bin/python bench/ui.py --database-url postgresql://... [--cache-dir DIR]
                                 [--rounds 5] [--pages 20] [--paint-only]

Measures
  * the API list latency p50/p95 for the gallery's own query (first page, following pages by
    cursor) and with each filter the sidebar sets (type, tag, search, date range, folder);
  * in Chromium: time from navigation to the first tiles on screen, and the time each next page
    takes as the grid is scrolled (fetch + layout, measured in the page). "First paint" is the
    first animation frame with a tile laid out in the window (a probe installed before the
    page's own scripts, the same for any version of the page; a frame is not run while the
    page's stylesheets are still loading), beside the browser's first contentful paint and
    the moment the interactive grid has its first tiles (grid.js sets __troveFirstPaint).
    Cold: a new browser context (empty cache, as a first visit); cached: the same page loaded
    again in it. With each load, the CPU seconds the page's renderer main thread and the
    server spent (Chromium's ThreadTime; /proc of `trove serve`): the machine is shared.
    `--baseline-src OTHER/src` serves the same data from another checkout too, loaded in turn
    with this one in the same run, for a ratio.
  * the lightbox's open-to-sharp time: from the click on a tile to its large preview decoded
    and painted (static/lightbox.js marks it), cold (first open) and warm (opened again),
    with the part spent until the server's stage reaches the page (click_to_stage),
    beside the floor: the same preview fetched and decoded by a bare `new Image()`.
Targets: first paint cold <= 0.5 s (issue 13), each page < 150 ms at the API p95.

The corpus is indexed once with `trove scan --no-wait` into bench/.corpus/ui-<n>/data and its
assets marked ready through the repository (the pipeline is not what is measured, and running
it in the background would compete for the CPU). Previews are not made, so tiles show type
icons: first paint is the grid itself, image decoding is the browser's. For the lightbox, the
newest `--lightbox` pictures get a preview pyramid made from a 3000x2000 photo-like picture
(one encode, written under a digest per asset, so each URL is cold in the browser).

`--database-url URL` serves an existing PostgreSQL index instead (issue 14: a million assets)
and measures the gallery only: no corpus, scan, marking ready, previews or lightbox, and the
benchmark writes nothing. The index must be at this checkout's schema revision (the server
would migrate it otherwise). Its `trove serve` (this checkout's) has sign-in off like the
corpus's (one local user, no login), its own data dir (bench/.corpus/ui-db-<database>/data,
with an empty preview cache: tiles show type icons, and those with previews ask for them in
vain, unless `--cache-dir` names the index's own), TROVE_WATCH=false, and no scavenger,
bitrot check or nightly export. No setting stops what every server does at start: rescan
each library (TROVE_WATCH=false queues that too) and resume pending processing. So the
server's connections are read-only (`default_transaction_read_only` in TROVE_DATABASE_URL):
the rescan walks the files, then fails on its record and changes nothing, as does any
processing left pending (both in the server's log; measuring starts once they are over). A
connection of the benchmark holds the counters' fold lock (repositories/counters.py) for
the run, so that reads sum counters and deltas instead of folding them, which a read-only
transaction cannot. The filters come from the index: its rarest and commonest file types,
its most and least used tags (if any), `harbour` and the commonest word in the first page's
paths, its busiest month, the folder two levels above the newest asset; `index.filters`
says how many assets each first page held. `index.rows_written` (pg_stat_user_tables over
the run) is 0 when nothing was written.
"""

from __future__ import annotations

import argparse
import calendar
import collections
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src"), str(REPO / "bench")]

from tests.browser.server import TroveServer, launch_browser, start_server  # noqa: E402

from _common import git_revision, machine_info, percentiles, write_results  # noqa: E402

GALLERY_TYPES = [
    "image",
    "video",
    "document",
    "audio",
    "other",
    "url",
    "log_entry",
    "proxy",
    "region",
    "app_package",
    "texture_pack",
]  # what the grid sends: no folders
PAGE = 200


def prepare(corpus: Path, data_dir: Path) -> dict[str, Any]:
    """Index the corpus once (reused when the data dir already holds it)."""
    from trove.config import Settings
    from trove.db.database import Database
    from trove.domain.access import Viewer
    from trove.repositories.assets import AssetRepository

    settings = Settings(data_dir=data_dir)
    marker = data_dir / "indexed.json"
    if marker.exists():
        return json.loads(marker.read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    env.update(TROVE_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO / "src"))
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "trove", "scan", "--no-wait", str(corpus)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    scan_s = time.perf_counter() - started
    database = Database(settings.resolved_database_url)
    marked, after = 0, ""
    while True:
        with database.session() as session:
            repo = AssetRepository(session)
            ids = repo.ids_with_status("processing", limit=5000, after_id=after)
            if not ids:
                break
            repo.set_status(ids, "ready")
        marked += len(ids)
        after = ids[-1]
    with database.session() as session:
        total = sum(
            AssetRepository(session).count_by("asset_type", viewer=Viewer.system()).values()
        )
    database.dispose()
    info = {"scan_s": round(scan_s, 2), "assets": total, "marked_ready": marked}
    marker.write_text(json.dumps(info))
    return info


def get(server: TroveServer, path: str, params: list[tuple[str, str]]) -> tuple[float, Any]:
    url = server.url + path + "?" + urllib.parse.urlencode(params)
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        body = json.loads(response.read())
    return (time.perf_counter() - started) * 1000, body


def gallery_params(**extra: Any) -> list[tuple[str, str]]:
    params = [("type", t) for t in GALLERY_TYPES]
    params += [("sort", "-timeline_at"), ("limit", str(PAGE))]
    for key, value in extra.items():
        values = value if isinstance(value, list) else [value]
        params += [(key, str(v)) for v in values]
    return params


def scenario_params(extra: dict[str, Any]) -> list[tuple[str, str]]:
    """The gallery's query with a scenario's filters; a `type` filter replaces the grid's."""
    params = gallery_params(**extra)
    if "type" in extra:
        params = [p for p in params if p[0] != "type" or p[1] == extra["type"]]
    return params


def corpus_scenarios(server: TroveServer) -> dict[str, dict[str, Any]]:
    """The sidebar's filters over the generated corpus (100 of its pictures tagged here)."""
    roots = server.api("/api/dam/roots")["items"]
    root = next(r for r in roots if not r["is_upload_target"])
    sample = server.api("/api/dam/assets?limit=1000&type=image")["items"]
    tagged = [a["id"] for a in sample[::10]]  # 100 assets in one tag, spread out
    server.api("/api/dam/assets/bulk/tags", method="POST", body={"ids": tagged, "tags": ["bench"]})
    folder = sample[0]["path"].rsplit("/", 2)[0]
    return {
        "first page": {},
        "type=video": {"type": "video"},
        "tag (0.1%)": {"tag": "bench"},
        "search q=harbour": {"q": "harbour"},
        "date range (1 month)": {"since": "2021-03-01", "until": "2021-03-31"},
        "folder (root+path)": {"root": root["id"], "path": folder},
    }


def index_scenarios(server: TroveServer, index: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The sidebar's filters over an existing index, chosen from what it holds (read only):
    its rarest and commonest types, most and least used tags, busiest month, and the folder
    two levels above the newest asset with one."""
    scenarios: dict[str, dict[str, Any]] = {"first page": {}}
    types = sorted((n, t) for t, n in index["by_type"].items() if t in GALLERY_TYPES and n > 0)
    for n, kind in dict.fromkeys([types[0], types[-1]] if types else []):
        scenarios[f"type={kind} ({n:,})"] = {"type": kind}
    tags = server.api("/api/dam/tags?limit=5000")["items"]
    for tag in dict.fromkeys([tags[0]["tag"], tags[-1]["tag"]] if tags else []):
        count = next(t["count"] for t in tags if t["tag"] == tag)
        scenarios[f"tag {tag!r} ({count:,})"] = {"tag": tag}
    scenarios["search q=harbour"] = {"q": "harbour"}
    _ms, first = get(server, "/api/dam/assets", gallery_params())
    words = collections.Counter(
        word.lower()
        for a in first["items"]
        for word in re.findall(r"[^\W\d_]{4,}", (a["path"] or a["filename"]).rsplit(".", 1)[0])
    )
    if words and words.most_common(1)[0][0] != "harbour":  # the commonest on the first page
        word = words.most_common(1)[0][0]
        scenarios[f"search q={word}"] = {"q": word}
    months = server.api("/api/dam/timeline?" + urllib.parse.urlencode(gallery_params()))
    if months["months"]:
        busiest = max(months["months"], key=lambda m: m["count"])
        year, month = map(int, busiest["month"].split("-"))
        last = calendar.monthrange(year, month)[1]
        scenarios[f"date range ({busiest['month']}, {busiest['count']:,})"] = {
            "since": f"{busiest['month']}-01",
            "until": f"{busiest['month']}-{last:02d}",
        }
    placed = next((a for a in first["items"] if a["path"] and "/" in a["path"]), None)
    if placed is not None:
        folder = placed["path"].rsplit("/", 2)[0]
        scenarios[f"folder (root+path {folder})"] = {"root": placed["root_id"], "path": folder}
    return scenarios


def api_latencies(
    server: TroveServer, *, rounds: int, scenarios: dict[str, dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Each scenario `rounds` times for its first page, plus pages followed by cursor."""
    results = {}
    for name, extra in scenarios.items():
        params = scenario_params(extra)
        get(server, "/api/dam/assets", params)  # warm
        results[name] = percentiles(
            [get(server, "/api/dam/assets", params)[0] for _ in range(rounds * 4)]
        )
    results["next pages (cursor)"] = percentiles(follow_pages(server, pages=rounds * 20))
    results["next pages, type=image"] = percentiles(
        follow_pages(server, pages=rounds * 10, type="image")
    )
    return results


def follow_pages(server: TroveServer, *, pages: int, **extra: Any) -> list[float]:
    """Page after page by cursor, as the grid does while scrolling."""
    samples, cursor = [], None
    for _ in range(pages):
        params = scenario_params(extra) + ([("cursor", cursor)] if cursor else [])
        ms, body = get(server, "/api/dam/assets", params)
        samples.append(ms)
        cursor = body["next_cursor"]
        if not cursor:
            break
    return samples


def browser_timings(
    server: TroveServer,
    *,
    rounds: int,
    pages: int,
    paint_only: bool = False,
    baseline: TroveServer | None = None,
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    page_ms, scroll_frames = [], []
    servers = {"": server} if baseline is None else {"": server, "baseline": baseline}
    loads: dict[str, dict[str, list[float]]] = {name: {} for name in servers}
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        for n in range(rounds):
            # In turn (the order swapped each round): both see the same neighbours' load.
            for name in sorted(servers, reverse=bool(n % 2)):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                context.add_init_script(TILES_ON_SCREEN)
                page = context.new_page()
                for state in ("cold", "cached"):  # a first visit, then NiceGUI's files cached
                    for key, value in load(page, servers[name], first=state == "cold").items():
                        loads[name].setdefault(f"{key}_{state}", []).append(value)
                context.close()
        if paint_only:
            browser.close()
            return summarise(loads)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(server.url + "/")
        page.wait_for_function("() => window.__troveFirstPaint", timeout=30_000)
        for n in range(2, pages + 2):
            page.evaluate(
                "() => { const g = document.querySelector('.trove-grid');"
                " g.scrollTop = g.scrollHeight; }"
            )
            page.wait_for_function(
                f"() => window.__troveGrid && window.__troveGrid.pages >= {n}", timeout=30_000
            )
            page_ms.append(page.evaluate("() => window.__troveGrid.lastPageMs"))
            scroll_frames.append(page.evaluate(FRAME_PROBE))
        loaded = page.evaluate("() => window.__troveGrid.count")
        tiles = page.locator(".trove-tile").count()
        context.close()
        browser.close()
    return {
        **summarise(loads),
        "next_page_ms": percentiles(page_ms),
        "scroll_frame_ms": percentiles(scroll_frames),
        "assets_loaded": loaded,
        "tiles_in_dom": tiles,
    }


def load(page: Any, server: TroveServer, *, first: bool) -> dict[str, float]:
    """Load the gallery until its grid has its first tiles: when the first tiles were on
    screen, the browser's first contentful paint, the grid's own mark, the requests made
    before the tiles showed (the HTML included), and the CPU the renderer and server spent."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    renderer = metric(cdp, "ThreadTime")  # CPU seconds of the renderer's main thread
    served = process_cpu_s(server.process.pid)
    page.goto(server.url + "/")
    page.wait_for_function(
        "() => window.__troveFirstPaint && window.__troveTilesOnScreen", timeout=30_000
    )
    page.wait_for_timeout(100)  # the browser's paint entries come after the frame
    timings = page.evaluate(TIMINGS)
    after = metric(cdp, "ThreadTime")
    # A first visit may start a new renderer (its clock from zero): then all of it is the page's.
    timings["renderer_cpu_ms"] = (after - renderer if after >= renderer else after) * 1000
    timings["server_cpu_ms"] = (process_cpu_s(server.process.pid) - served) * 1000
    cdp.detach()
    return timings


def metric(cdp: Any, name: str) -> float:
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return float(next(m["value"] for m in metrics if m["name"] == name))


def process_cpu_s(pid: int) -> float:
    """User + system seconds of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summarise(loads: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    """Percentiles per server ("" this checkout, "baseline" the other) and the ratios of the
    p50s, this checkout over the baseline."""
    out: dict[str, Any] = {}
    for name, samples in loads.items():
        prefix = f"{name}_" if name else ""
        for key, values in samples.items():
            out[prefix + key] = percentiles(values)
    if "baseline" in loads:
        out["ratio_p50"] = {
            key: round(out[key]["p50_ms"] / out[f"baseline_{key}"]["p50_ms"], 2)
            for key in loads[""]
            if out[f"baseline_{key}"]["p50_ms"]
        }
    return out


# Installed before the page's own scripts: the first animation frame with a tile laid out in
# the window, the grid's or one drawn into the HTML (grid.py first_tiles_html). A frame runs
# only once the page may render (its stylesheets loaded), and what it lays out is then painted.
TILES_ON_SCREEN = """(() => {
  const probe = () => {
    const tile = document.querySelector('.trove-tile, .trove-first-tile');
    const box = tile && tile.getBoundingClientRect();
    if (box && box.width > 0 && box.height > 0 && box.top < innerHeight && box.left < innerWidth) {
      window.__troveTilesOnScreen = performance.now();
    } else requestAnimationFrame(probe);
  };
  requestAnimationFrame(probe);
})()"""

TIMINGS = """() => {
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  const shown = window.__troveTilesOnScreen;
  return {
    first_paint_ms: shown,
    contentful_paint_ms: fcp ? fcp.startTime : -1,
    grid_ready_ms: window.__troveFirstPaint,
    requests_before_paint: 1 + performance.getEntriesByType('resource')
      .filter((e) => e.startTime < shown).length,
  };
}"""

# The time to render one frame after a jump of one screen: the virtual grid swaps its rows.
FRAME_PROBE = """() => new Promise((resolve) => {
  const g = document.querySelector('.trove-grid');
  const started = performance.now();
  g.scrollTop = Math.max(0, g.scrollTop - g.clientHeight);
  requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - started)));
})"""


def lightbox_sample(server: TroveServer, *, count: int) -> list[str]:
    """The newest `count` pictures in the gallery's order: the tiles a visitor opens first."""
    _ms, page = get(server, "/api/dam/assets", gallery_params())
    return [a["id"] for a in page["items"] if a["asset_type"] == "image"][:count]


def photo_like(size: tuple[int, int], *, seed: int = 7) -> Any:
    """A picture with a photo's detail (shapes, gradients, grain): its WebP is about as large
    as a real photo's, so the browser fetches and decodes a realistic preview."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(400):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        r = rng.randrange(10, 220)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(2))
    grain = Image.effect_noise(size, 40).convert("RGB")
    return Image.blend(image, grain, 0.18)


def make_previews(data_dir: Path, asset_ids: list[str]) -> dict[str, Any]:
    """Give these assets a large/medium/small preview in the cache and point their records at
    it, as the thumbnails step would (it is not run for this corpus). Their `hash` becomes a
    digest of their id: previews are looked up by content hash, and this corpus is not hashed."""
    from trove.config import Settings
    from trove.db.database import Database
    from trove.db.models import Asset
    from trove.pipeline import imaging
    from trove.pipeline.processors.thumbnails import pyramid_updates
    from trove.storage import cache

    settings = Settings(data_dir=data_dir)
    started = time.perf_counter()
    renditions = imaging.pyramid(photo_like((3000, 2000)), quality=settings.webp_quality)
    encode_s = time.perf_counter() - started
    database = Database(settings.resolved_database_url)
    with database.session() as session:
        for asset_id in asset_ids:
            digest = hashlib.sha256(f"bench-lightbox/{asset_id}".encode()).hexdigest()
            for rendition in renditions:
                name = cache.thumbnail_name(rendition.name)
                path = cache.derivative_path(settings.resolved_cache_dir, digest, name)
                cache.write_atomic(path, rendition.webp)
            asset = session.get(Asset, asset_id)
            assert asset is not None
            updates = pyramid_updates(digest)
            asset.thumbnails, asset.thumbnail_urn = updates["thumbnails"], updates["thumbnail_urn"]
            asset.hash = digest  # previews are found by content hash; this corpus has none
            asset.width, asset.height = 3000, 2000
    database.dispose()
    large = next(r for r in renditions if r.name == "large")
    return {
        "previews": len(asset_ids),
        "large_px": list(large.image.size),
        "large_bytes": len(large.webp),
        "encode_s": round(encode_s, 2),
    }


def lightbox_timings(server: TroveServer, asset_ids: list[str]) -> dict[str, Any]:
    """Click each tile, time until its large preview is decoded and painted; again warm; and
    the same previews fetched and decoded by a bare image, cold, as the floor."""
    from playwright.sync_api import sync_playwright

    cold: list[float] = []
    warm: list[float] = []
    floor: list[float] = []
    fetch_ms: list[float] = []
    stage_ms: list[float] = []
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(server.url + "/")
        page.wait_for_function("() => window.__troveFirstPaint", timeout=30_000)
        for samples in (cold, warm):
            for asset_id in asset_ids:
                sharp_ms, staged_ms = open_to_sharp(page, asset_id)
                samples.append(sharp_ms)
                stage_ms.append(staged_ms)
        for asset_id in asset_ids:
            url = server.api(f"/api/dam/assets/{asset_id}")["thumbnails"]["large"]
            floor.append(page.evaluate(BARE_DECODE, url + "&cold=1"))
        for asset_id in asset_ids[:10]:
            fetch_ms.append(get(server, f"/api/dam/assets/{asset_id}", [])[0])
        context.close()
        browser.close()
    return {
        "open_to_sharp_cold_ms": percentiles(cold),
        "open_to_sharp_warm_ms": percentiles(warm),
        "click_to_stage_ms": percentiles(stage_ms),
        "bare_img_fetch_decode_ms": percentiles(floor),
        "api_asset_detail_ms": percentiles(fetch_ms),
    }


def open_to_sharp(page: Any, asset_id: str) -> tuple[float, float]:
    """A click on the tile to the large preview decoded and painted (lightbox.js), and to
    the server's stage arriving in the page (`troveLightbox.show`)."""
    tile = page.locator(f'.trove-tile[data-id="{asset_id}"]')
    page.evaluate("() => { document.querySelector('.trove-grid').scrollTop = 0; }")
    for _ in range(60):  # the grid keeps only the rows near the view in the DOM
        page.wait_for_timeout(250)  # it lays out on the next frame
        if tile.count():
            break
        page.evaluate(SCROLL_ON)
    tile.scroll_into_view_if_needed()
    shown = page.evaluate("() => window.__troveLightbox.shown")
    clicked = page.evaluate(CLICK, asset_id)
    page.wait_for_function(
        "(n) => window.__troveLightbox.shown > n && window.__troveLightbox.sharp > 0",
        arg=shown,
        timeout=30_000,
    )
    sharp, shown_at = page.evaluate(
        "() => [window.__troveLightbox.sharp, window.__troveLightbox.shownAt]"
    )
    page.keyboard.press("Escape")
    page.wait_for_selector(".trove-viewer", state="hidden", timeout=10_000)
    return float(sharp - clicked), float(shown_at - clicked)


SCROLL_ON = """() => {
  const grid = document.querySelector('.trove-grid');
  grid.scrollTop += grid.clientHeight / 2;
}"""
CLICK = """(id) => {
  const started = performance.now();
  document.querySelector(`.trove-tile[data-id="${id}"]`).click();
  return started;
}"""
BARE_DECODE = """async (url) => {
  const started = performance.now();
  const image = new Image();
  image.src = url;
  await image.decode();
  return performance.now() - started;
}"""


# Every transaction of the served index's server read-only: PostgreSQL refuses its writes.
READ_ONLY = "options=-c%20default_transaction_read_only%3Don"


class ServedIndex:
    """An existing PostgreSQL index served read-only (--database-url); a connection of the
    benchmark's own holds the counters' fold lock for the run (module docstring)."""

    def __init__(self, url: str, lock: Any) -> None:
        self.url, self.lock = url, lock
        self.name = urllib.parse.urlsplit(url).path.strip("/") or "postgres"
        self.rows_before = self.rows_written()
        self.delta_rows = self.count_deltas()

    @classmethod
    def open(cls, url: str) -> ServedIndex:
        import psycopg

        from trove.db.migrate import HEAD_REVISION, schema_is_current
        from trove.repositories.counters import _FOLD_LOCK

        if not url.startswith(("postgresql://", "postgres://")):
            sys.exit("--database-url: a PostgreSQL index (postgresql://...)")
        if not schema_is_current(url):
            sys.exit(f"{url} is not at schema {HEAD_REVISION}: the server would migrate it")
        lock = psycopg.connect("postgresql://" + url.split("://", 1)[1], autocommit=True)
        lock.execute("SELECT pg_advisory_lock(%s)", (_FOLD_LOCK,))  # released on close
        return cls(url, lock)

    def server_env(self) -> dict[str, str]:
        """The index read-only; nothing watched, rescanned on a timer, verified or exported."""
        separator = "&" if "?" in self.url else "?"
        return {
            "TROVE_DATABASE_URL": self.url + separator + READ_ONLY,
            "TROVE_WATCH": "false",
            "TROVE_SCAVENGER_INTERVAL": "0",
            "TROVE_VERIFY_INTERVAL": "0",
            "TROVE_EXPORT_KEEP": "0",
        }

    def rows_written(self) -> int:
        row = self.lock.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables"
        ).fetchone()
        return int(row[0])

    def count_deltas(self) -> int:
        """Counter deltas not folded yet: each read of the counters sums them too."""
        from trove.repositories.counters import _FOLDED_TABLES

        tables = [deltas for _counts, deltas, _keys, _unique in _FOLDED_TABLES]
        union = " UNION ALL ".join(f"SELECT count(*) AS n FROM {t}" for t in tables)
        return int(self.lock.execute(f"SELECT sum(n) FROM ({union}) AS d").fetchone()[0])

    def describe(self, server: TroveServer) -> dict[str, Any]:
        """What the server reports of the index once its start-up work is over (failed)."""
        from trove.db.migrate import HEAD_REVISION

        status = server.api("/api/dam/status")
        parts = urllib.parse.urlsplit(self.url)
        host = parts.netloc.rsplit("@", 1)[-1]
        user = f"{parts.username}@" if parts.username else ""
        return {
            "database": f"{parts.scheme}://{user}{host}{parts.path}",  # no password
            "served_as": status["database"],
            "schema": HEAD_REVISION,
            "assets": sum(status["by_type"].values()),
            "by_type": status["by_type"],
            "by_status": status["by_status"],
            "libraries": len(status["roots"]),
            "counter_delta_rows": self.delta_rows,
            "start_up_error": status["indexer"]["last_error"],
            "server_log": str(server.log),
        }

    def close(self) -> dict[str, Any]:
        time.sleep(1)  # the server's backends report their counts as they exit
        written = self.rows_written() - self.rows_before
        self.lock.close()
        return {"rows_written": written}


def first_pages(
    server: TroveServer, scenarios: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Each filter and how many assets its first page holds (0: it matched nothing)."""
    out = {}
    for name, extra in scenarios.items():
        params = scenario_params(extra)
        _ms, body = get(server, "/api/dam/assets", params)
        out[name] = {"params": extra, "first_page": len(body["items"])}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--corpus", type=Path, default=None, help="a library folder (default: light-100000)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pages", type=int, default=20, help="pages to scroll in the browser")
    parser.add_argument("--lightbox", type=int, default=40, help="pictures to open")
    parser.add_argument("--only", choices=("gallery", "lightbox"), default=None)
    parser.add_argument(
        "--paint-only",
        action="store_true",
        help="only the gallery's first paint (no API, scrolling or lightbox)",
    )
    parser.add_argument(
        "--baseline-src",
        type=Path,
        default=None,
        help="another checkout's src/: its server's first paint measured in turn with this one's",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="serve this existing PostgreSQL index, read-only, instead of a scanned corpus"
        " (gallery only)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="with --database-url: the index's preview cache, served as it is (default: an"
        " empty one, so tiles show type icons)",
    )
    args = parser.parse_args()
    served = None
    env: dict[str, str] = {}
    index: dict[str, Any] = {}
    if args.database_url is not None:
        if args.corpus is not None or args.only == "lightbox":
            parser.error("--database-url serves an existing index: no --corpus, no lightbox")
        args.only = "gallery"
        served = ServedIndex.open(args.database_url)
        data_dir = REPO / "bench" / ".corpus" / f"ui-db-{served.name}" / "data"
        env = served.server_env()
        if args.cache_dir is not None:
            env["TROVE_CACHE_DIR"] = str(args.cache_dir.resolve())
    else:
        if args.corpus is None:  # the scan benchmark's corpus, generated once and cached
            import corpus

            args.corpus, _summary = corpus.ensure_cached(100_000, profile="light", log=print)
        if not args.corpus.is_dir():
            sys.exit(f"no corpus at {args.corpus}")
        data_dir = REPO / "bench" / ".corpus" / f"ui-{args.corpus.parent.name}" / "data"
        index = prepare(args.corpus.resolve(), data_dir)
    server = start_server(data_dir=data_dir, roots=[], env=env)
    baseline = None
    if args.baseline_src is not None:
        src = str(args.baseline_src.resolve())
        baseline = start_server(data_dir=data_dir, roots=[], env={**env, "PYTHONPATH": src})
    api: dict[str, Any] = {}
    browser: dict[str, Any] = {}
    lightbox: dict[str, Any] = {}
    try:
        server.wait_idle(timeout=1800)  # a served index's start-up rescan walks its libraries
        if served is not None:
            index = served.describe(server)
        if args.only != "lightbox" and not args.paint_only:
            if served is not None:
                scenarios = index_scenarios(server, index)
                index["filters"] = first_pages(server, scenarios)
            else:
                scenarios = corpus_scenarios(server)
            api = api_latencies(server, rounds=args.rounds, scenarios=scenarios)
        if args.only != "lightbox":
            browser = browser_timings(
                server,
                rounds=args.rounds,
                pages=args.pages,
                paint_only=args.paint_only,
                baseline=baseline,
            )
        if args.only != "gallery" and not args.paint_only:
            sample = lightbox_sample(server, count=args.lightbox)
            lightbox = {"sample": make_previews(data_dir, sample)}
            lightbox.update(lightbox_timings(server, sample))
    finally:
        server.stop()
        if baseline is not None:
            baseline.stop()
        if served is not None:
            index.update(served.close())
    report = {
        "benchmark": "ui",
        "index": index,
        "api": api,
        "browser": browser,
        "lightbox": lightbox,
        "targets": {"first_paint_ms": 500, "api_page_p95_ms": 150},
        "baseline_src": str(args.baseline_src) if args.baseline_src else None,
        "load_average": list(os.getloadavg()),
        "git": git_revision(),
        "machine": machine_info(),
    }
    print_table(report)
    path = write_results("ui", report)
    print(json.dumps(report, indent=2))
    print(f"\nwritten to {path}")


def print_table(report: dict[str, Any]) -> None:
    index = report["index"]
    if "database" in index:
        print(
            f"\n{index['database']} (served read-only): {index['assets']:,} assets in"
            f" {index['libraries']} libraries, {index['rows_written']} rows written during the run"
        )
        for name, filtered in index.get("filters", {}).items():
            print(f"  {name}: {filtered['first_page']} on the first page")
        print()
    else:
        print(f"\n{index['assets']:,} assets indexed\n")
    if report["browser"]:
        print_gallery(report)
    if report["lightbox"]:
        print_lightbox(report["lightbox"])


LOAD_KEYS = (
    "first_paint_ms",
    "contentful_paint_ms",
    "grid_ready_ms",
    "renderer_cpu_ms",
    "server_cpu_ms",
    "requests_before_paint",
)


def print_lightbox(lightbox: dict[str, Any]) -> None:
    sample = lightbox["sample"]
    width, height = sample["large_px"]
    print(
        f"Lightbox (Chromium, 1280x800): {sample['previews']} pictures, large preview "
        f"{width}x{height} WebP, {sample['large_bytes'] / 1000:.0f} KB"
    )
    print(f"{'':<40} {'p50 ms':>8} {'p95 ms':>8} {'n':>5}")
    for name in (
        "open_to_sharp_cold_ms",
        "open_to_sharp_warm_ms",
        "click_to_stage_ms",
        "bare_img_fetch_decode_ms",
        "api_asset_detail_ms",
    ):
        stats = lightbox[name]
        print(f"{name:<40} {stats['p50_ms']:>8} {stats['p95_ms']:>8} {stats['n']:>5}")
    print()


def print_gallery(report: dict[str, Any]) -> None:
    print(f"{'API GET /api/dam/assets (limit 200)':<40} {'p50 ms':>8} {'p95 ms':>8} {'n':>5}")
    for name, stats in report["api"].items():
        print(f"{name:<40} {stats['p50_ms']:>8} {stats['p95_ms']:>8} {stats['n']:>5}")
    browser = report["browser"]
    ratios = browser.get("ratio_p50", {})
    print(f"\n{'Browser (Chromium, 1280x800)':<40} {'p50 ms':>8} {'p95 ms':>8} {'n':>5}", end="")
    print(f" {'baseline p50':>13} {'ratio':>6}" if ratios else "")
    for name in (
        *(f"{key}_{state}" for state in ("cold", "cached") for key in LOAD_KEYS),
        "next_page_ms",
        "scroll_frame_ms",
    ):
        if name in browser:
            stats = browser[name]
            print(f"{name:<40} {stats['p50_ms']:>8} {stats['p95_ms']:>8} {stats['n']:>5}", end="")
            if name in ratios:
                print(f" {browser['baseline_' + name]['p50_ms']:>13} {ratios[name]:>6}", end="")
            print()
    load = ", ".join(f"{x:.2f}" for x in report["load_average"])
    print(f"load average at the end: {load}")
    if "assets_loaded" not in browser:
        return
    print(
        f"\nafter scrolling: {browser['assets_loaded']:,} assets loaded, "
        f"{browser['tiles_in_dom']} tiles in the DOM\n"
    )


if __name__ == "__main__":
    main()
