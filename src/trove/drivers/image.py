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
