"""The lightbox in a real browser (Chromium through Playwright) against `trove serve`: zoom that
loads the original past the preview, the URL following the open asset (Back closes, Forward
reopens), the slideshow, swipes, the phone's bottom sheet, the General summary with Advanced,
the other copies with a failed bitrot check, and a video's length on its tile.

One server and one browser for the module. Screenshots of each state land in
test-artifacts/ui/ at 1280x800 and 390x844.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.fixtures import DESKTOP, PHONE, new_page, require_chromium, shot
from tests.browser.library import _video, photo
from tests.browser.server import REPO, TroveServer, serving

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

require_chromium()


def big_photo(path: Path, *, when: datetime) -> Path:
    """3200x2000: more pixels than the 1920 px large preview, with a fine pattern to see."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.linear_gradient("L").resize((3200, 2000)).convert("RGB")
    for x in range(0, 3200, 40):
        image.paste((200, 40, 40), (x, 0, x + 2, 2000))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    image.save(path, "JPEG", quality=80, exif=exif)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def camera_photo(path: Path, *, when: datetime) -> Path:
    """A small JPEG with what a camera writes: make, model, lens, exposure, aperture, ISO."""
    photo(path, colour=(70, 130, 180), when=when)
    with Image.open(path) as image:
        exif = image.getexif()
        pixels = image.copy()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R6"
    ifd = exif.get_ifd(0x8769)
    ifd[0x829A] = 1 / 250  # ExposureTime
    ifd[0x829D] = 1.8  # FNumber
    ifd[0x8827] = 3200  # ISO
    ifd[0x920A] = 73.0  # FocalLength
    ifd[0xA434] = "RF24-105mm F4 L IS USM"  # LensModel
    pixels.save(path, "JPEG", quality=85, exif=exif)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lightbox") / "library"
    for i, colour in enumerate([(231, 76, 60), (46, 204, 113), (52, 152, 219), (241, 196, 15)]):
        photo(root / f"walk/step_{i}.jpg", colour=colour, when=datetime(2024, 5, 10 - i, 9))
    big_photo(root / "walk/big.jpg", when=datetime(2024, 5, 11, 9))
    camera = camera_photo(root / "camera/portrait.jpg", when=datetime(2024, 4, 2, 18))
    backup = root / "backup/photos/2024/portrait.jpg"  # the same bytes: a copy
    backup.parent.mkdir(parents=True)
    backup.write_bytes(camera.read_bytes())
    _video(root / "clips/clip.webm", when=datetime(2024, 3, 1))
    return root


@pytest.fixture(scope="module")
def server(library: Path) -> Iterator[TroveServer]:
    with serving(library) as trove:
        yield trove


@pytest.fixture
def page(page: Any) -> Iterator[Any]:
    yield page
    assert page.watch.errors == [], f"page errors: {page.watch.errors}"


@pytest.fixture
def phone(browser: Any, server: TroveServer) -> Iterator[Any]:
    tab = new_page(browser, server.url, viewport=PHONE, has_touch=True, is_mobile=True)
    yield tab
    tab.context.close()


def asset_id(server: TroveServer, name: str, folder: str = "") -> str:
    items = server.api("/api/dam/assets?limit=1000")["items"]
    (found,) = [i for i in items if i["filename"] == name and i["path"].startswith(folder)]
    return str(found["id"])


def open_tile(page: Any, server: TroveServer, name: str, folder: str = "") -> None:
    page.goto(server.url + "/")
    page.locator(f'.trove-tile[data-id="{asset_id(server, name, folder)}"]').click()
    wait_sharp(page)


def wait_sharp(page: Any) -> None:
    page.wait_for_function("() => window.__troveLightbox && window.__troveLightbox.sharp > 0")


def shown_name(page: Any) -> Any:
    return page.locator(".trove-viewer-name")


def scale(page: Any) -> float:
    transform = page.eval_on_selector(".trove-zoom", "e => e.style.transform")
    if not transform:
        return 1.0
    return float(transform.rsplit("scale(", 1)[1].rstrip(")"))


