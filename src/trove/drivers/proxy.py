"""Proxies: the web copies the transcode step makes in the cache (a WebP of a TIFF, an MP4 of
an AVI). Not tiles of their own: hidden from listings and counts, shown in their original's
inspector as its "web copy", and played by the lightbox in the original's place when the
browser cannot play the original (pipeline/processors/transcode.py makes them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from trove.domain.enums import AssetCategory, AssetType
from trove.drivers.base import BaseAssetDriver, IngestDraft, PreviewKind, PreviewLogic


class ProxyDriver(BaseAssetDriver):
    asset_type = AssetType.PROXY
    category = AssetCategory.VIRTUAL

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        raise NotImplementedError("proxies are made by the transcode step")

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.DECODE, icon="smart_display")

    def render_ui_component(self, asset: dict[str, Any]) -> None:
        import trove.ui.components.stage as stage

        if (asset.get("mime_type") or "").startswith("video/"):
            stage.video(asset)
        else:
            stage.image(stage.file_url(asset["id"]), asset)
