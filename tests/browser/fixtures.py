"""The browser tests' fixtures, one plugin for every tests/test_ui_*.py module (loaded by
tests/conftest.py): one Chromium per module, a fresh context (cookies, storage, viewport) per
test. Each module brings its own `server` (`trove serve` over the library it needs); `page`
opens a tab on it.

Not one Chromium for the whole session: between its calls Playwright's sync API leaves its
event loop marked running in the main thread, so every later test of that worker calling
asyncio.run() (the pipeline does) would fail, as would a second sync API (a module's own
browser, a forked child's).

    playwright  module: Playwright's sync API (a module wanting a browser with other flags
                launches it from this one)
    browser   module: Debian's Chromium under Playwright
    page      a tab in a new 1280x800 context, `page.watch` recording what it must not do
              (dialogs, requests off this machine, page errors); a module that wants them
              checked after every test overrides `page` to call `page.watch.assert_clean()`
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.server import CHROMIUM, REPO, launch_browser

ARTIFACTS = REPO / "test-artifacts" / "ui"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Generous: the suite shares two cores with everything else running on the machine. A wait
# that succeeds returns at once; only a failing one costs the whole timeout.
TIMEOUT_MS = 30_000
EXPECT_TIMEOUT_MS = 15_000  # Playwright's `expect` has its own (5 s by default)
BROWSER_TEST_TIMEOUT_S = 600


def require_chromium() -> None:
    """Skip the calling module without Chromium (fail it under CI, where it must be there)."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail("Chromium is required under CI: scripts/install-system.sh test installs it")
    pytest.skip("no /usr/bin/chromium", allow_module_level=True)


class Watch:
    """What a page did that it must not: dialogs (alert), requests off this machine, errors."""

    def __init__(self, page: Any, origin: str) -> None:
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", lambda r: self._request(r.url, origin))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, url: str, origin: str) -> None:
        if not url.startswith((origin + "/", "data:", "blob:")):
            self.foreign.append(url)

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"a script ran: {self.dialogs}"
        assert self.foreign == [], f"requests left this machine: {self.foreign}"
        assert self.errors == [], f"page errors: {self.errors}"


def pytest_configure(config: pytest.Config) -> None:
    try:
        from playwright.sync_api import expect
    except ImportError:  # the browser modules skip themselves
        return
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser test's time includes its module's server starting and indexing its library
    (in the first test's set-up): on two loaded cores that alone can take minutes, so these
    get twice the suite's timeout unless they set their own."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "timeout"
        ):
            item.add_marker(pytest.mark.timeout(BROWSER_TEST_TIMEOUT_S))


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    """Playwright's driver: a second sync API cannot start beside it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    chromium = launch_browser(playwright)
    yield chromium
    chromium.close()


def new_page(browser: Any, origin: str, **context_options: Any) -> Any:
    """A tab in a context of its own (closed with `page.context.close()`), watched."""
    context = browser.new_context(**{"viewport": DESKTOP, **context_options})
    context.set_default_timeout(TIMEOUT_MS)
    # A server's first page is built cold (imports, the first tiles inside its HTML).
    context.set_default_navigation_timeout(2 * TIMEOUT_MS)
    tab = context.new_page()
    tab.watch = Watch(tab, origin)
    return tab


@pytest.fixture
def page(browser: Any, server: Any) -> Iterator[Any]:
    tab = new_page(browser, server.url)
    yield tab
    tab.context.close()


def shot(page: Any, name: str, *, settle_ms: int = 400) -> None:
    """A screenshot in test-artifacts/ui/, once previews have faded in."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(settle_ms)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
