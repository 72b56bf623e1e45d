"""Any file no other driver claims: indexed, hashed, downloadable; an icon for a picture."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from trove.domain.enums import AssetType
from trove.drivers.base import BaseAssetDriver, IngestDraft, PreviewKind, PreviewLogic


class OtherDriver(BaseAssetDriver):
    asset_type = AssetType.OTHER

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        raise NotImplementedError("files are registered by the scanner")

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.ICON, icon="insert_drive_file")
