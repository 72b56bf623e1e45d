"""The lightbox's editor in Chromium against a real `trove serve`: a 1:1 crop and a quarter
turn saved in the page become the asset's edit list and its previews, the API renders the same
list to the same pixels, revert brings the original back, and the original file's bytes never
change. Screenshots of the editor at 1280x800 and 390x844 go to test-artifacts/ui/."""

from __future__ import annotations

import hashlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.browser.fixtures import ARTIFACTS, TIMEOUT_MS, require_chromium
from tests.browser.server import TroveServer, serving

playwright_api = pytest.importorskip("playwright.sync_api")
NAME = "harbour.jpg"

require_chromium()


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("editor") / "library"
    root.mkdir()
    picture = Image.new("RGB", (1200, 800), (40, 110, 170))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 560, 1200, 800), fill=(200, 170, 90))  # a quay along the bottom
    draw.ellipse((820, 120, 980, 280), fill=(250, 220, 60))  # a sun, top right
    picture.save(root / NAME, "JPEG", quality=92)
    return root


@pytest.fixture(scope="module")
def server(library: Path) -> Iterator[TroveServer]:
    with serving(library) as trove:
        yield trove


def _asset(server: TroveServer) -> dict[str, Any]:
    items = server.api("/api/dam/assets?limit=10")["items"]
    (item,) = [i for i in items if i["filename"] == NAME]
    return server.api(f"/api/dam/assets/{item['id']}")


def _bytes(server: TroveServer, path: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(server.url + path, timeout=30) as response:
        return response.read()


def _open_editor(page: Any, server: TroveServer, asset_id: str) -> None:
    page.goto(f"{server.url}/?asset={asset_id}")
    page.locator(".trove-viewer-bar [aria-label=Edit]").click()
    page.wait_for_function(
        "() => (document.querySelector('.trove-editor .trove-edit-img')?.src || '')"
        ".startsWith('data:image/jpeg')"
    )


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_crop_and_rotate_saved_in_the_editor_render_like_the_api_and_revert_restores_the_original(
    server, browser, library
):
    expect = playwright_api.expect
    original = (library / NAME).read_bytes()
    before = _asset(server)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page: Any = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(2 * TIMEOUT_MS)  # the first page is built cold
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    _open_editor(page, server, before["id"])
    _shot(page, "editor-1280x800")
    page.get_by_role("button", name="Crop").click()
    page.get_by_role("button", name="1:1").click()
    expect(page.locator(".trove-crop-box")).to_be_visible()
    # The box is visible since Crop; 1:1 reaches it after the server's redraw, and only then
    # is the square sent back as the crop. Done or a turn before that would save no crop, or
    # one fitted to the turned picture.
    page.wait_for_function(
        "() => { const r = document.querySelector('.trove-crop-box')?.getBoundingClientRect();"
        " return !!r && r.width > 10 && Math.abs(r.width - r.height) <= 1.5; }"
    )
    _shot(page, "editor-crop-1280x800")
    page.get_by_role("button", name="Done").click()
    page.locator(".trove-editor [aria-label='Rotate right']").click()
    exposure = page.locator(".trove-editor .q-slider[aria-label=Exposure]")
    track = exposure.bounding_box()
    exposure.click(position={"x": track["width"] * 0.6, "y": track["height"] / 2})
    # Its change event went before Save's click on the same socket, and the server takes the
    # new value before its first await: what must be seen is that the click landed.
    expect(exposure).not_to_have_attribute("aria-valuenow", "0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".trove-editor")).to_be_hidden()
    expect(page.locator(".trove-viewer-bar [aria-label='Download edited']")).to_be_visible()

    saved = _asset(server)
    assert saved["version"] == before["version"] + 1
    assert [op["op"] for op in saved["edits"]] == ["rotate", "crop", "adjust"]
    assert saved["edits"][0]["degrees"] == 90
    assert 0.3 < saved["edits"][2]["exposure"] < 0.9  # 60% along -3..3 stops
    edited = saved["edited"]
    assert abs(edited["width"] - edited["height"]) <= 1  # a square, turned
    assert saved["thumbnails"]["large"] != before["thumbnails"]["large"]
    expect(page.locator(".trove-viewer-img")).to_have_attribute("src", saved["thumbnails"]["large"])
    tile = page.locator(f'.trove-tile[data-name="{NAME}"] img')
    expect(tile).to_have_attribute("src", saved["thumbnails"]["small"])  # the grid's tile too
    ui_render = _bytes(server, edited["url"])

    # The API, given the same list, draws the same pixels (its cached copy removed first).
    rendered = list((library.parent / "data").rglob("edited.jpg"))
    assert len(rendered) == 1
    shutil.rmtree(rendered[0].parent)
    server.api(f"/api/dam/assets/{saved['id']}/edits", method="DELETE")
    again = server.api(
        f"/api/dam/assets/{saved['id']}/edits", method="PUT", body={"edits": saved["edits"]}
    )
    api_render = _bytes(server, again["edited"]["url"])
    assert hashlib.sha256(api_render).digest() == hashlib.sha256(ui_render).digest()
    pixels = [Image.open(io.BytesIO(b)).convert("RGB").tobytes() for b in (ui_render, api_render)]
    assert pixels[0] == pixels[1]

    _open_editor(page, server, before["id"])
    page.get_by_role("button", name="Revert to original").click()
    expect(page.locator(".trove-editor")).to_be_hidden()
    reverted = _asset(server)
    assert (reverted["edits"], reverted["edited"]) == ([], None)
    assert reverted["thumbnails"] == before["thumbnails"]
    assert reverted["version"] == before["version"] + 4  # UI save, API revert and save, revert
    assert (library / NAME).read_bytes() == original
    assert _bytes(server, f"/api/dam/assets/{before['id']}/file") == original
    context.close()
    assert errors == []


def test_the_editor_fits_a_phone_screen(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page: Any = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(2 * TIMEOUT_MS)  # the first page is built cold
    _open_editor(page, server, _asset(server)["id"])
    save = page.get_by_role("button", name="Save")
    save.scroll_into_view_if_needed()
    playwright_api.expect(save).to_be_visible()
    box = page.locator(".trove-edit-img").bounding_box()
    assert box is not None and box["width"] <= 390
    _shot(page, "editor-390x844")
    context.close()
