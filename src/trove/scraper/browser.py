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
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from playwright.async_api import Browser, CDPSession, Route, WebSocketRoute, async_playwright
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


def screenshot(url: str, *, fetcher: Fetcher, limits: BrowserLimits) -> bytes:
    """A PNG of the page's first screen. ScreenshotFailed when there is nothing to show.

    Playwright's asyncio API on a loop of its own thread, whatever the caller runs on: stopping
    a page's scripts needs two messages in flight at once (see `_stop_scripts`)."""
    budget = _Budget(deadline=time.monotonic() + limits.timeout_s, bytes_left=limits.max_bytes)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trove-screenshot")
    try:
        future = pool.submit(
            asyncio.run, _screenshot(url, fetcher=fetcher, budget=budget, limits=limits)
        )
        return future.result(timeout=limits.timeout_s + CLOSE_GRACE_S)
    except FutureTimeout:
        raise ScreenshotFailed("the time for the screenshot ran out") from None
    finally:
        pool.shutdown(wait=False)


async def _screenshot(
    url: str, *, fetcher: Fetcher, budget: _Budget, limits: BrowserLimits
) -> bytes:
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=list(CHROMIUM_ARGS), timeout=_ms(budget)
            )
            try:
                return await _shoot(browser, url, fetcher=fetcher, budget=budget, limits=limits)
            finally:
                await browser.close()
    except PlaywrightError as exc:
        raise ScreenshotFailed(f"the browser failed: {exc.message.splitlines()[0]}") from None


async def _shoot(
    browser: Browser, url: str, *, fetcher: Fetcher, budget: _Budget, limits: BrowserLimits
) -> bytes:
    context = await browser.new_context(
        viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]},
        service_workers="block",
        accept_downloads=False,
    )

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
    """No script runs after this: time stands still (no timer fires) and scripts are off.

    Those two commands are served by the page's main thread, which a script spinning in a loop
    never frees; `Runtime.terminateExecution` is served beside it and ends the running script.
    So each command is sent, and the running script terminated until the command is through."""
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