def test_zoom_past_the_preview_loads_the_original_at_one_to_one(page, server):
    open_tile(page, server, "big.jpg")
    original = f"/api/dam/assets/{asset_id(server, 'big.jpg')}/file"
    preview = page.locator(".trove-zoom img").first
    assert "/thumbnails/" in preview.get_attribute("src") or "large" in preview.get_attribute("src")
    page.mouse.move(640, 420)
    page.mouse.wheel(0, -120)  # a little: the preview still has the pixels
    page.wait_for_function("() => document.querySelector('.trove-zoom').style.transform !== ''")
    assert 1 < scale(page) < 1.5
    assert page.locator(".trove-zoom-full").count() == 0
    stage = page.locator(".trove-viewer-media")
    stage.dblclick(position={"x": 300, "y": 300})  # zoomed: a double-click fits again
    page.wait_for_function("() => document.querySelector('.trove-zoom').style.transform === ''")
    with page.expect_request(lambda r: r.url.endswith(original)) as request:
        stage.dblclick(position={"x": 300, "y": 300})  # fitted: 1:1, past the preview
    assert request.value.response().status == 200
    page.wait_for_selector(".trove-zoom-full")
    assert scale(page) == pytest.approx(
        3200
        / page.eval_on_selector(
            ".trove-zoom img", "i => Math.min(i.clientWidth / 1920, i.clientHeight / 1200) * 1920"
        ),
        rel=0.02,
    )
    shot(page, "lightbox-zoomed-1280x800")
    page.mouse.move(640, 400)
    page.mouse.down()
    page.mouse.move(540, 350)
    page.mouse.up()
    assert page.evaluate("() => document.querySelectorAll('.trove-region').length") == 0
    stage.dblclick(position={"x": 300, "y": 300})
    page.wait_for_function("() => document.querySelector('.trove-zoom').style.transform === ''")
    page.set_viewport_size(PHONE)
    page.locator(".trove-viewer-media").dblclick(position={"x": 195, "y": 400})
    page.wait_for_function("() => document.querySelector('.trove-zoom').style.transform !== ''")
    shot(page, "lightbox-zoomed-390x844")


def test_back_closes_the_lightbox_and_forward_reopens_it(page, server):
    first, second = asset_id(server, "step_0.jpg"), asset_id(server, "step_1.jpg")
    open_tile(page, server, "step_0.jpg")
    expect(page).to_have_url(f"{server.url}/?asset={first}")
    page.keyboard.press("ArrowRight")  # a step replaces the entry: Back still closes
    expect(shown_name(page)).to_have_text("step_1.jpg")
    page.wait_for_url(f"**/?asset={second}")
    page.go_back()
    expect(page.locator(".trove-viewer")).to_be_hidden()
    expect(page).to_have_url(server.url + "/")
    assert page.locator(".trove-tile").count() > 3  # the same gallery page, not a reload
    page.go_forward()
    expect(shown_name(page)).to_have_text("step_1.jpg")
    page.keyboard.press("Escape")  # closing goes back too: Forward opens it again
    expect(page.locator(".trove-viewer")).to_be_hidden()
    page.wait_for_url(server.url + "/")
    page.goto(f"{server.url}/?asset={first}")  # a link opens it directly...
    expect(shown_name(page)).to_have_text("step_0.jpg")
    page.go_back()  # ...with the gallery under it
    expect(page.locator(".trove-viewer")).to_be_hidden()
    expect(page).to_have_url(server.url + "/")


def test_the_slideshow_advances_until_paused(page, server):
    steps = [f"step_{i}.jpg" for i in range(4)]
    open_tile(page, server, "step_0.jpg")
    page.locator("[aria-label='Slideshow interval']").click()
    page.locator(".trove-slideshow-interval", has_text="Every 2 s").click()  # and plays
    expect(page.locator("[aria-label='Pause slideshow']")).to_be_visible()
    shot(page, "lightbox-slideshow-1280x800")
    expect(shown_name(page)).to_have_text("step_1.jpg")  # one interval after Play
    page.keyboard.press("Space")
    expect(page.locator("[aria-label='Play slideshow']")).to_be_visible()
    # On a loaded machine Space may reach the server after the next step did: what shows
    # once Pause is acknowledged is final (a step still on its way is cancelled with it).
    paused = shown_name(page).inner_text()
    assert paused in steps[1:3], paused
    page.wait_for_timeout(2500)  # longer than the interval: a step would have come by now
    expect(shown_name(page)).to_have_text(paused)
    page.keyboard.press("Space")  # Space plays again
    expect(shown_name(page)).to_have_text(steps[steps.index(paused) + 1])
    page.keyboard.press("Escape")
    expect(page.locator(".trove-viewer")).to_be_hidden()


SWIPE = """([x0, x1, y0, y1]) => {
  const target = document.querySelector('.trove-viewer-media');
  const touch = (x, y) => new Touch({identifier: 1, target, clientX: x, clientY: y});
  const fire = (type, x, y, down) => target.dispatchEvent(new TouchEvent(type, {
    bubbles: true, cancelable: true,
    touches: down ? [touch(x, y)] : [], changedTouches: [touch(x, y)],
  }));
  fire('touchstart', x0, y0, true);
  fire('touchmove', (x0 + x1) / 2, (y0 + y1) / 2, true);
  fire('touchmove', x1, y1, true);
  fire('touchend', x1, y1, false);
}"""


