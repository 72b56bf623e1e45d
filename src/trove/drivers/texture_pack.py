"""Texture packs (seed 4.8, TexturePackDriver): a ZIP archive indexed in place. The `archive`
and `archive_preview` steps (pipeline/processors/texture_pack.py) read its directory and draw
its primary texture; nothing is extracted to disk."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from trove.domain.composites import TexturePackMeta
from trove.domain.enums import AssetCategory, AssetType
from trove.drivers.base import BaseAssetDriver, FileClaim, IngestDraft, PreviewKind, PreviewLogic
from trove.drivers.metadata import MetadataSchema


class TexturePackDriver(BaseAssetDriver):
    asset_type = AssetType.TEXTURE_PACK
    category = AssetCategory.COMPOSITE
    # Office files, EPUBs and JARs are ZIPs too, but have MIME types of their own.
    metadata_schemas = (
        MetadataSchema(namespace="texture_pack", model=TexturePackMeta, title="Archive"),
    )
    claims = FileClaim(mime_types=frozenset({"application/zip", "application/x-zip-compressed"}))

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        raise NotImplementedError("archives are files: the scanner registers them")

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.DECODE, icon="folder_zip")

    def render_ui_component(self, asset: dict[str, Any]) -> None:
        """A virtual folder view of the archive, with previews of the images in it."""
        from trove.ui.components.composite_views import texture_pack_stage

        texture_pack_stage(asset)
