"""Pictures: decoded for previews; EXIF and GPS typed; a web copy for what browsers cannot show
(TIFF, HEIC, RAW: the transcode step makes it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from trove.domain.enums import AssetType
from trove.domain.namespaces import ExifMeta, GeoMeta
from trove.drivers.base import BaseAssetDriver, FileClaim, IngestDraft, PreviewKind, PreviewLogic
from trove.drivers.metadata import MetadataSchema


class ImageDriver(BaseAssetDriver):
    asset_type = AssetType.IMAGE
    claims = FileClaim(mime_prefixes=("image/",))
    metadata_schemas = (
        MetadataSchema(namespace="exif", model=ExifMeta, title="Camera"),
        MetadataSchema(namespace="geo", model=GeoMeta, title="Location"),
    )

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        raise NotImplementedError("pictures are files: the scanner registers them")

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.DECODE, icon="image")

    def render_ui_component(self, asset: dict[str, Any]) -> None:
        """The picture with the regions drawn on it; dragging draws a new one."""
        from trove.ui.components.composite_views import picture_with_regions

        picture_with_regions(asset, icon=self.get_preview_logic(asset).icon)

    def render_inspector_section(self, asset: dict[str, Any]) -> None:
        from trove.ui.components.composite_views import regions_section

        regions_section(asset)
