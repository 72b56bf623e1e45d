"""App packages (seed 4.8, AppPackageDriver): a Windows executable or installer, read by the
`app_package` step (pefile in a child process): version info, icon, licence, components."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from trove.domain.composites import AppPackageMeta, InstallOutcome
from trove.domain.enums import AssetCategory, AssetType
from trove.drivers.base import BaseAssetDriver, FileClaim, IngestDraft, PreviewKind, PreviewLogic
from trove.drivers.metadata import MetadataSchema


class AppPackageDriver(BaseAssetDriver):
    asset_type = AssetType.APP_PACKAGE
    category = AssetCategory.COMPOSITE
    metadata_schemas = (
        MetadataSchema(namespace="app_package", model=AppPackageMeta, title="Package"),
        MetadataSchema(namespace="install", model=InstallOutcome, title="Install"),
    )
    claims = FileClaim(
        mime_types=frozenset(
            {
                "application/vnd.microsoft.portable-executable",
                "application/x-dosexec",
                "application/x-msdownload",
                "application/x-msdos-program",
                "application/x-msi",
            }
        )
    )

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        raise NotImplementedError("installers are files: the scanner registers them")

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.ICON, icon="install_desktop")

    def render_ui_component(self, asset: dict[str, Any]) -> None:
        """The install card: version info, signature, licence, and Install when configured."""
        from trove.ui.components.composite_views import install_card

        install_card(asset)
