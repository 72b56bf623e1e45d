"""A screenshot of a page with headless Chromium (Debian's, driven by Playwright), in which the
browser itself never touches the network.

Every request the page makes is intercepted (`context.route`) and answered with what the
`Fetcher` got for it, so each one passes the same address policy, pinning and limits as the
page itself; what the fetcher refuses is aborted. Behind that, Chromium is started so that
anything escaping interception goes nowhere: every host name resolves to nothing, the proxy
is a closed port on loopback, WebRTC may not use UDP, and WebSockets, service workers and
downloads are refused. Scripts run for at most `script_seconds`, then are stopped (a page
that spins forever is stopped too); the whole screenshot has a deadline and the bytes of all
answers together a cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from playwright.async_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Playwright,
    Route,
    WebSocketRoute,
    async_playwright,
)
from playwright.async_api import Error as PlaywrightError

from trove.config import Settings
from trove.scraper.fetch import Fetcher, FetchFailed, Want
from trove.scraper.policy import Refused

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = (1280, 800)
# Past the deadline, the browser gets this long to close before the caller stops waiting.
CLOSE_GRACE_S = 5.0
STOP_SCRIPTS = (("Emulation.setScriptExecutionDisabled", {"value": True}),)
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-features=Translate,MediaRouter,OptimizationHints,DnsOverHttps",
    "--mute-audio",
    # The net under the interception: nothing the page does can reach a host on its own.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
)


class ScreenshotFailed(Exception):
    """No screenshot; the message says why."""


@dataclass(frozen=True, kw_only=True)
class BrowserLimits:
    timeout_s: float = 30.0
    script_seconds: float = 5.0
    max_bytes: int = 25 * 1024**2

    @classmethod
    def from_settings(cls, settings: Settings) -> BrowserLimits:
        return cls(
            timeout_s=settings.scraper_browser_timeout_s,
            script_seconds=settings.scraper_script_seconds,
            max_bytes=settings.scraper_browser_max_bytes,
        )


@dataclass
class _Budget:
    """What the page's requests may still spend, and what was refused (for the record)."""

    deadline: float
    bytes_left: int
    refused: list[str] = field(default_factory=list)
    document_refused: str | None = None  # why the page itself was not loaded


class ScreenshotBrowser:
    """One Chromium for many screenshots, each page in a fresh context (no cookies, cache or
    storage shared between pages). Starting Chromium is most of a screenshot's cost, so it
    starts on the first one and stays until `close()` or until a screenshot overruns its
    deadline (then it is stopped, and started again for the next).

    Playwright's asyncio API runs on an event loop of this object's own thread, whatever the
    caller runs on: stopping a page's scripts needs two messages in flight at once (see
    `_stop_scripts`), and several pipeline threads may ask for screenshots at once.
    """

    def __init__(self, limits: BrowserLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._starting: asyncio.Lock | None = None

    def screenshot(self, url: str, *, fetcher: Fetcher) -> bytes:
        """A PNG of the page's first screen. ScreenshotFailed when there is nothing to show."""
        limits = self.limits
        budget = _Budget(deadline=time.monotonic() + limits.timeout_s, bytes_left=limits.max_bytes)
        future = asyncio.run_coroutine_threadsafe(
            self._screenshot(url, fetcher=fetcher, budget=budget), self._running_loop()
        )
        try:
            return future.result(timeout=limits.timeout_s + CLOSE_GRACE_S)
        except FutureTimeout:
            future.cancel()
            self._stop_browser()
            raise ScreenshotFailed("the time for the screenshot ran out") from None

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        stopping = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        with contextlib.suppress(Exception):
            stopping.result(timeout=CLOSE_GRACE_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=CLOSE_GRACE_S)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="trove-screenshots", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def _stop_browser(self) -> None:
        loop = self._loop
        if loop is not None:
            stopping = asyncio.run_coroutine_threadsafe(self._close_browser(), loop)
            with contextlib.suppress(Exception):
                stopping.result(timeout=CLOSE_GRACE_S)

    async def _screenshot(self, url: str, *, fetcher: Fetcher, budget: _Budget) -> bytes:
        try:
            browser = await self._started(budget)
            return await _shoot(browser, url, fetcher=fetcher, budget=budget, limits=self.limits)
        except PlaywrightError as exc:
            raise ScreenshotFailed(f"the browser failed: {exc.message.splitlines()[0]}") from None

    async def _started(self, budget: _Budget) -> Browser:
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if self._browser is None or not self._browser.is_connected():
                self._playwright = self._playwright or await async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), timeout=_ms(budget)
                )
            return self._browser

    async def _close_browser(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            with contextlib.suppress(PlaywrightError):
                await browser.close()

    async def _shutdown(self) -> None:
        await self._close_browser()
        playwright, self._playwright = self._playwright, None
        if playwright is not None:
            await playwright.stop()


async def _shoot(
    browser: Browser, url: str, *, fetcher: Fetcher, budget: _Budget, limits: BrowserLimits
) -> bytes:
    context = await browser.new_context(
        viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]},
        service_workers="block",
        accept_downloads=False,
    )
    try:
        return await _shoot_in(context, url, fetcher=fetcher, budget=budget, limits=limits)
    finally:
        with contextlib.suppress(PlaywrightError):
            await context.close()


