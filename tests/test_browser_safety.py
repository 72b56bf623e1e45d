"""Browser-side limits, checked in real Chromium against `trove serve`.

A hostile SVG in a library points at a small HTTP server on 127.0.0.1 that counts what it is
asked for: opened straight from `/file` it must make the browser fetch nothing. The UI must
still work under its Content-Security-Policy, and a page of another origin must not get a
websocket to Trove.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.fixtures import TIMEOUT_MS, require_chromium
from tests.browser.library import photo
from tests.browser.server import TroveServer, free_port, launch_browser, start_server

pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")

require_chromium()


class Bait(http.server.ThreadingHTTPServer):
    """Records every request; what an SVG's <image>, <script> or CSS would fetch lands here."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        bait = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                bait.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _hostile_svg(bait: str) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' width="200" height="200">'
        f'<style>@import url("{bait}/css");</style>'
        f'<image href="{bait}/image" width="100" height="100"/>'
        f'<foreignObject width="100" height="100"><img xmlns="http://www.w3.org/1999/xhtml"'
        f' src="{bait}/html-img"/></foreignObject>'
        f'<script>fetch("{bait}/fetch")</script>'
        "</svg>"
    )


@pytest.fixture(scope="module")
def bait() -> Iterator[Bait]:
    server = Bait()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, bait: Bait) -> Iterator[TroveServer]:
    library = tmp_path_factory.mktemp("safety") / "library"
    photo(library / "photo.jpg", colour=(200, 40, 40), when=datetime(2024, 5, 1))
    (library / "hostile.svg").write_text(_hostile_svg(bait.url))
    trove = start_server(data_dir=library.parent / "data", roots=[library])
    try:
        trove.wait_idle(timeout=120)
        yield trove
    finally:
        trove.stop()


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    """Chromium without its local-network-access check, which would stop a page on 127.0.0.1
    from loading another 127.0.0.1 port by itself: here the CSP alone must stop it, as it must
    for a Trove on a LAN address and an SVG that names a cloud metadata address."""
    chromium = launch_browser(playwright, "--disable-features=LocalNetworkAccessChecks")
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)  # as tests/browser/fixtures.py: a loaded machine
    tab.set_default_navigation_timeout(2 * TIMEOUT_MS)
    yield tab
    context.close()


def _file_url(server: TroveServer, name: str) -> str:
    items = server.api("/api/dam/assets?limit=100")["items"]
    (asset,) = [i for i in items if i["filename"] == name]
    return f"{server.url}/api/dam/assets/{asset['id']}/file"


def _show_inline(page: Any, url: str, *, keep_csp: bool) -> list[str]:
    """Open `url` with Trove's real answer, but shown instead of downloaded (and, for the
    control, without its CSP), so the CSP itself is what is tested; returns what the page
    asked the network for."""
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.on("requestfailed", lambda r: page.blocked.append((r.url, r.failure)))
    page.blocked = []

    def handle(route: Any) -> None:
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k != "content-disposition"}
        if not keep_csp:
            headers.pop("content-security-policy")
        route.fulfill(response=response, headers=headers)

    page.route(url, handle)
    # Until nothing has been asked of the network for 0.5 s: whatever the SVG fetches, it has
    # asked for and been answered (or refused) by then, however slowly it was rendered.
    page.goto(url, wait_until="networkidle")
    return asked[1:]


def test_a_hostile_svg_opened_from_the_library_fetches_nothing(page, server, bait):
    url = _file_url(server, "hostile.svg")
    with page.expect_download() as download:  # an active type is a download, never a page
        try:
            page.goto(url)
        except playwright_api.Error as exc:
            assert "Download is starting" in str(exc)
    assert download.value.suggested_filename == "hostile.svg"
    asked = _show_inline(page, url, keep_csp=True)
    assert page.locator("svg image").count() == 1  # it was rendered, as an SVG document
    assert bait.hits == []
    assert asked  # the SVG did ask, and the browser refused each one for the policy
    assert {failure for _url, failure in page.blocked} == {"csp"}
    assert len(page.blocked) == len(asked)


def test_without_the_csp_the_same_svg_would_have_fetched(page, server, bait):
    """The control: proves the bait server and the SVG do catch a fetch."""
    bait.hits.clear()
    asked = _show_inline(page, _file_url(server, "hostile.svg"), keep_csp=False)
    assert f"{bait.url}/image" in asked
    deadline = time.monotonic() + 10
    while "/image" not in bait.hits and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {"/image", "/css", "/fetch"} <= set(bait.hits)
    bait.hits.clear()


def test_the_gallery_works_under_its_content_security_policy(page, server):
    violations: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.on("pageerror", lambda e: violations.append(str(e)))
    response = page.goto(server.url + "/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    page.wait_for_selector('.trove-tile[data-name="photo.jpg"]')
    page.wait_for_function(  # its preview loaded (an <img> from this server)
        "() => [...document.querySelectorAll('.trove-tile img')].some(i => i.naturalWidth > 0)"
    )
    page.goto(server.url + "/libraries")
    page.wait_for_selector(".trove-root-card")
    assert violations == []


def _websocket_handshake(server: TroveServer, origin: str) -> str:
    """The status line Trove answers to a socket.io websocket upgrade from `origin`."""
    host = urlsplit(server.url).netloc
    request = (
        "GET /_nicegui_ws/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", urlsplit(server.url).port), timeout=10) as sock:
        sock.sendall(request.encode())
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_a_page_of_another_origin_gets_no_websocket(server):
    assert " 101 " in _websocket_handshake(server, server.url)
    assert " 403 " in _websocket_handshake(server, "http://evil.example")
