"""Video: a poster frame for previews; played in the lightbox from the original, or from its
web copy (an MP4 the transcode step made) when the browser cannot play the original."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from trove.domain.enums import AssetType
from trove.drivers.base import BaseAssetDriver, FileClaim, IngestDraft, PreviewKind, PreviewLogic


class VideoDriver(BaseAssetDriver):
    asset_type = AssetType.VIDEO
    claims = FileClaim(mime_prefixes=("video/",))

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        raise NotImplementedError("videos are files: the scanner registers them")

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.FRAME, icon="movie")

    def render_ui_component(self, asset: dict[str, Any]) -> None:
        import trove.ui.components.stage as stage

        stage.video(asset)