async def _shoot_in(
    context: BrowserContext,
    url: str,
    *,
    fetcher: Fetcher,
    budget: _Budget,
    limits: BrowserLimits,
) -> bytes:

    async def answer(route: Route) -> None:
        await _answer(route, fetcher=fetcher, budget=budget)

    async def close_socket(socket: WebSocketRoute) -> None:
        await socket.close()

    await context.route("**/*", answer)
    await context.route_web_socket("**/*", close_socket)
    page = await context.new_page()
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.dismiss()))
    session = await context.new_cdp_session(page)
    with contextlib.suppress(PlaywrightError):  # slow or spinning: shoot what has rendered
        await page.goto(
            url, wait_until="load", timeout=min(_ms(budget), limits.script_seconds * 1000)
        )
    if budget.document_refused is not None:
        raise ScreenshotFailed(budget.document_refused)
    await _stop_scripts(session, budget)
    try:
        return await page.screenshot(type="png", timeout=_ms(budget))
    except PlaywrightError as exc:
        raise ScreenshotFailed(f"the page did not render in time: {exc.message}") from None


async def _stop_scripts(session: CDPSession, budget: _Budget) -> None:
    """No script runs after this: scripts are switched off for the page.

    That command is served by the page's main thread, which a script spinning in a loop never
    frees; `Runtime.terminateExecution` is served beside it and ends the running script. So the
    command is sent, and whatever script runs terminated until the command is through."""
    for method, params in STOP_SCRIPTS:
        pending = asyncio.ensure_future(session.send(method, params))
        while not pending.done():
            await session.send("Runtime.terminateExecution")
            await asyncio.wait({pending}, timeout=min(0.05, _ms(budget) / 1000))
        await pending


async def _answer(route: Route, *, fetcher: Fetcher, budget: _Budget) -> None:
    request = route.request
    if request.method not in {"GET", "HEAD"}:
        await _refuse(route, budget, f"{request.method} {request.url}: only GET is sent")
        return
    if budget.bytes_left <= 0 or time.monotonic() > budget.deadline:
        await _refuse(route, budget, f"{request.url}: the page's byte or time budget is spent")
        return
    want = Want.PAGE if request.is_navigation_request() else Want.ANY
    try:
        fetched = await asyncio.to_thread(
            fetcher.get,
            request.url,
            want=want,
            follow_redirects=False,
            deadline=budget.deadline,
            max_bytes=budget.bytes_left,
        )
    except (Refused, FetchFailed) as exc:
        await _refuse(route, budget, str(exc))
        return
    budget.bytes_left -= len(fetched.body)
    if fetched.location is not None:  # the browser follows it, and it is checked again here
        await route.fulfill(status=fetched.status, headers={"location": fetched.location})
        return
    content_type = fetched.media_type or "application/octet-stream"
    if fetched.charset:
        content_type += f"; charset={fetched.charset}"
    await route.fulfill(status=fetched.status, content_type=content_type, body=fetched.body)


async def _refuse(route: Route, budget: _Budget, reason: str) -> None:
    budget.refused.append(reason)
    request = route.request
    if request.is_navigation_request() and request.frame.parent_frame is None:
        budget.document_refused = budget.document_refused or reason
    await route.abort("blockedbyclient")


def _ms(budget: _Budget) -> float:
    left = budget.deadline - time.monotonic()
    if left <= 0:
        raise ScreenshotFailed("the time for the screenshot ran out")
    return left * 1000
