"""The asset picker, dark mode and the page-wide shortcuts in a real browser (Chromium).

The opener is docs/examples/picker-opener.html, served from another loopback origin that
TROVE_PICKER_ORIGINS allows; a third origin, not allowed, may neither frame the picker nor hear
what it picks. One Trove, one browser, two small static servers for the module; screenshots in
test-artifacts/ui/.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser.fixtures import ARTIFACTS, DESKTOP, PHONE, TIMEOUT_MS
from tests.browser.library import photo
from tests.browser.server import CHROMIUM, REPO, TroveServer, start_server
from tests.media import write_text

EXAMPLES = REPO / "docs" / "examples"
COLOURS = {
    "red": (220, 50, 40),
    "green": (40, 170, 80),
    "blue": (40, 90, 200),
    "amber": (240, 170, 20),
}

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect
if not Path(CHROMIUM).exists():
    pytest.skip("no /usr/bin/chromium", allow_module_level=True)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """`folder` served on a free 127.0.0.1 port: another origin than Trove's."""
    handler = functools.partial(_Quiet, directory=str(folder))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}"
    finally:
        site.shutdown()
        site.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the example opener is deployed (by `server`, once Trove's address is known)."""
    return tmp_path_factory.mktemp("opener-site")


@pytest.fixture(scope="module")
def opener(site: Path) -> Iterator[str]:
    with static_site(site) as origin:
        yield origin


@pytest.fixture(scope="module")
def stranger(site: Path) -> Iterator[str]:
    with static_site(site) as origin:
        yield origin


def deploy_opener(site: Path, trove_url: str) -> None:
    """The example page with its trove-origin meta tag set, as its docs say."""
    page = (EXAMPLES / "picker-opener.html").read_text()
    configured = re.sub(r'(name="trove-origin" content=")[^"]*', rf"\g<1>{trove_url}", page)
    assert configured != page
    (site / "picker-opener.html").write_text(configured)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, opener: str, site: Path
) -> Iterator[TroveServer]:
    library = tmp_path_factory.mktemp("picker") / "library"
    for day, (name, colour) in enumerate(COLOURS.items(), start=1):
        photo(library / f"{name}.jpg", colour=colour, when=datetime(2024, 5, day, 12))
    write_text(library / "notes.txt", "not a picture")
    trove = start_server(
        data_dir=library.parent / "data", roots=[library], env={"TROVE_PICKER_ORIGINS": opener}
    )
    try:
        deploy_opener(site, trove.url)
        trove.wait_idle(timeout=120)
        yield trove
    finally:
        trove.stop()


@pytest.fixture(scope="module")
def ids(server: TroveServer) -> dict[str, str]:
    """File name -> id; red.jpg has a share link (with downloads), green.jpg is in an album."""
    found = {a["filename"]: a["id"] for a in server.api("/api/dam/assets?limit=100")["items"]}
    server.api("/api/dam/shares", method="POST", body={"asset_id": found["red.jpg"]})
    album = server.api("/api/dam/albums", method="POST", body={"name": "Greens"})["id"]
    members = {"asset_ids": [found["green.jpg"]]}
    server.api(f"/api/dam/albums/{album}/assets", method="POST", body=members)
    return {**found, "album": album}


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(2 * TIMEOUT_MS)  # the first page is built cold
    yield context
    context.close()


def shot(page: Any, name: str, *, size: dict[str, int] = DESKTOP) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(size)
    page.wait_for_timeout(400)  # previews fade in
    page.screenshot(path=str(ARTIFACTS / f"{name}-{size['width']}x{size['height']}.png"))


def tile(page: Any, name: str) -> Any:
    return page.locator(f'.trove-tile[data-name="{name}"]')


def open_opener(context: Any, origin: str, server: TroveServer) -> Any:
    """The opener, asked through its URL to use another "Trove" it must ignore."""
    page = context.new_page()
    page.goto(f"{origin}/picker-opener.html?trove=http://127.0.0.1:9")
    return page


def received(page: Any, count: int) -> list[dict[str, Any]]:
    page.wait_for_function(f"() => window.received.length >= {count}")
    return page.evaluate("window.received")


def test_a_picker_window_hands_its_opener_a_double_clicked_asset_then_a_selection(
    context, server, opener, ids
):
    page = open_opener(context, opener, server)
    with page.expect_popup() as popup:
        page.click("#window")
    picker = popup.value
    errors: list[str] = []
    picker.on("pageerror", lambda e: errors.append(str(e)))
    picker.set_viewport_size(DESKTOP)
    expect(picker.locator(".trove-tile")).to_have_count(4)  # types=image: not the notes
    shot(picker, "picker")

    tile(picker, "red.jpg").dblclick()
    (message,) = received(page, 1)
    assert message["type"] == "trove:picked" and message["origin"] == server.url
    (red,) = message["assets"]
    assert (red["id"], red["filename"], red["asset_type"]) == (ids["red.jpg"], "red.jpg", "image")
    assert red["url"] == f"{server.url}/?asset={ids['red.jpg']}"
    assert red["thumbnails"]["small"].startswith(f"{server.url}/api/dam/assets/{red['id']}/")
    assert red["public_url"].startswith(f"{server.url}/s/") and red["public_file_url"] is None

    tile(picker, "green.jpg").click()
    tile(picker, "blue.jpg").click()
    expect(picker.locator(".trove-picker-select")).to_contain_text("Select 2")
    shot(picker, "picker-selection")
    picker.locator(".trove-picker-select").click()
    second = received(page, 2)[1]
    assert sorted(a["filename"] for a in second["assets"]) == ["blue.jpg", "green.jpg"]
    assert all(a["public_url"] is None for a in second["assets"])  # not shared: no public link
    expect(page.locator("#picked li")).to_have_count(3)
    shot(page, "picker-opener")
    shot(picker, "picker", size=PHONE)
    assert errors == []


