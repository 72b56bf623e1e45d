"""The text layer of PDFs (seed 4.1.3), with pypdfium2: searchable later, no OCR needed.

Stored as `metadata["text"] = {"content", "pages", "chars", "truncated", "source"}`. A PDF
whose pages carry no text (a scan) is left to the OCR step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trove.config import Settings
from trove.pipeline.imaging import PDFIUM_LOCK
from trove.pipeline.processor import AssetView, StepResult
from trove.storage.originals import OriginalUnavailable, open_original

if TYPE_CHECKING:
    import pypdfium2

MAX_PAGES = 500


class PdfTextProcessor:
    name = "text"
    version = 1
    requires: tuple[str, ...] = ("mime",)
    required = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def applies_to(self, asset: AssetView) -> bool:
        return asset.mime_type == "application/pdf"

    def process(self, asset: AssetView) -> StepResult:
        import pypdfium2

        try:
            data = _read(asset, self.settings.max_image_bytes)
        except OriginalUnavailable as exc:
            return StepResult.failed(f"cannot read file: {exc}")
        with PDFIUM_LOCK:  # PDFium is not thread-safe
            try:
                document = pypdfium2.PdfDocument(data)
            except pypdfium2.PdfiumError as exc:
                return StepResult.failed(f"cannot open PDF: {exc}")
            try:
                pages = len(document)
                text, truncated = _text(document, limit=self.settings.max_text_chars)
            except pypdfium2.PdfiumError as exc:
                return StepResult.failed(f"cannot read PDF text: {exc}")
            finally:
                document.close()
        content = text.replace("\x00", "").replace("\r\n", "\n").strip()
        return StepResult.ok(
            metadata={
                "text": {
                    "content": content,
                    "pages": pages,
                    "chars": len(content),
                    "truncated": truncated,
                    "source": "pdf",
                }
            }
        )


def _read(asset: AssetView, limit: int) -> bytes:
    import os

    with open_original(asset.path) as fd:
        if os.fstat(fd).st_size > limit:
            raise OriginalUnavailable(f"larger than the {limit // 1024**2} MiB limit")
        chunks = []
        while chunk := os.read(fd, 1024 * 1024):
            chunks.append(chunk)
    return b"".join(chunks)


def _text(document: pypdfium2.PdfDocument, *, limit: int) -> tuple[str, bool]:
    parts: list[str] = []
    total = 0
    for index in range(min(len(document), MAX_PAGES)):
        page = document[index]
        textpage = page.get_textpage()
        try:
            chunk = textpage.get_text_bounded()
        finally:
            textpage.close()
            page.close()
        parts.append(chunk)
        total += len(chunk)
        if total >= limit:
            return "\n\f".join(parts)[:limit], True
    return "\n\f".join(parts), len(document) > MAX_PAGES
