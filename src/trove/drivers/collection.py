"""Collections: a library's folders (composite, from the disk) and albums (virtual, made by
AlbumService). Their preview is a collage of members (the collection_preview step)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from trove.domain.enums import AssetCategory, AssetType
from trove.drivers.base import BaseAssetDriver, IngestDraft, PreviewKind, PreviewLogic


class CollectionDriver(BaseAssetDriver):
    asset_type = AssetType.COLLECTION
    category = AssetCategory.COMPOSITE

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        raise NotImplementedError("folders come from scans, albums from /api/dam/albums")

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.COLLAGE, icon="folder")

    def render_ui_component(self, asset: dict[str, Any]) -> None:
        import trove.ui.components.stage as stage

        preview = stage.preview_url(asset)
        if preview:
            stage.image(preview, asset)
        else:
            stage.placeholder(asset, icon="folder", with_file=False)