def test_a_picker_frame_posts_to_its_parent_searches_and_cancels(context, server, opener):
    page = open_opener(context, opener, server)
    page.click("#inline")
    assert page.evaluate("document.getElementById('frame').src").startswith(server.url)
    frame = page.frame_locator("#frame")
    expect(frame.locator(".trove-tile")).to_have_count(4)
    frame.locator(".trove-search input").fill("amber")
    expect(frame.locator(".trove-tile")).to_have_count(1)
    frame.locator('.trove-tile[data-name="amber.jpg"]').dblclick()
    (message,) = received(page, 1)
    assert [a["filename"] for a in message["assets"]] == ["amber.jpg"]
    shot(page, "picker-frame")
    frame.get_by_role("button", name="Cancel").click()
    assert received(page, 2)[1] == {"type": "trove:cancelled"}
    expect(page.locator("#frame")).to_be_hidden()


def test_an_origin_not_allowed_can_neither_frame_the_picker_nor_hear_what_it_picks(
    context, server, stranger
):
    page = open_opener(context, stranger, server)
    page.click("#inline")  # frame-ancestors refuses it: Chromium shows its error page instead
    page.wait_for_function("() => document.getElementById('frame').src.includes('/picker')")
    deadline = time.monotonic() + TIMEOUT_MS / 1000  # not 5 s: the refusal is a page load
    while not any(f.url.startswith("chrome-error:") for f in page.frames):
        if time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    assert [f.url for f in page.frames[1:]] == ["chrome-error://chromewebdata/"]
    with page.expect_popup() as popup:
        page.click("#window")
    picker = popup.value
    tile(picker, "blue.jpg").dblclick()
    expect(picker.locator(".q-notification")).to_contain_text("Picked 1")
    page.wait_for_timeout(500)
    assert page.evaluate("window.received") == []  # posted to the allowed origins only


def test_the_picker_opens_on_an_album_and_says_so_when_nothing_opened_it(context, server, ids):
    page = context.new_page()
    page.goto(f"{server.url}/picker?types=image&album={ids['album']}")
    expect(page.locator(".trove-tile")).to_have_count(1)
    tile(page, "green.jpg").dblclick()
    expect(page.locator(".q-notification")).to_contain_text("No application")


def test_dark_mode_follows_the_system_and_the_header_toggle_keeps_a_choice(browser, server, ids):
    context = browser.new_context(viewport=DESKTOP, color_scheme="dark")
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(2 * TIMEOUT_MS)
    page = context.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector(".trove-tile")
    body = page.locator("body")
    expect(body).to_have_class(re.compile("body--dark"))
    for part in ("body", ".trove-header"):
        colour = page.locator(part).evaluate("e => getComputedStyle(e).backgroundColor")
        assert sum(map(int, re.findall(r"\d+", colour)[:3])) < 150, (part, colour)
    shot(page, "dark-gallery")
    shot(page, "dark-gallery", size=PHONE)
    for name, path in (("graph", f"/graph?node={ids['album']}"), ("map", "/map")):
        page.goto(server.url + path)
        page.wait_for_timeout(800)
        shot(page, f"dark-{name}")
    page.goto(f"{server.url}/picker?types=image,document")
    expect(page.locator(".trove-tile")).to_have_count(5)
    shot(page, "dark-picker", size=PHONE)

    page.goto(server.url + "/")  # at phone width: the toggle stays on screen
    page.click(".trove-theme-toggle")
    page.click(".q-menu .q-item[data-theme=light]")
    expect(body).not_to_have_class(re.compile("body--dark"))
    page.reload()
    page.wait_for_selector(".trove-tile")
    expect(body).not_to_have_class(re.compile("body--dark"))  # kept in this browser
    expect(page.locator(".trove-theme-light")).to_be_visible()
    page.click(".trove-theme-toggle")
    page.click(".q-menu .q-item[data-theme=auto]")
    expect(body).to_have_class(re.compile("body--dark"))  # the system's again
    context.close()


def test_slash_focuses_search_ctrl_a_selects_all_and_question_mark_lists_every_shortcut(
    context, server
):
    page = context.new_page()
    page.goto(server.url + "/")
    expect(page.locator(".trove-tile")).to_have_count(5)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.closest('.trove-search') !== null")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Control+a")
    expect(page.locator(".trove-selection")).to_contain_text("5 selected")
    page.keyboard.press("?")
    shortcuts = page.locator(".trove-shortcuts")
    expect(shortcuts).to_be_visible()
    for text in ("Search", "Select everything", "Favourite", "Rate", "Zoom", "Slideshow", "Esc"):
        expect(shortcuts).to_contain_text(text)
    shot(page, "shortcuts")
    shot(page, "shortcuts", size=PHONE)
