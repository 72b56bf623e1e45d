"""The map and the gallery's timeline in a real browser (Debian's Chromium through Playwright)
against `trove serve`. Screenshots land in test-artifacts/ui/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser.fixtures import require_chromium, shot
from tests.browser.library import COLOURS, photo
from tests.browser.server import TroveServer, serving
from tests.media import write_png
from tests.pipeline_media import camera_exif, write_photo

pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")

require_chromium()


SPOTS = {  # name: (lat, lon)
    "kyoto temple.jpg": (35.0116, 135.7681),
    "kyoto garden.jpg": (35.0394, 135.7292),
    "paris.jpg": (48.8566, 2.3522),
    "new york.jpg": (40.7128, -74.0060),
    "cape town.jpg": (-33.9249, 18.4241),
}


def _dms(value: float, positive: str, negative: str) -> tuple[float, float, float, str]:
    whole = abs(value)
    minutes = int(whole * 60) % 60
    return (
        float(int(whole)),
        float(minutes),
        round(whole * 3600 % 60, 2),
        (positive if value >= 0 else negative),
    )


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("places") / "library"
    for seed, (name, (lat, lon)) in enumerate(SPOTS.items()):
        exif = camera_exif(lat=_dms(lat, "N", "S"), lon=_dms(lon, "E", "W"))
        write_photo(root / "trips" / name, exif=exif, size=(160, 120), seed=seed)
    for i, year in enumerate((2016, 2018, 2021, 2023)):
        for month in (2, 9):
            when = datetime(year, month, 10, 12, 0, 0)
            photo(
                root / "years" / f"{year}-{month:02}.jpg",
                colour=COLOURS[i * 2 + month % 2],
                when=when,
            )
    for i in range(3):
        undated = write_png(root / "undated" / f"undated_{i}.png", seed=i)
        os.utime(undated, (0, 0))
    return root


@pytest.fixture(scope="module")
def server(library: Path) -> Iterator[TroveServer]:
    with serving(library) as trove:
        yield trove


@pytest.fixture
def page(page: Any) -> Iterator[Any]:
    yield page
    page.watch.assert_clean()


def test_the_map_draws_clustered_markers_over_the_bundled_world_without_any_tile_request(
    page, server
):
    page.goto(server.url + "/map")
    page.wait_for_function("() => window.__troveMap && window.__troveMap.total === 5")
    page.wait_for_selector(
        ".trove-map-outline path.leaflet-interactive, .trove-map-outline svg path"
    )
    # The first answer fits the map to the photos, which asks again and clusters anew (with
    # its zoom animation): the markers are read once they have settled.
    counts = page.wait_for_function(
        "() => { const c = [...document.querySelectorAll('.trove-map-marker span')]"
        ".map(e => Number(e.textContent));"
        " return c.reduce((a, b) => a + b, 0) === 5 && c.includes(2) && c; }"
    ).json_value()
    assert sum(counts) == 5
    assert 2 in counts  # the two Kyoto photos share a marker at world zoom
    playwright_api.expect(page.locator(".trove-count")).to_have_text("5 geotagged items in view")
    assert page.locator(".leaflet-tile").count() == 0  # no tile source set: no tiles at all
    shot(page, "map-1280x800")


def test_a_marker_of_one_photo_opens_it_in_the_lightbox(page, server):
    page.goto(server.url + "/map")
    page.wait_for_function("() => window.__troveMap && window.__troveMap.total === 5")
    ones = page.locator(".trove-map-marker", has_text="1")
    ones.first.click()
    page.wait_for_url("**/?asset=*")
    page.wait_for_selector(".trove-viewer, .q-dialog")


def visible_headers(page: Any) -> list[str]:
    return page.locator(".trove-grid-header-label").all_inner_texts()


def test_the_gallery_rail_shows_the_years_and_dragging_it_jumps_with_a_sticky_month_header(
    page, server
):
    page.goto(server.url + "/")
    page.wait_for_selector(".trove-tile")
    expect = playwright_api.expect
    # The rail is drawn from the month counts, which come after the first page of tiles.
    expect(page.locator(".trove-rail-year")).to_have_text(["2023", "2021", "2018", "2016"])
    expect(page.locator(".trove-rail-undated")).to_have_count(1)
    expect(page.locator(".trove-grid-header-label").first).to_have_text("September 2023")

    box = page.locator(".trove-rail-year", has_text="2016").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    playwright_api.expect(page.locator(".trove-rail-label")).to_be_visible()
    target = page.locator(".trove-rail-year", has_text="2021").bounding_box()
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2, steps=4)
    page.mouse.up()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.trove-grid-header-label')]"
        ".some(e => e.textContent === 'September 2021')"
    )
    page.locator(".trove-grid").evaluate("el => el.scrollBy(0, 120)")
    playwright_api.expect(page.locator(".trove-grid-sticky")).to_have_text("September 2021")
    shot(page, "gallery-timeline-rail")

    page.locator(".trove-rail").focus()
    page.keyboard.press("Home")  # the keyboard moves along the rail too
    page.wait_for_function("() => document.querySelector('.trove-grid').scrollTop === 0")
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => document.querySelector('.trove-grid').scrollTop > 0")
    page.locator(".trove-grid").evaluate("el => el.scrollTo(0, el.scrollHeight)")
    page.wait_for_function(
        "() => { const h = [...document.querySelectorAll('.trove-grid-header-label')];"
        " return h.length && h[h.length - 1].textContent === 'Undated'; }"
    )
    assert "December 2026" not in visible_headers(page)
