"""What the drivers show in a real browser (Chromium through Playwright, `trove serve`): the
lightbox plays an AVI's web copy (its proxy, which has no tile of its own), and the inspector
reads camera data typed and human-formatted, dates in the browser's locale. Screenshots land
in test-artifacts/ui/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import ExifTags

from tests.browser.fixtures import ARTIFACTS, TIMEOUT_MS, require_chromium
from tests.browser.server import TroveServer, start_server
from tests.pipeline_media import camera_exif, video, write_photo

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")
require_chromium()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TroveServer]:
    root = tmp_path_factory.mktemp("drivers") / "library"
    exif = camera_exif(make="Canon", model="Canon EOS R5")
    shot = exif.get_ifd(ExifTags.IFD.Exif)
    shot[ExifTags.Base.ExposureTime] = 1 / 250
    shot[ExifTags.Base.FNumber] = 1.8
    shot[ExifTags.Base.ISOSpeedRatings] = 100
    shot[ExifTags.Base.FocalLength] = 50.0
    shot[ExifTags.Base.LensModel] = "RF50mm F1.8 STM"
    write_photo(root / "camera.jpg", exif=exif)
    video(root / "scan.avi", size=(160, 120), seconds=1, codec="mpeg4")
    trove = start_server(data_dir=root.parent / "data", roots=[root])
    try:
        trove.wait_idle(timeout=120)
        yield trove
    finally:
        trove.stop()


def open_tile(browser: Any, server: TroveServer, name: str, *, locale: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(2 * TIMEOUT_MS)  # the first page is built cold
    page.goto(server.url + "/")
    page.locator(f'.trove-tile[data-name="{name}"]').click()
    return page


def open_inspector_tab(page: Any, name: str) -> Any:
    """The typed fields of the inspector's tab `name`, once its panel is the only one shown:
    while Quasar slides one panel out and the next in, both are visible."""
    page.get_by_role("tab", name=name).click()
    panels = page.locator(".q-tab-panel:visible")
    playwright_api.expect(panels).to_have_count(1)
    return panels.locator(".trove-typed")


def test_the_viewer_plays_the_web_copy_of_an_avi_that_has_no_tile_of_its_own(browser, server):
    items = server.api("/api/dam/assets?limit=100")["items"]
    assert sorted(i["filename"] for i in items if i["asset_type"] != "collection") == [
        "camera.jpg",
        "scan.avi",
    ]
    (avi,) = [i for i in items if i["filename"] == "scan.avi"]
    copy = server.api(f"/api/dam/assets/{avi['id']}")["web_copy"]
    assert copy["mime_type"] == "video/mp4"
    page = open_tile(browser, server, "scan.avi", locale="en-GB")
    assert page.locator(".trove-tile").count() == 2  # the proxy is not a tile
    player = page.locator(".trove-viewer video")
    playwright_api.expect(player).to_have_attribute("src", copy["url"])
    page.wait_for_function("() => document.querySelector('.trove-viewer video').readyState >= 1")
    assert page.evaluate("document.querySelector('.trove-viewer video').duration") > 0.5
    playwright_api.expect(page.locator(".trove-web-copy")).to_contain_text("Web copy: MP4")
    page.context.close()


def test_the_inspector_shows_camera_data_formatted_and_dates_in_the_browsers_locale(
    browser, server
):
    page = open_tile(browser, server, "camera.jpg", locale="de-DE")
    summary = page.locator(".trove-camera-summary")
    playwright_api.expect(summary).to_have_text(  # the place from the places step, last
        re.compile(r"^Canon EOS R5 · RF50mm F1\.8 STM · f/1\.8 · 1/250 s · ISO 100 · 50 mm · .+")
    )
    camera = open_inspector_tab(page, "Camera")
    for text in ("1/250 s", "f/1.8", "50 mm", "04.07.2021, 15:30"):  # German date, camera clock
        playwright_api.expect(camera).to_contain_text(text)
    location = open_inspector_tab(page, "Location")
    playwright_api.expect(location).to_contain_text(re.compile(r"48\.858\d\d° N, 2\.294\d\d° W"))
    playwright_api.expect(location).to_contain_text("Brittany")  # the places step's name
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.get_by_role("tab", name="Camera").click()
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / "inspector-typed-camera.png"))
    page.context.close()


def test_a_note_written_in_the_inspector_is_listed_there_and_is_a_log_entry(browser, server):
    page = open_tile(browser, server, "camera.jpg", locale="en-GB")
    page.locator(".trove-note-input textarea").fill("Printed <b>A3</b> for the show")
    page.get_by_role("button", name="Add note").click()
    note = page.locator(".trove-note a")
    playwright_api.expect(note).to_have_text("Printed <b>A3</b> for the show")  # text, not HTML
    entries = server.api("/api/dam/assets?type=log_entry")["items"]
    assert [e["title"] for e in entries] == ["Printed <b>A3</b> for the show"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inspector-general-notes.png"))
    page.context.close()
