"""The composite types in a real Chromium: a region drawn on a picture in the lightbox, listed
in its inspector and opened on its parent; a texture pack's folder view with previews of the
images inside; an installer's card; an invoice's card. Screenshots land in
test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.fixtures import shot
from tests.browser.server import TroveServer, serving
from tests.composite_media import png, texture_pack
from tests.pe_media import pe_file
from tests.pipeline_media import text_pdf

pytestmark = pytest.mark.slow
playwright_api = pytest.importorskip("playwright.sync_api")


# True once the element's box has been the same for ten animation frames in a row.
STILL_FOR_TEN_FRAMES = """(el) => {
  const r = el.getBoundingClientRect();
  const key = [r.x, r.y, r.width, r.height].join();
  const seen = (window.__troveStill ||= { key: null, frames: 0 });
  seen.frames = seen.key === key ? seen.frames + 1 : 0;
  seen.key = key;
  return seen.frames >= 10;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TroveServer]:
    root = tmp_path_factory.mktemp("composites") / "library"
    root.mkdir()
    picture = Image.new("RGB", (1200, 800), (30, 60, 160))
    picture.paste((230, 40, 40), (600, 400, 1200, 800))
    picture.save(root / "quarters.png")
    texture_pack(
        root / "stone.zip",
        {
            "stone/stone_basecolor.png": png((180, 40, 20), size=(256, 256)),
            "stone/stone_normal.png": png((128, 128, 255), size=(256, 256)),
            "stone/readme.txt": b"CC0",
        },
    )
    pe_file(
        root / "setup.exe",
        strings={"ProductName": "Trove Viewer", "CompanyName": "Acme Ltd", "ProductVersion": "2.1"},
        icon_png=png((200, 30, 30), size=(48, 48)),
        signed=True,
    )
    text_pdf(
        root / "invoice.pdf",
        ["INVOICE", "Invoice No: INV-7", "Bill to: Globex", "Total due: 1,150.00 EUR"],
    )
    with serving(root, idle_timeout=120) as trove:
        yield trove


@pytest.fixture
def page(page: Any) -> Iterator[Any]:
    yield page
    assert page.watch.errors == []


def asset_named(server: TroveServer, name: str) -> dict[str, Any]:
    items = server.api("/api/dam/assets?limit=1000")["items"]
    (asset,) = [i for i in items if i["filename"] == name]
    return server.api(f"/api/dam/assets/{asset['id']}")


def test_a_region_drawn_on_a_picture_is_listed_and_opens_on_its_parent_highlighted(page, server):
    expect = playwright_api.expect
    picture = asset_named(server, "quarters.png")
    page.goto(f"{server.url}/?asset={picture['id']}")
    layer = page.locator(".trove-region-layer img")
    expect(layer).to_be_visible()
    expect(layer).to_have_js_property("complete", True)
    page.wait_for_function(
        "img => img.naturalWidth > 0 && img.clientWidth > 0", arg=layer.element_handle()
    )
    # Laid out at its final size before the drag is aimed: the inspector comes a tick after
    # the picture (viewer.py `_later`), then the picture must stay put for a few frames.
    expect(page.locator(".trove-viewer-side .trove-inspector")).to_be_visible()
    page.wait_for_function(STILL_FOR_TEN_FRAMES, arg=layer.element_handle(), polling="raf")
    box = layer.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.9, steps=4)
    page.mouse.up()
    expect(page.locator(".trove-region-layer rect")).to_have_count(1)
    expect(page.locator(".trove-region-row")).to_have_count(1)
    shot(page, "region-drawn")
    server.wait_idle(timeout=60)
    regions = [
        i for i in server.api("/api/dam/assets?limit=1000")["items"] if i["asset_type"] == "region"
    ]
    assert len(regions) == 1
    region = server.api(f"/api/dam/assets/{regions[0]['id']}")
    x, _, w, _ = region["metadata"]["region"]["bbox"]
    assert x == pytest.approx(0.5, abs=0.03) and w == pytest.approx(0.4, abs=0.03)
    assert region["status"] == "ready" and region["thumbnails"]
    page.goto(f"{server.url}/?asset={region['id']}")
    expect(page.locator(".trove-region-stage rect")).to_have_count(1)
    # This region, highlighted on its parent.
    expect(page.locator(".trove-region-stage rect")).to_have_attribute("stroke", "#ffd54f")
    shot(page, "region-on-parent")


def test_a_texture_pack_opens_as_a_folder_with_previews_and_entries_download(page, server):
    expect = playwright_api.expect
    pack = asset_named(server, "stone.zip")
    page.goto(f"{server.url}/?asset={pack['id']}")
    tiles = page.locator(".trove-archive-entry")
    expect(tiles).to_have_count(3)
    previews = page.locator(".trove-archive-entry img")
    expect(previews).to_have_count(2)
    expect(previews.first).to_have_js_property("complete", True)
    assert previews.first.evaluate("img => img.naturalWidth") > 0
    with page.expect_download() as download:
        page.locator(".trove-archive-entry", has_text="readme.txt").click()
    assert Path(download.value.path()).read_bytes() == b"CC0"
    shot(page, "texture-pack-folder")


def test_an_installer_shows_its_card_and_an_invoice_its_amount_and_a_type_set_by_hand(page, server):
    expect = playwright_api.expect
    setup = asset_named(server, "setup.exe")
    page.goto(f"{server.url}/?asset={setup['id']}")
    card = page.locator(".trove-install-card")
    expect(card).to_contain_text("Trove Viewer")
    expect(card).to_contain_text("Acme Ltd")
    expect(card).to_contain_text("present")  # the signature
    expect(card.get_by_role("button", name="Install")).to_have_count(0)  # no command set
    shot(page, "install-card")
    invoice = asset_named(server, "invoice.pdf")
    page.goto(f"{server.url}/?asset={invoice['id']}")
    expect(page.locator(".trove-document-card")).to_contain_text("1,150.00 EUR")
    expect(page.locator(".trove-document-card")).to_contain_text("due")
    shot(page, "invoice-card")
    page.locator(".trove-document-type").click()
    page.locator(".q-item", has_text="Contract").click()
    expect(page.locator(".q-notification")).to_contain_text("Saved as Contract")
    fields = server.api(f"/api/dam/assets/{invoice['id']}")["metadata"]["document"]
    assert (fields["sub_type"], fields["sub_type_source"]) == ("contract", "hand")
    assert fields["number"] == "INV-7"  # what the rules read is kept
