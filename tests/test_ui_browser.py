"""The web UI in a real browser (Debian's Chromium through Playwright) against `trove serve`.

One server and one browser for the module; each test opens its own page. Screenshots land in
test-artifacts/ui/ (ignored by git) to be looked at.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser.fixtures import DESKTOP, PHONE, require_chromium, shot
from tests.browser.library import HOSTILE, make_browser_library, photo
from tests.browser.server import TroveServer, start_server

pytestmark = pytest.mark.slow

COLOUR = "e => getComputedStyle(e).color"

playwright_api = pytest.importorskip("playwright.sync_api")

require_chromium()


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_browser_library(tmp_path_factory.mktemp("ui") / "library")


@pytest.fixture(scope="module")
def server(library: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TroveServer]:
    # The libraries test adds a folder of its own tmp_path through the page.
    allowed = {"TROVE_ALLOWED_ROOTS": str(tmp_path_factory.getbasetemp())}
    trove = start_server(data_dir=library.parent / "data", roots=[library], env=allowed)
    try:
        trove.wait_idle(timeout=120)
        yield trove
    finally:
        trove.stop()


def tile(page: Any, name: str) -> Any:
    return page.locator(f'.trove-tile[data-name="{name}"]')


def open_gallery(page: Any, server: TroveServer) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector(".trove-tile")


def asset_named(server: TroveServer, name: str) -> dict[str, Any]:
    items = server.api("/api/dam/assets?limit=1000")["items"]
    (asset,) = [i for i in items if i["filename"] == name]
    return server.api(f"/api/dam/assets/{asset['id']}")


def test_gallery_is_newest_first_grouped_by_month_and_served_locally(page, server):
    # The first tiles are in the HTML itself (they paint before any script has run), names
    # escaped; the grid replaces them once it has drawn its own.
    with urllib.request.urlopen(server.url + "/", timeout=30) as response:
        first = response.read().decode().split('id="trove-first-tiles"', 1)[1]
    first = first.split("<script>", 1)[0]
    assert first.index('title="photo_00.jpg"') < first.index('title="photo_01.jpg"')
    assert HOSTILE not in first and html.escape(HOSTILE) in first
    open_gallery(page, server)
    playwright_api.expect(page.locator("#trove-first-tiles")).to_have_count(0)
    names = page.locator(".trove-tile").evaluate_all("els => els.map(e => e.dataset.name)")
    assert names[0] == "photo_00.jpg"  # June 2024, the newest
    headers = page.locator(".trove-grid-header-label").all_inner_texts()
    assert headers[:3] == ["June 2024", "May 2024", "April 2024"]
    assert page.locator(".trove-tile[data-type=collection]").count() == 0  # folders are not tiles
    playwright_api.expect(page.locator(".trove-count")).to_have_text(re.compile(r"\d+ items$"))
    shot(page, "gallery-1280x800")
    page.set_viewport_size(PHONE)
    page.wait_for_function(  # three columns on a phone
        "() => document.querySelector('.trove-grid-row').querySelectorAll('.trove-tile')"
        ".length === 3"
    )
    shot(page, "gallery-390x844")
    page.watch.assert_clean()


def test_filter_by_type_select_three_and_tag_them_then_filter_by_tag(page, server):
    open_gallery(page, server)
    page.locator(".q-chip[data-type=image]").click()
    page.wait_for_function(  # not the empty grid between the filter's reset and its first page
        "() => { const t = [...document.querySelectorAll('.trove-tile')];"
        " return t.length > 0 && t.every(x => x.dataset.type === 'image'); }"
    )
    tile(page, "photo_01.jpg").locator(".trove-tile-check").click()
    tile(page, "photo_03.jpg").click(modifiers=["Shift"])  # a range: 01, 02, 03
    expect = playwright_api.expect
    expect(page.locator(".trove-selection")).to_contain_text("3 selected")
    shot(page, "gallery-selection-1280x800")
    page.locator(".trove-bulk-tag input").fill("holiday")
    page.locator(".trove-bulk-tag input").press("Enter")
    expect(page.locator(".q-notification").last).to_contain_text("Tagged 3")
    tagged = {
        name: asset_named(server, name)["tags"]
        for name in ("photo_00.jpg", "photo_01.jpg", "photo_02.jpg", "photo_03.jpg")
    }
    assert tagged == {
        "photo_00.jpg": [],
        "photo_01.jpg": ["holiday"],
        "photo_02.jpg": ["holiday"],
        "photo_03.jpg": ["holiday"],
    }
    search = page.locator(".trove-search input")
    search.fill("photo_1")
    page.wait_for_function(
        "() => { const t = [...document.querySelectorAll('.trove-tile')];"
        " return t.length === 2 && t.every(x => x.dataset.name.startsWith('photo_1')); }"
    )
    search.fill("")
    page.wait_for_function("() => document.querySelectorAll('.trove-tile').length > 3")
    search.fill("hol")  # suggestions for the word being typed; picking one completes it
    page.locator(".trove-suggestion", has_text="holiday").click()
    expect(search).to_have_value("tag:holiday ")
    page.wait_for_function("() => document.querySelectorAll('.trove-tile').length === 3")
    search.fill("photo colour:red")
    expect(page.get_by_text("unknown filter 'colour'", exact=False)).to_be_visible()
    search.fill("")
    page.wait_for_function("() => document.querySelectorAll('.trove-tile').length > 3")
    page.locator(".trove-tag-filter").click()
    page.locator(".q-menu .q-item", has_text="holiday").click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.querySelectorAll('.trove-tile').length === 3")
    shown = page.locator(".trove-tile").evaluate_all("els => els.map(e => e.dataset.name)")
    assert sorted(shown) == ["photo_01.jpg", "photo_02.jpg", "photo_03.jpg"]
    page.watch.assert_clean()


def test_lightbox_keyboard_navigation_and_title_edit_persist(page, server):
    open_gallery(page, server)
    tile(page, "photo_04.jpg").click()
    viewer_name = page.locator(".trove-viewer-name")
    expect = playwright_api.expect
    expect(viewer_name).to_have_text("photo_04.jpg")
    page.keyboard.press("ArrowRight")
    expect(viewer_name).to_have_text("photo_05.jpg")
    page.keyboard.press("ArrowRight")
    expect(viewer_name).to_have_text("photo_06.jpg")
    page.keyboard.press("ArrowLeft")
    expect(viewer_name).to_have_text("photo_05.jpg")
    title = page.locator(".trove-title-input input")
    title.fill("Sunset at the lake")
    title.press("Enter")
    expect(viewer_name).to_have_text("Sunset at the lake")
    assert asset_named(server, "photo_05.jpg")["title"] == "Sunset at the lake"
    shot(page, "lightbox-1280x800")
    page.locator(".q-tab", has_text="Graph").click()
    expect(page.locator(".trove-graph-relation")).to_contain_text("In folder")
    page.locator(".trove-graph-node", has_text="trip").click()
    expect(viewer_name).to_have_text("trip")  # the folder is an asset too
    page.keyboard.press("Escape")
    tile(page, "photo_05.jpg").click()
    expect(viewer_name).to_have_text("Sunset at the lake")
    page.set_viewport_size(PHONE)
    shot(page, "lightbox-390x844")
    page.set_viewport_size(DESKTOP)
    page.locator(".trove-title-input input").blur()
    page.keyboard.press("Escape")
    expect(page.locator(".trove-viewer")).to_be_hidden()
    expect(tile(page, "photo_05.jpg")).to_have_attribute("title", "Sunset at the lake")
    asset_id = asset_named(server, "photo_05.jpg")["id"]
    page.goto(f"{server.url}/?asset={asset_id}")  # what "Copy link" copies
    expect(viewer_name).to_have_text("Sunset at the lake")
    page.watch.assert_clean()


def _uploader(page: Any) -> Any:
    """Open the uploader (Uppy's Dashboard modal) and return its file list."""
    page.get_by_role("button", name="Upload").first.click()
    page.wait_for_selector(".uppy-Dashboard--modal .uppy-Dashboard-inner")
    return page.locator(".uppy-Dashboard-Item")


def _add_files(page: Any, *paths: Path) -> None:
    page.locator(".uppy-Dashboard-input").first.set_input_files([str(p) for p in paths])


def test_upload_through_the_uploader_appears_with_its_preview(page, server, tmp_path):
    picture = photo(tmp_path / "fresh upload.jpg", colour=(250, 50, 150), when=datetime.now())
    open_gallery(page, server)
    assert page.evaluate("() => !window.TroveUppy")  # Uppy loads when the uploader opens
    items = _uploader(page)
    _add_files(page, picture)
    expect = playwright_api.expect
    expect(items.filter(has_text="fresh upload.jpg")).to_have_class(
        re.compile(r"is-complete"), timeout=20_000
    )
    page.keyboard.press("Escape")
    uploaded = tile(page, "fresh upload.jpg")
    expect(uploaded).to_be_visible(timeout=20_000)
    asset = asset_named(server, "fresh upload.jpg")
    assert (server_upload := asset["path"]) == "owner/fresh upload.jpg", server_upload
    # The pipeline always makes previews of a JPEG: the tile must show one, not a placeholder.
    expect(uploaded.locator("img.trove-tile-img")).to_be_visible(timeout=60_000)
    assert uploaded.locator("img").get_attribute("src").startswith("/api/dam/assets/")
    page.watch.assert_clean()


def test_an_upload_is_paused_resumed_after_a_reload_and_lands_byte_for_byte(
    page, server, tmp_path, library
):
    data = os.urandom(6 * 1024 * 1024)
    big = tmp_path / "paused.bin"
    big.write_bytes(data)
    open_gallery(page, server)
    # The browser sends at most 1 MB/s, so the upload is still running when paused.
    cdp = page.context.new_cdp_session(page)
    throttled = {"offline": False, "latency": 0, "downloadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", {**throttled, "uploadThroughput": 1_000_000})
    items = _uploader(page)
    _add_files(page, big)
    item = items.filter(has_text="paused.bin")
    expect = playwright_api.expect
    expect(item).to_have_class(re.compile(r"is-inprogress"), timeout=20_000)
    # Paused once a first MB is sent (so its record exists and some bytes are stored), not
    # after a fixed time: a loaded machine may not have sent anything yet.
    page.wait_for_function(
        "() => troveUploader.uppy.getFiles().some(f => f.name === 'paused.bin'"
        " && f.progress.bytesUploaded >= 1000000)"
    )
    item.get_by_role("button", name="Pause upload").click()
    expect(item.get_by_role("button", name="Resume upload")).to_be_visible()
    shot(page, "upload-paused-1280x800")
    listed = server.api("/api/dam/assets?limit=1000")["items"]
    (pending,) = [a for a in listed if a["filename"] == "paused.bin"]
    assert pending["status"] == "uploading"

    page.reload()  # the same file added again continues the same upload
    open_gallery(page, server)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.emulateNetworkConditions", {**throttled, "uploadThroughput": -1})
    items = _uploader(page)
    _add_files(page, big)
    item = items.filter(has_text="paused.bin")
    expect(item).to_have_class(re.compile(r"is-complete"), timeout=60_000)
    stored = server.api(f"/api/dam/assets/{pending['id']}")
    assert stored["status"] in ("processing", "ready") and stored["size"] == len(data)
    assert (library.parent / "data" / "uploads" / "owner" / "paused.bin").read_bytes() == data
    shot(page, "upload-resumed-1280x800")
    page.watch.assert_clean()


def test_an_upload_the_server_refuses_is_shown_failed_in_red_beside_one_that_landed(
    page, server, tmp_path
):
    refused = tmp_path / "Thumbs.db"
    refused.write_bytes(b"a Windows thumbnail cache")
    landed = tmp_path / "landed.txt"
    landed.write_text("stored\n")
    written = datetime(2019, 5, 4, 3, 2, 1, tzinfo=UTC).timestamp()
    os.utime(landed, (written, written))  # the browser sends it as File.lastModified
    open_gallery(page, server)
    items = _uploader(page)
    _add_files(page, refused, landed)
    expect = playwright_api.expect
    failed = items.filter(has_text="Thumbs.db")
    expect(failed).to_have_class(re.compile(r"is-error"), timeout=20_000)
    assert "is-complete" not in (failed.get_attribute("class") or "")
    name = failed.locator(".uppy-Dashboard-Item-name")
    red, green, blue = map(int, re.findall(r"\d+", name.evaluate(COLOUR))[:3])
    assert red > 150 and green < 100 and blue < 100, (red, green, blue)
    expect(failed.locator(".uppy-Dashboard-Item-errorDetails")).to_have_attribute(
        "aria-label", re.compile("hidden and system names are not indexed")
    )
    expect(items.filter(has_text="landed.txt")).to_have_class(
        re.compile(r"is-complete"), timeout=20_000
    )
    expect(page.locator(".q-notification", has_text="Thumbs.db")).to_contain_text(
        "hidden and system names are not indexed"
    )
    stored = asset_named(server, "landed.txt")
    assert stored["path"] == "owner/landed.txt"
    assert stored["timeline_at"].startswith("2019-05-04")  # dated by its mtime, not the upload
    assert "Thumbs.db" not in {
        i["filename"] for i in server.api("/api/dam/assets?limit=1000")["items"]
    }
    shot(page, "upload-failed-1280x800")
    page.watch.assert_clean()


def test_markup_in_a_name_and_in_metadata_is_shown_as_text(page, server):
    name = f"{HOSTILE}.jpg"
    asset = asset_named(server, name)
    server.api(
        f"/api/dam/assets/{asset['id']}",
        method="PATCH",
        body={"description": HOSTILE, "metadata": {"notes": {"caption": HOSTILE}}},
    )
    open_gallery(page, server)
    hostile = tile(page, name)
    hostile.scroll_into_view_if_needed()
    hostile.click()
    expect = playwright_api.expect
    expect(page.locator(".trove-viewer-name")).to_have_text(name)
    expect(page.locator(".trove-fields").first).to_contain_text(name)  # General, then Advanced
    # The inspector follows the picture a tick later (viewer.py `_later`).
    expect(page.get_by_role("textbox", name="Description")).to_have_value(HOSTILE)
    page.locator(".q-tab", has_text="Notes").click()
    expect(page.locator(".trove-tree")).to_contain_text(f"caption: {HOSTILE}")
    if (asset.get("metadata") or {}).get("exif"):
        page.locator(".q-tab", has_text="Camera").click()  # typed rows, the rest raw below
        page.locator(".trove-raw-values:visible").get_by_text("All values").click()
        expect(page.locator(".trove-tree:visible")).to_contain_text(HOSTILE)
        shot(page, "lightbox-exif-1280x800")
    page.wait_for_timeout(300)
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("() => document.querySelectorAll('img[onerror]').length") == 0
    page.watch.assert_clean()


def test_video_and_audio_play_from_the_original_with_ranges(page, server, library):
    # Asked of the library, not of the tiles drawn so far (a tile not drawn yet is no skip).
    if not (library / "clips/clip.webm").exists():
        pytest.skip("ffmpeg is not installed: no video in the library")
    open_gallery(page, server)
    video = tile(page, "clip.webm")
    video.click()
    player = page.locator(".trove-viewer video")
    playwright_api.expect(player).to_be_visible()
    playwright_api.expect(player).to_have_attribute(
        "src", re.compile(r"^/api/dam/assets/[^/]+/file$")
    )
    page.wait_for_function("() => document.querySelector('.trove-viewer video').readyState >= 1")
    page.keyboard.press("Escape")
    tile(page, "tone.wav").scroll_into_view_if_needed()
    tile(page, "tone.wav").click()
    page.wait_for_function("() => document.querySelector('.trove-viewer audio')?.readyState >= 1")
    page.watch.assert_clean()


def test_libraries_page_shows_roots_scans_and_adds_one(page, server, library, tmp_path):
    page.goto(server.url + "/libraries")
    expect = playwright_api.expect
    card = page.locator(".trove-root-card", has_text=library.name).first
    expect(card).to_contain_text("online")
    expect(card).to_contain_text("Files")
    expect(page.locator(".trove-activity")).to_contain_text("hash")
    expect(page.locator(".trove-overall")).to_contain_text("files processed")
    shot(page, "libraries-1280x800")
    page.set_viewport_size(PHONE)
    shot(page, "libraries-390x844")
    page.set_viewport_size(DESKTOP)
    card.get_by_role("button", name="Scan now").click()
    expect(page.locator(".q-notification").last).to_contain_text("Scan queued")
    extra = tmp_path / "second library"
    photo(extra / "one.jpg", colour=(10, 200, 10), when=datetime(2022, 1, 1))
    page.get_by_role("button", name="Browse…").click()  # the folder picker, not typing
    picker = page.locator(".trove-folder-picker")
    for name in (tmp_path.parent.name, tmp_path.name, "second library"):
        picker.get_by_role("button", name=name, exact=True).click()
    expect(picker.locator(".trove-root-path")).to_have_text(str(extra))
    picker.get_by_role("button", name="Choose this folder").click()
    expect(page.locator(".trove-root-input input")).to_have_value(str(extra))
    page.get_by_role("button", name="Add library").click()
    # Cards are found by their folder's whole path: a rerun on the same server finds the
    # libraries the first run left, under another tmp_path, by the same names.
    second = page.locator(".trove-root-card", has_text=str(extra))
    expect(second).to_contain_text("Ready")
    # A folder of a library is no library of its own: said, and nothing added.
    inside = next(p for p in sorted(library.rglob("*")) if p.is_dir())
    page.locator(".trove-root-input input").fill(str(inside))
    page.get_by_role("button", name="Add library").click()
    expect(page.locator(".q-notification").last).to_contain_text("is inside the library")
    expect(page.locator(".trove-root-card", has_text=str(inside))).to_have_count(0)
    moved = tmp_path / "moved library"  # its disk mounted elsewhere: relocated, not re-added
    extra.rename(moved)
    second.locator(".trove-root-relocate-button").click()
    dialog = page.locator(".trove-relocate-root")
    dialog.locator(".trove-relocate-path input").fill(str(moved))
    dialog.get_by_role("button", name="Relocate").click()
    expect(page.locator(".q-notification").last).to_contain_text("now reads")
    second = page.locator(".trove-root-card", has_text=str(moved))
    expect(second).to_contain_text(str(moved))
    again = tmp_path / "found again"  # added as a new folder: offered for relocation instead
    moved.rename(again)
    page.locator(".trove-root-input input").fill(str(again))
    page.get_by_role("button", name="Add library").click()
    offer = page.locator(".trove-relocation-offer")
    expect(offer).to_contain_text(f"its folder was at {moved}")
    offer.get_by_role("button", name="Relocate moved library here").click()
    expect(offer).to_have_count(0)
    expect(page.locator(".q-notification").last).to_contain_text("found again; rescanning")
    second = page.locator(".trove-root-card", has_text=str(again))
    expect(second).to_contain_text(str(again))
    moved = again
    second.locator(".trove-root-remove-button").click()
    confirm = page.locator(".trove-remove-root")
    expect(confirm).to_contain_text(re.compile(r"forgets \d+ file\(s\)"))
    expect(confirm).to_contain_text(f"Nothing in {moved} is deleted or changed.")
    shot(page, "libraries-remove-1280x800")
    confirm.get_by_role("button", name="Remove from index").click()
    expect(second).to_have_count(0)
    assert (moved / "one.jpg").exists()
    page.watch.assert_clean()


def only_notification(page: Any, text: str) -> None:
    """Exactly one notification, saying `text`: Quasar shows a repeated one once, with a
    count badge, so a second call of the same action shows as that badge."""
    expect = playwright_api.expect
    notification = page.locator(".q-notification")
    expect(notification.last).to_contain_text(text)
    page.wait_for_timeout(1500)  # a second call's answer would have come by now
    expect(notification).to_have_count(1)
    expect(notification.locator(".q-notification__badge")).to_have_count(0)


def root_card(page: Any, folder: Path) -> Any:
    """A library's card, found by its folder's whole path: a rerun on the same server finds
    the libraries its first run left, under another tmp_path, by the same names."""
    at = page.locator(".trove-root-path", has_text=re.compile(f"^{re.escape(str(folder))}$"))
    return page.locator(".trove-root-card", has=at)


def click_twice(button: Any) -> None:
    """Two clicks in one go: the second reaches the server while the first one's action
    runs, as an impatient double-click's does on a busy server."""
    button.evaluate("b => { b.click(); b.click(); }")


def _double_library(folder: Path) -> Path:
    photo(folder / "one.jpg", colour=(200, 10, 10), when=datetime(2022, 2, 1))
    with (folder / "big.bin").open("wb") as big:  # its hash makes the relocation's check slow
        big.truncate(1 << 28)
    return folder


def test_a_double_click_adds_relocates_and_removes_a_library_once(page, server, tmp_path):
    expect = playwright_api.expect
    folder = _double_library(tmp_path / "double")
    page.goto(server.url + "/libraries")
    page.locator(".trove-root-input input").fill(str(folder))
    click_twice(page.get_by_role("button", name="Add library"))
    only_notification(page, "Added double; scanning")
    card = root_card(page, folder)
    expect(card).to_contain_text("Ready")
    server.wait_idle(timeout=120)
    expect(page.locator(".q-notification")).to_have_count(0)
    # The same files at a new place, the old folder gone: renamed, the folder was sometimes
    # followed by the server's watcher before the dialog's relocation (which then failed).
    moved = _double_library(tmp_path / "double moved")
    shutil.rmtree(folder)
    card.locator(".trove-root-relocate-button").click()
    dialog = page.locator(".trove-relocate-root")
    dialog.locator(".trove-relocate-path input").fill(str(moved))
    relocate = dialog.get_by_role("button", name="Relocate")
    click_twice(relocate)
    expect(relocate).to_be_disabled()  # while the sample is compared: no third click either
    only_notification(page, "now reads")
    expect(dialog).to_be_hidden()
    expect(page.locator(".q-notification")).to_have_count(0)
    card = root_card(page, moved)
    card.locator(".trove-root-remove-button").click()
    click_twice(page.locator(".trove-remove-root").get_by_role("button", name="Remove from index"))
    only_notification(page, "double moved removed from the index")
    expect(card).to_have_count(0)
    page.watch.assert_clean()


def test_the_relocation_dialog_asks_for_a_folder_and_relocates_on_enter(
    page, server, library, tmp_path
):
    expect = playwright_api.expect
    page.goto(server.url + "/libraries")
    root_card(page, library).locator(".trove-root-relocate-button").click()
    dialog = page.locator(".trove-relocate-root")
    dialog.get_by_role("button", name="Relocate").click()  # nothing typed yet
    expect(page.locator(".q-notification").last).to_contain_text("Type the folder")
    expect(dialog).to_be_visible()
    where = dialog.locator(".trove-relocate-path input")
    where.fill(str(tmp_path / "nowhere"))
    where.press("Enter")
    expect(page.locator(".q-notification").last).to_contain_text("nowhere: folder is missing")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    page.watch.assert_clean()


def test_duplicates_page_lists_each_group_with_its_paths(page, server, library):
    page.goto(server.url + "/duplicates")
    card = page.locator(".trove-dup-card", has_text="notes.txt")
    expect = playwright_api.expect
    expect(card).to_contain_text(f"{library}/docs/notes.txt")
    expect(card).to_contain_text(f"{library}/docs/old/notes copy.txt")
    expect(page.locator(".trove-nav-active")).to_contain_text("Duplicates")
    shot(page, "duplicates-1280x800")
    page.watch.assert_clean()


def _shared(server: TroveServer, names: list[str], **options: Any) -> dict[str, Any]:
    items = server.api("/api/dam/assets?limit=1000")["items"]
    ids = [i["id"] for i in items if i["filename"] in names]
    album = server.api("/api/dam/albums", method="POST", body={"name": f"Shared {names[0]}"})
    server.api(f"/api/dam/albums/{album['id']}/assets", method="POST", body={"asset_ids": ids})
    return server.api("/api/dam/shares", method="POST", body={"album_id": album["id"], **options})


def test_a_share_link_opens_a_bare_gallery_and_lightbox_with_download_and_nothing_else(
    page, server
):
    link = _shared(server, ["photo_00.jpg", "photo_01.jpg"], allow_download=True)
    page.goto(server.url + link["url"])
    page.wait_for_selector(".trove-share-tile img")
    expect = playwright_api.expect
    expect(page.locator(".trove-share-tile")).to_have_count(2)
    assert page.locator(".trove-nav, .trove-search, .trove-drawer").count() == 0
    shot(page, "share-gallery")
    page.locator(".trove-share-tile").first.click()
    page.wait_for_selector(".trove-share-lightbox .trove-share-large img")
    expect(page.locator(".trove-share-download")).to_be_visible()
    shot(page, "share-lightbox")
    page.watch.assert_clean()


def test_a_password_share_asks_for_it_and_a_revoked_one_says_so(page, server):
    link = _shared(server, ["photo_02.jpg"], password="sesame-42")
    page.goto(server.url + link["url"])
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Open").click()
    page.get_by_text("Wrong password.").wait_for()
    page.get_by_label("Password").fill("sesame-42")
    page.get_by_role("button", name="Open").click()
    page.wait_for_selector(".trove-share-tile")
    assert page.locator(".trove-share-download").count() == 0
    server.api(f"/api/dam/shares/{link['id']}", method="DELETE")
    page.reload()
    page.get_by_text("This share was revoked.").wait_for()
    shot(page, "share-revoked")
    page.watch.assert_clean()
