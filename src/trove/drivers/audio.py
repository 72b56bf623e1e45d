"""Audio: the embedded cover art (if any) as the preview, a player in the lightbox."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from trove.domain.enums import AssetType
from trove.drivers.base import BaseAssetDriver, FileClaim, IngestDraft, PreviewKind, PreviewLogic


class AudioDriver(BaseAssetDriver):
    asset_type = AssetType.AUDIO
    claims = FileClaim(mime_prefixes=("audio/",))

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        raise NotImplementedError("audio files are files: the scanner registers them")

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.COVER, icon="audiotrack")

    def render_ui_component(self, asset: dict[str, Any]) -> None:
        import trove.ui.components.stage as stage

        stage.audio(asset, icon=self.get_preview_logic(asset).icon)
