"""One page scraped: what it says about itself, a picture for its preview, a screenshot.

The page is the only part that must succeed. Its picture (og:image, else the icon) and its
screenshot are extras: each one that cannot be had is left out with a note saying why.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime

from PIL import Image

from trove.config import Settings
from trove.domain.web_scraper import WebScraperMetadata
from trove.scraper import browser
from trove.scraper.fetch import Fetcher, FetchFailed, FetchLimits, Resolver, Want, system_resolver
from trove.scraper.page import decode, read_page
from trove.scraper.policy import AllowList, Refused

# An icon or og:image larger than this is not a picture worth fetching for a preview.
MAX_IMAGE_BYTES = 10 * 1024**2
MAX_IMAGE_PIXELS = 40_000_000


@dataclass(frozen=True, kw_only=True)
class Scraped:
    metadata: WebScraperMetadata
    picture: bytes | None = None  # og:image or icon, checked to decode as an image
    screenshot: bytes | None = None  # PNG of the first screen
    notes: tuple[str, ...] = field(default=())


class WebScraper:
    def __init__(self, settings: Settings, *, resolver: Resolver = system_resolver) -> None:
        self.settings = settings
        self.fetcher = Fetcher(
            allow=AllowList.parse(settings.scraper_allow_hosts),
            limits=FetchLimits.from_settings(settings),
            resolver=resolver,
        )
        self.browser = browser.ScreenshotBrowser(browser.BrowserLimits.from_settings(settings))

    def close(self) -> None:
        """Stops the screenshot browser (started again by the next screenshot)."""
        self.browser.close()

    def scrape(self, url: str) -> Scraped:
        """Refused or FetchFailed when the page itself cannot be read; else what was found."""
        page = self.fetcher.get(url, want=Want.PAGE)
        info = read_page(decode(page.body, charset=page.charset), url=page.url)
        notes: list[str] = []
        picture, picture_from = None, None
        for source, candidate in (("og:image", info.image_url), ("icon", info.icon_url)):
            if candidate and picture is None:
                picture = self._picture(candidate, notes)
                picture_from = source if picture is not None else None
        shot = self._screenshot(page.url, notes) if self.settings.scraper_screenshot else None
        metadata = WebScraperMetadata(
            source_url=url,
            final_url=page.url,
            canonical_url=info.canonical_url,
            title=info.title,
            description=info.description,
            site_name=info.site_name,
            image_url=info.image_url,
            icon_url=info.icon_url,
            preview_from=picture_from or ("screenshot" if shot else None),
            screenshot=shot is not None,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            notes=notes,
        )
        return Scraped(metadata=metadata, picture=picture, screenshot=shot, notes=tuple(notes))

    def _picture(self, url: str, notes: list[str]) -> bytes | None:
        try:
            fetched = self.fetcher.get(url, want=Want.IMAGE, max_bytes=MAX_IMAGE_BYTES)
            _check_image(fetched.body)
        except (Refused, FetchFailed) as exc:
            notes.append(f"picture {url}: {exc}")
            return None
        return fetched.body

    def _screenshot(self, url: str, notes: list[str]) -> bytes | None:
        try:
            return self.browser.screenshot(url, fetcher=self.fetcher)
        except browser.ScreenshotFailed as exc:
            notes.append(f"screenshot: {exc}")
            return None


def _check_image(data: bytes) -> None:
    """FetchFailed unless the bytes are a raster image of a sane size that decodes."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise FetchFailed(f"{image.width}x{image.height} pixels is too large")
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise FetchFailed(f"not a readable image: {exc}") from None