def test_phone_swipes_step_and_the_inspector_is_a_bottom_sheet_closed_at_first(phone, server):
    open_tile(phone, server, "step_1.jpg")
    sheet = phone.locator(".trove-viewer-side")
    expect(sheet).to_be_hidden()  # closed: below the screen
    shot(phone, "lightbox-phone-sheet-closed-390x844")
    phone.evaluate(SWIPE, [300, 80, 400, 410])  # right to left: the next one
    expect(shown_name(phone)).to_have_text("step_2.jpg")
    phone.evaluate(SWIPE, [80, 300, 400, 395])  # left to right: back
    expect(shown_name(phone)).to_have_text("step_1.jpg")
    phone.evaluate(SWIPE, [200, 195, 600, 300])  # up: the sheet opens
    expect(sheet).to_be_visible()
    # It slides up (a 0.2 s transition, longer on a loaded machine): until it is all on screen.
    phone.wait_for_function(
        "() => { const r = document.querySelector('.trove-viewer-side').getBoundingClientRect();"
        " return r.bottom <= 845; }"
    )
    box = sheet.bounding_box()
    assert box is not None and box["y"] > 844 * 0.25 and box["y"] + box["height"] <= 845
    shot(phone, "lightbox-phone-sheet-open-390x844")
    phone.locator(".trove-sheet-handle").click()
    expect(sheet).to_be_hidden()
    phone.get_by_role("button", name="Info").click()  # the button opens it too
    expect(sheet).to_be_visible()


def test_general_leads_with_the_summary_hides_ids_under_advanced_and_lists_copies(
    page, server, library
):
    flip_one_byte_keeping_the_date(library / "backup/photos/2024/portrait.jpg")
    verify(server)
    portrait = asset_id(server, "portrait.jpg", "camera")
    page.goto(f"{server.url}/?asset={portrait}")
    summary = page.locator(".trove-camera-summary")
    expect(summary).to_have_text(
        "Canon EOS R6 · RF24-105mm F4 L IS USM · f/1.8 · 1/250 s · ISO 3200 · 73 mm"
    )
    advanced = page.locator(".trove-advanced")
    for hidden in ("SHA-256", portrait, "fs://local/"):  # until Advanced is opened
        expect(page.get_by_text(hidden)).to_be_hidden()
    advanced.get_by_role("button", name="Advanced").click()
    for shown in ("SHA-256", portrait, "fs://local/"):
        expect(advanced.get_by_text(shown)).to_be_visible()
    copies = page.locator(".trove-copies")
    expect(copies).to_contain_text("Also exists in (1)")
    expect(copies.locator(".trove-copy-path")).to_have_text(
        str(library / "backup/photos/2024/portrait.jpg")
    )
    expect(copies.locator(".trove-copy-corrupted")).to_be_visible()  # its bitrot check failed
    shot(page, "lightbox-summary-advanced-copies-1280x800")
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="Info").click()
    shot(page, "lightbox-summary-advanced-copies-390x844")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Info").click()
    copies.locator(".trove-copy-path").click()  # opens the copy: it says it is corrupted
    expect(page.locator(".trove-corrupted")).to_contain_text("Corrupted")
    expect(page.locator(".trove-copies a", has_text="camera")).to_be_visible()
    page.locator(".trove-copies a").click()  # its folder, in the gallery
    page.wait_for_url("**/?root=*path=camera")
    expect(page.locator(".trove-tile")).to_have_count(1)


def test_a_video_tile_shows_its_length(page, server):
    if not any(a["asset_type"] == "video" for a in server.api("/api/dam/assets")["items"]):
        pytest.skip("no ffmpeg to make the video")
    page.goto(server.url + "/")
    duration = page.locator(".trove-tile[data-type=video] .trove-tile-duration")
    expect(duration).to_have_text("0:01")
    page.locator(".trove-tile[data-type=video]").scroll_into_view_if_needed()
    shot(page, "gallery-video-duration-1280x800")


def flip_one_byte_keeping_the_date(path: Path) -> None:
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def verify(server: TroveServer) -> None:
    """`trove verify` over the server's data: the flipped copy gets a `corrupted` finding."""
    data_dir = Path(server.log).parent / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
    env.update(TROVE_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO / "src"))
    result = subprocess.run(
        [sys.executable, "-m", "trove", "verify", "--json"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert json.loads(result.stdout)["corrupted"], result.stderr


def test_f_r_and_delete_mark_rate_and_trash_what_is_shown(page, server):
    shown = asset_id(server, "step_3.jpg")
    open_tile(page, server, "step_3.jpg")
    page.keyboard.press("f")
    expect(page.locator(".trove-viewer .trove-favorite")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("r")
    page.keyboard.press("4")
    expect(page.locator(".trove-rating .q-rating__icon--active")).to_have_count(4)
    asset = server.api(f"/api/dam/assets/{shown}")
    assert (asset["favorite"], asset["rating"]) == (True, 4)
    heart = page.locator(f'.trove-tile[data-id="{shown}"] .trove-tile-heart')
    expect(heart).to_have_attribute("aria-pressed", "true")  # the tile under it follows
    page.keyboard.press("Delete")  # to the Trash; the lightbox shows the one before it
    expect(shown_name(page)).not_to_have_text("step_3.jpg")
    assert server.api(f"/api/dam/assets/{shown}")["deleted"] is True  # restorable
    expect(page.locator(f'.trove-tile[data-id="{shown}"]')).to_have_count(0)
