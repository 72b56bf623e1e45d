"""URL assets through the API, both databases: `POST /api/dam/assets/virtual` with a URL the
policy refuses on its face is a 422 naming the reason; an allowed one is a virtual asset that
the web_scraper step fills in; one whose name resolves to a non-public address ends in `error`.

The app, its pipeline, the site and the browser all run in a network namespace of their own
(tests/netns.py); PostgreSQL is reached there through its unix socket.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests import scraper_site
from tests.netns import run_isolated
from trove.config import Settings

pytestmark = pytest.mark.slow
PG_SOCKET_DIR = "/var/run/postgresql"

REFUSED_AT_ONCE = {
    "http://169.254.169.254/latest/meta-data/": "cloud metadata",
    "http://0x7f.1/": "loopback",
    "http://[::ffff:10.0.0.1]/": "private",
    "ftp://example.com/": "only http and https",
    "http://user:pw@example.com/": "credentials",
}


def reachable_inside(database_url: str) -> str:
    """The database URL as the namespace reaches it: SQLite as it is, PostgreSQL by socket."""
    if database_url.startswith("sqlite"):
        return database_url
    if not Path(PG_SOCKET_DIR, ".s.PGSQL.5432").exists():
        pytest.skip("PostgreSQL has no unix socket to reach from a network namespace")
    url = make_url(database_url).set(host=None, port=None, query={"host": PG_SOCKET_DIR})
    return url.render_as_string(hide_password=False)


def _through_the_api(settings: Settings) -> dict[str, object]:
    from fastapi.testclient import TestClient

    from trove.app import create_app

    with scraper_site.serve() as site:
        # The screenshot child is tested in test_web_scraper_step.py and the lightbox test.
        allowed = replace(
            settings, scraper_allow_hosts=f"127.0.0.1:{site.port}", scraper_screenshot=False
        )
        app = create_app(allowed)
        with TestClient(app, raise_server_exceptions=False) as client:

            def create(url: str):  # type: ignore[no-untyped-def]
                body = {"asset_type": "url", "data": {"url": url}}
                return client.post("/api/dam/assets/virtual", json=body)

            refused = {
                url: (r.status_code, r.json()) for url in REFUSED_AT_ONCE if (r := create(url))
            }
            page = create(site.url("/page")).json()
            by_name = create(f"http://localhost:{site.port}/page").json()
            done = {
                key: _settled(client, made["id"])
                for key, made in (("page", page), ("by_name", by_name))
            }
        return {"refused": refused, "created": page, **done, "hits": site.paths()}


def _settled(client, asset_id: str, timeout: float = 60) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        asset = client.get(f"/api/dam/assets/{asset_id}").json()
        if asset["status"] not in ("processing", "uploading"):
            return asset  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise TimeoutError(f"asset {asset_id} still processing")


def test_url_assets_are_refused_at_once_or_scraped_or_in_error_with_the_reason(settings):
    inside = replace(settings, database_url=reachable_inside(settings.resolved_database_url))
    result = run_isolated(_through_the_api, inside, timeout=150)
    for url, words in REFUSED_AT_ONCE.items():
        status, body = result["refused"][url]
        assert status == 422 and words in body["detail"], (url, body)

    created = result["created"]
    assert created["is_virtual"] is True and created["category"] == "virtual"
    assert created["storage_urn"] == f"virtual://url/{created['id']}"
    page = result["page"]
    assert page["status"] == "ready", page.get("error_message")
    meta = page["metadata"]["web_scraper"]
    assert (meta["title"], meta["site_name"]) == (scraper_site.TITLE, scraper_site.SITE_NAME)
    assert page["thumbnails"], "the preview pyramid from og:image"

    by_name = result["by_name"]
    assert by_name["status"] == "error"
    assert (
        "localhost resolves to 127.0.0.1, not a public address (loopback)"
        in by_name["error_message"]
    )
    assert result["hits"].count("/page") == 1  # the allowed page's; nothing for the others


def _lightbox(data_dir: Path, artifact: Path) -> dict[str, object]:
    from tests.browser.fixtures import TIMEOUT_MS
    from tests.browser.server import running_browser, start_server

    with scraper_site.serve() as site:
        trove = start_server(
            data_dir=data_dir,
            roots=[],
            env={
                "TROVE_SCRAPER_ALLOW_HOSTS": f"127.0.0.1:{site.port}",
                "TROVE_SCRAPER_SCRIPT_SECONDS": "2",
            },
        )
        try:
            body = {"asset_type": "url", "data": {"url": site.url("/page")}}
            made = trove.api("/api/dam/assets/virtual", method="POST", body=body)
            deadline = time.monotonic() + 90
            while trove.api(f"/api/dam/assets/{made['id']}")["status"] == "processing":
                assert time.monotonic() < deadline, "still processing"
                time.sleep(0.3)
            asset = trove.api(f"/api/dam/assets/{made['id']}")
            with running_browser() as chromium:
                page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
                # As tests/browser/fixtures.py sets them: the server's first page is built
                # cold, on two cores shared with the rest of the suite.
                page.set_default_timeout(TIMEOUT_MS)
                page.set_default_navigation_timeout(2 * TIMEOUT_MS)
                page.goto(trove.url + "/")
                page.locator(f'.trove-tile[data-name="{made["filename"]}"]').click()
                stage = page.locator(".trove-viewer-url")
                stage.locator("img").wait_for()
                page.wait_for_function(
                    "() => document.querySelector('.trove-viewer-url img').naturalWidth > 0"
                )
                artifact.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(artifact))
                return {
                    "asset": asset,
                    "img": stage.locator("img").get_attribute("src"),
                    "width": page.evaluate(
                        "document.querySelector('.trove-viewer-url img').naturalWidth"
                    ),
                    "link": stage.locator(".trove-url-source").get_attribute("href"),
                    "title": stage.inner_text(),
                }
        finally:
            trove.stop()


def test_the_lightbox_shows_a_url_assets_screenshot_title_and_link(tmp_path):
    from tests.browser.server import REPO

    artifact = REPO / "test-artifacts" / "ui" / "url-asset.png"
    result = run_isolated(_lightbox, tmp_path / "data", artifact, timeout=200)
    asset = result["asset"]
    assert asset["status"] == "ready", asset.get("error_message")
    meta = asset["metadata"]["web_scraper"]
    assert meta["screenshot"] is True
    assert result["img"].endswith("/file") and result["width"] == 1280  # the screenshot itself
    assert result["link"] == meta["source_url"]
    assert scraper_site.TITLE in result["title"]
