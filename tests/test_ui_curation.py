"""Favourites, ratings, the Trash and duplicates in a real browser (Debian's Chromium through
Playwright) against `trove serve`: what is set in the page is what the API then answers.
Screenshots at 1280x800 and 390x844 land in test-artifacts/ui/."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser.fixtures import DESKTOP, PHONE, require_chromium, shot
from tests.browser.library import photo
from tests.browser.server import TroveServer, serving

playwright_api = pytest.importorskip("playwright.sync_api")

require_chromium()


expect = playwright_api.expect
NAMES = {"red.jpg": (220, 60, 50), "green.jpg": (40, 180, 90), "blue.jpg": (50, 110, 220)}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("curation") / "library"
    for day, (name, colour) in enumerate(NAMES.items(), start=1):
        photo(root / "2024" / name, colour=colour, when=datetime(2024, 5, day, 9, 0))
    (root / "backup").mkdir()
    shutil.copy2(root / "2024/green.jpg", root / "backup/green.jpg")  # a duplicate group
    return root


@pytest.fixture(scope="module")
def server(library: Path) -> Iterator[TroveServer]:
    with serving(library) as trove:
        yield trove


def asset_id(server: TroveServer, path: str) -> str:
    items = server.api("/api/dam/assets?limit=1000")["items"]
    (found,) = [i["id"] for i in items if i["path"] == path]
    return found


def eventually(check: Callable[[], Any], *, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_a_heart_and_stars_set_in_the_page_persist_through_the_api(page, server):
    red = asset_id(server, "2024/red.jpg")
    page.goto(server.url + "/")
    tile = page.locator('.trove-tile[data-name="red.jpg"]')
    tile.hover()
    tile.locator(".trove-tile-heart").click()

    assert eventually(lambda: server.api(f"/api/dam/assets/{red}")["favorite"])
    expect(tile.locator(".trove-tile-heart-on")).to_have_count(1)
    found = server.api("/api/dam/assets?q=is:favorite")["items"]
    assert [i["id"] for i in found] == [red]
    shot(page, "favourite-tile-1280x800")

    tile.click()  # the lightbox: four stars
    page.locator(".trove-viewer .trove-rating .q-rating__icon-container").nth(3).click()
    assert eventually(lambda: server.api(f"/api/dam/assets/{red}")["rating"] == 4)
    expect(page.locator(".trove-rating .q-rating__icon--active")).to_have_count(4)
    expect(page.locator(".trove-viewer .trove-favorite")).to_have_attribute("aria-pressed", "true")
    assert server.api(f"/api/dam/assets/{red}")["metadata"]["gallery"] == {
        "favorite": True,
        "rating": 4,
    }
    shot(page, "rating-lightbox-1280x800")
    page.set_viewport_size(PHONE)
    shot(page, "rating-lightbox-390x844")

    page.keyboard.press("r")  # the keys: r then a digit rates, f toggles the heart
    page.keyboard.press("2")
    assert eventually(lambda: server.api(f"/api/dam/assets/{red}")["rating"] == 2)
    page.keyboard.press("f")
    assert eventually(lambda: not server.api(f"/api/dam/assets/{red}")["favorite"])
    page.watch.assert_clean()


def test_duplicates_compare_side_by_side_and_the_preferred_copy_stands_for_its_stack(page, server):
    kept, backup = asset_id(server, "2024/green.jpg"), asset_id(server, "backup/green.jpg")
    page.goto(server.url + "/duplicates")
    expect(page.locator(".trove-dup-card")).to_have_count(1)
    shot(page, "duplicates-1280x800")
    # The original's preview under its content's version: the browser may keep it for good.
    content = server.api(f"/api/dam/assets/{kept}")["hash"]
    thumb = page.locator(".trove-dup-thumb img")
    expect(thumb).to_have_attribute("src", re.compile(rf"variant=original&v={content[:16]}$"))

    page.locator(".trove-dup-compare").click()
    copies = page.locator(".trove-compare-copy")
    expect(copies).to_have_count(2)
    expect(copies.first).to_contain_text("640 x 480")
    expect(page.locator(f'.trove-compare-copy[data-id="{backup}"]')).to_contain_text("backup")
    expect(page.locator(".trove-compare-copy")).to_contain_text(["Integrity", "Integrity"])
    shot(page, "duplicates-compare-1280x800")
    not_shown = page.locator(".trove-compare-copy:not(.trove-compare-shown)")
    chosen = not_shown.get_attribute("data-id")
    not_shown.locator(".trove-prefer").click()

    expect(page.locator(f'.trove-compare-shown[data-id="{chosen}"]')).to_have_count(1)
    (group,) = server.api("/api/dam/duplicates")["items"]
    assert group["preferred_id"] == chosen and chosen in (kept, backup)
    page.set_viewport_size(PHONE)
    shot(page, "duplicates-compare-390x844")

    page.set_viewport_size(DESKTOP)
    page.goto(server.url + "/")  # one tile for both copies: the preferred one, with a count
    stack = page.locator(".trove-tile-stack")
    expect(stack).to_have_count(1)
    expect(stack).to_have_text("filter_none2")
    expect(page.locator('.trove-tile[data-name="green.jpg"]')).to_have_attribute("data-id", chosen)
    stack.click()
    expect(page.locator(".trove-stack-member")).to_have_count(2)
    shot(page, "stack-1280x800")
    page.watch.assert_clean()


def test_the_trash_shows_a_deleted_photo_says_what_forget_means_and_restores_it(page, server):
    blue = asset_id(server, "2024/blue.jpg")
    server.api(f"/api/dam/assets/{blue}", method="DELETE")
    page.goto(server.url + "/trash")
    card = page.locator(f'.trove-trash-card[data-id="{blue}"]')
    expect(card).to_contain_text("blue.jpg")
    expect(page.locator(".trove-trash-forget-means")).to_contain_text("never deleted")
    shot(page, "trash-1280x800")
    page.set_viewport_size(PHONE)
    shot(page, "trash-390x844")
    page.set_viewport_size(DESKTOP)

    card.get_by_role("button", name="Restore").click()

    expect(card).to_have_count(0)
    expect(page.locator(".q-notification")).to_contain_text("Restored blue.jpg")
    assert eventually(lambda: not server.api(f"/api/dam/assets/{blue}")["deleted"])
    page.goto(server.url + "/")
    expect(page.locator('.trove-tile[data-name="blue.jpg"]')).to_have_count(1)
    page.watch.assert_clean()
