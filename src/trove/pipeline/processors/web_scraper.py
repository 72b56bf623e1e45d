"""Web Scraper (seed 4.4, a virtual processor): a URL asset's page is read into its
`web_scraper` namespace, its picture (og:image, else the icon, else the screenshot) becomes the
preview pyramid, and the screenshot a child asset in the cache linked `downloaded_by`.

The URL asset has no file. Its `hash` becomes a digest of what was fetched, naming the cache
folder its previews and screenshot live in. A page that may not or cannot be fetched fails
this required step, so the asset is in `error` with the reason (the policy's, or the
fetcher's). All the network rules live in trove.scraper.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from typing import TYPE_CHECKING

from trove.config import Settings
from trove.domain.enums import AssetType, Relation, StepStatus
from trove.domain.web_scraper import NAMESPACE
from trove.pipeline import imaging
from trove.pipeline.processor import AssetView, Derivative, StepResult
from trove.pipeline.processors.thumbnails import store_pyramid
from trove.storage import cache

if TYPE_CHECKING:
    from trove.scraper.scrape import Scraped, WebScraper

SCREENSHOT = "screenshot.png"
SOURCE_KEY = "source_url"


class WebScraperProcessor:
    name = NAMESPACE
    version = 1
    requires: tuple[str, ...] = ()
    required = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._scraper: WebScraper | None = None
        self._lock = threading.Lock()

    @property
    def scraper(self) -> WebScraper:
        # httpx and Playwright load on the first URL, not with every pipeline (`trove scan`).
        with self._lock:  # pipeline threads share the step: one browser for all of them
            if self._scraper is None:
                from trove.scraper.scrape import WebScraper

                self._scraper = WebScraper(self.settings)
            return self._scraper

    def close(self) -> None:
        if self._scraper is not None:
            self._scraper.close()

    def applies_to(self, asset: AssetView) -> bool:
        return asset.asset_type == AssetType.URL

    def process(self, asset: AssetView) -> StepResult:
        url = source_url(asset)
        if url is None:
            return StepResult.failed("the URL asset has no source_url")
        from trove.scraper.fetch import FetchFailed
        from trove.scraper.policy import Refused

        try:
            scraped = self.scraper.scrape(url)
        except (Refused, FetchFailed) as exc:
            return StepResult.failed(str(exc))
        key = _content_key(url, scraped)
        keyed = dataclasses.replace(asset, hash=key)
        updates: dict[str, object] = {"hash": key, "title": scraped.metadata.title}
        metadata = scraped.metadata
        picture = scraped.picture or scraped.screenshot
        if picture is not None:
            try:
                image = imaging.decode_bytes(picture, self.settings)
                updates.update(store_pyramid(keyed, image, self.settings))
            except imaging.CannotDecode as exc:
                notes = [*metadata.notes, f"preview: {exc}"]
                metadata = metadata.model_copy(update={"notes": notes, "preview_from": None})
        derivatives: tuple[Derivative, ...] = ()
        if scraped.screenshot is not None:
            derivatives = (self._screenshot(key, scraped.screenshot),)
        return StepResult(
            status=StepStatus.OK,
            updates=updates,
            metadata={NAMESPACE: metadata.model_dump(mode="json")},
            derivatives=derivatives,
        )

    def _screenshot(self, key: str, png: bytes) -> Derivative:
        path = cache.derivative_path(self.settings.resolved_cache_dir, key, SCREENSHOT)
        cache.write_atomic(path, png)
        width, height = _png_size(png)
        return Derivative(
            path=path,
            mime_type="image/png",
            asset_type=AssetType.IMAGE,
            relation=Relation.DOWNLOADED_BY,
            made_to_original=True,
            width=width,
            height=height,
        )


def source_url(asset: AssetView) -> str | None:
    value = asset.meta.get(NAMESPACE, {}).get(SOURCE_KEY)
    return value if isinstance(value, str) else None


def _content_key(url: str, scraped: Scraped) -> str:
    """A SHA-256 naming this fetch's cache folder: a page that changed gets new previews."""
    digest = hashlib.sha256(f"{NAMESPACE}/v{WebScraperProcessor.version}\n{url}\n".encode())
    for part in (scraped.picture, scraped.screenshot):
        digest.update(hashlib.sha256(part or b"").digest())
    return digest.hexdigest()


def _png_size(png: bytes) -> tuple[int | None, int | None]:
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        return None, None
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
