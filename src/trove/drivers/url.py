"""URLs (seed "Web Scraper"): a web page kept as a virtual asset. Created with
`POST /api/dam/assets/virtual {"asset_type": "url", "data": {"url": "https://..."}}`; the
web_scraper step then reads the page into `metadata.web_scraper`, makes its preview and a
screenshot child (pipeline/processors/web_scraper.py, network rules in trove.scraper).

A URL the address policy refuses on its face (another scheme, credentials, a host written as
a non-public address in any spelling) is refused here with the reason (422) before anything
is stored. A name is only resolved by the step, when it fetches: one that turns out to point
at a non-public address leaves the asset in `error` with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from trove.config import Settings
from trove.domain.enums import AssetCategory, AssetStatus, AssetType
from trove.domain.web_scraper import NAMESPACE, WebScraperMetadata
from trove.drivers.base import BaseAssetDriver, IngestDraft, PreviewKind, PreviewLogic
from trove.drivers.metadata import MetadataSchema
from trove.services.errors import Invalid

MAX_URL = 2048


class UrlIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL, strip_whitespace=True)]


class UrlDriver(BaseAssetDriver):
    asset_type = AssetType.URL
    category = AssetCategory.VIRTUAL
    metadata_schemas = (
        MetadataSchema(namespace=NAMESPACE, model=WebScraperMetadata, title="Web page"),
    )
    virtual_data = UrlIn

    def __init__(self, settings: Settings) -> None:
        self.allow_hosts = settings.scraper_allow_hosts

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        assert isinstance(source_data, UrlIn)
        # httpx (the policy parses URLs as the fetcher will) loads on the first URL only.
        from trove.scraper.policy import AllowList, Refused, canonical_url, check_url

        try:
            target = check_url(source_data.url, allow=AllowList.parse(self.allow_hosts))
        except Refused as exc:
            raise Invalid(f"data.url: {exc}") from None
        url = canonical_url(target)
        asset.filename = url
        asset.title = target.host
        asset.metadata[NAMESPACE] = {"source_url": url}
        asset.status = AssetStatus.PROCESSING

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.SCREENSHOT, icon="language")

    def render_ui_component(self, asset: dict[str, Any]) -> None:
        """The page's screenshot (else its picture, else the icon), its title and its link."""
        from nicegui import ui

        import trove.ui.components.stage as stage

        page = (asset.get("metadata") or {}).get(NAMESPACE) or {}
        shot = screenshot_id(asset)
        picture = stage.file_url(shot) if shot else stage.preview_url(asset)
        with ui.column().classes("items-center gap-2 trove-viewer-url"):
            if picture:
                stage.image(picture, asset)
            else:
                ui.icon("language", size="120px")
            title = page.get("title") or asset.get("title") or asset.get("filename") or ""
            ui.label(str(title)).classes("text-h6 text-center")
            _source_link(page)

    def render_inspector_section(self, asset: dict[str, Any]) -> None:
        from nicegui import ui

        page = (asset.get("metadata") or {}).get(NAMESPACE) or {}
        _source_link(page)
        for label in ("site_name", "description"):
            if page.get(label):
                ui.label(str(page[label])).classes(f"trove-url-{label.replace('_', '-')}")


def screenshot_id(asset: dict[str, Any]) -> str | None:
    """The id of the URL's screenshot child (a proxy asset in the cache), when there is one."""
    page = (asset.get("metadata") or {}).get(NAMESPACE) or {}
    if not page.get("screenshot") or not asset.get("hash"):
        return None
    from trove.pipeline.processors.web_scraper import SCREENSHOT
    from trove.repositories.proxies import proxy_id
    from trove.storage import cache

    return proxy_id(cache.urn(str(asset["hash"]), SCREENSHOT))


def _source_link(page: dict[str, Any]) -> None:
    """The page's address as a link, only when it is http(s) (never javascript:)."""
    from nicegui import ui

    source = str(page.get("source_url") or "")
    if source.startswith(("http://", "https://")):
        ui.link(source, source, new_tab=True).classes("trove-url-source").props(
            'rel="noopener noreferrer"'
        )
