"""The web scraper step on a URL asset, recorded in the index on both databases: the page's
metadata, a preview pyramid from its picture, the screenshot as a child asset in the cache
linked `downloaded_by`; a refused URL leaves the asset in `error` with the reason.

The step itself (the only part that connects) runs in its own network namespace
(tests/netns.py); what it returns is recorded here, by the pipeline's own recording code.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import scraper_site
from tests.netns import run_isolated
from trove.config import Settings
from trove.db.models import Asset, Link
from trove.domain.access import Viewer
from trove.domain.enums import AssetCategory, AssetStatus, AssetType, Relation, StepStatus
from trove.pipeline.processor import AssetView, StepResult
from trove.pipeline.processors.web_scraper import WebScraperProcessor
from trove.pipeline.recording import StepRun, finish, record_step
from trove.repositories._sql import utcnow
from trove.services.container import Services
from trove.storage import cache

SYSTEM = Viewer.system()

METADATA_URL = "http://169.254.169.254/latest/meta-data/"


def url_view(asset_id: str, url: str) -> AssetView:
    return AssetView(
        id=asset_id,
        path=Path(f"virtual://url/{asset_id}"),
        size=None,
        mtime_ns=None,
        mime_type=None,
        asset_type=AssetType.URL,
        hash=None,
        meta={"web_scraper": {"source_url": url}},
    )


def _run_step(settings: Settings, ids: tuple[str, str]) -> tuple[StepResult, StepResult]:
    with scraper_site.serve() as site:
        allowed = replace(
            settings, scraper_allow_hosts=f"127.0.0.1:{site.port}", scraper_script_seconds=2
        )
        step = WebScraperProcessor(allowed)
        try:
            page = step.process(url_view(ids[0], site.url("/page")))
            refused = step.process(url_view(ids[1], METADATA_URL))
        finally:
            step.close()
        return page, refused


def add_url_asset(services: Services, url: str) -> str:
    now = utcnow()
    with services.database.session() as session:
        asset = Asset(
            filename=url,
            is_virtual=True,
            category=AssetCategory.VIRTUAL,
            asset_type=AssetType.URL,
            status=AssetStatus.PROCESSING,
            storage_urn="virtual://url/pending",
            meta={"web_scraper": {"source_url": url}},
            created_at=now,
            updated_at=now,
            timeline_at=now,
        )
        session.add(asset)
        session.flush()
        return asset.id


@pytest.mark.slow
def test_a_url_asset_gets_its_page_metadata_preview_and_screenshot_child_or_the_refusal(
    settings,
):
    services = Services.create(settings)
    try:
        _scrape_and_record(services, settings)
    finally:
        services.database.dispose()


def _scrape_and_record(services: Services, settings: Settings) -> None:
    page_id = add_url_asset(services, "http://127.0.0.1/page")
    refused_id = add_url_asset(services, METADATA_URL)
    page, refused = run_isolated(_run_step, settings, (page_id, refused_id))
    assert page.status == StepStatus.OK, page.message
    assert refused.status == StepStatus.FAILED and "metadata" in (refused.message or "")

    runs = [StepRun(page_id, page, 1.0), StepRun(refused_id, refused, 1.0)]
    with services.database.session() as session:
        record_step(session, step="web_scraper", version=1, runs=runs, settings=settings)
        finish(
            session,
            {page_id: (AssetStatus.READY, None), refused_id: (AssetStatus.ERROR, refused.message)},
        )
    with services.database.session() as session:
        asset = session.get(Asset, page_id)
        meta = asset.meta["web_scraper"]
        assert (meta["title"], meta["site_name"]) == (scraper_site.TITLE, scraper_site.SITE_NAME)
        assert meta["preview_from"] == "og:image" and asset.title == scraper_site.TITLE
        assert set(asset.thumbnails) == {"small", "medium", "large"}
        medium = cache.existing(settings.resolved_cache_dir, asset.hash, "medium.webp")
        assert medium.stat().st_size > 0
        child_id = session.scalar(
            select(Link.source_id).where(
                Link.target_id == page_id, Link.relation == Relation.DOWNLOADED_BY
            )
        )
        child = session.get(Asset, child_id)
        assert child.mime_type == "image/png" and (child.width, child.height) == (1280, 800)
        assert child.storage_urn == cache.urn(asset.hash, "screenshot.png")
        failed = session.get(Asset, refused_id)
        assert failed.status == AssetStatus.ERROR
        assert "169.254.169.254 is not a public address (cloud metadata)" in failed.error_message
        content_hash = asset.hash

    services.assets.delete(
        page_id, hard=True, viewer=SYSTEM
    )  # the screenshot child and the cache go with it
    with services.database.session() as session:
        assert session.get(Asset, child_id) is None
    assert not cache.derivative_dir(settings.resolved_cache_dir, content_hash).exists()
