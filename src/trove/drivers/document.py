"""Documents: PDFs, office files, text. The first page (or the OCR'd picture) is the preview;
the text layer and OCR fill `metadata.text` / `metadata.ocr`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from trove.domain.documents import DocumentFields
from trove.domain.enums import AssetType
from trove.drivers.base import BaseAssetDriver, FileClaim, IngestDraft, PreviewKind, PreviewLogic
from trove.drivers.metadata import MetadataSchema

DOCUMENT_MIMES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/rtf",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/epub+zip",
        "application/postscript",
        "application/json",
        "application/xml",
    }
)


class DocumentDriver(BaseAssetDriver):
    asset_type = AssetType.DOCUMENT
    # Writable: a person may set `sub_type` by hand (the rules then keep it).
    metadata_schemas = (
        MetadataSchema(namespace="document", model=DocumentFields, writable=True, title="Document"),
    )
    claims = FileClaim(
        mime_types=DOCUMENT_MIMES,
        mime_prefixes=("text/", "application/vnd.openxmlformats"),
    )

    def on_ingest(self, asset: IngestDraft, source_data: BaseModel) -> None:
        raise NotImplementedError("documents are files: the scanner registers them")

    def get_preview_logic(self, asset: dict[str, Any]) -> PreviewLogic:
        return PreviewLogic(kind=PreviewKind.DECODE, icon="description")

    def render_inspector_section(self, asset: dict[str, Any]) -> None:
        """The subtype's card: an invoice's amount and status, a contract's parties."""
        from trove.ui.components.composite_views import document_card

        document_card(asset)
