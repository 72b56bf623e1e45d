"""The text layer of PDFs (seed 4.1.3), with pypdfium2: searchable later, no OCR needed;
and the words of plain text files.

Stored as `metadata["text"] = {"content", "pages", "chars", "truncated", "source"}` (`source`
"pdf" or "plain"; a text file has no `pages`). A PDF whose pages carry no text (a scan) is
left to the OCR step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trove.config import Settings
from trove.pipeline.imaging import PDFIUM_LOCK
from trove.pipeline.processor import ORIGINAL_BYTES, AssetView, StepResult
from trove.storage.originals import Content, OriginalUnavailable, open_original, read_head

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


# libmagic's names for text besides `text/*`: data, markup and scripts people search in.
TEXT_LIKE = frozenset(
    {
        "application/json",
        "application/x-ndjson",
        "application/xml",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/javascript",
        "application/x-sh",
        "application/sql",
        "application/x-subrip",
    }
)
# `text/*` that is markup around the words, not words: RTF's control words would be indexed.
NOT_PLAIN = frozenset({"text/rtf"})
# Byte-order marks, longest first (UTF-32's begins with UTF-16's).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


class PlainTextProcessor:
    """The words of a text file (notes, READMEs, CSV, JSON, code), stored as a PDF's text
    layer is (`metadata["text"]`, `source: "plain"`), so that search finds a file by what it
    says. Light: a small file's bytes are those the `mime` step read (ORIGINAL_BYTES); a larger
    one's first `max_text_chars` characters are read, no more."""

    name = "plain_text"
    version = 1
    requires: tuple[str, ...] = ("mime",)
    required = False
    light = True  # pipeline/light.py

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def applies_to(self, asset: AssetView) -> bool:
        mime = asset.mime_type or ""
        return (
            not asset.is_virtual
            and asset.asset_type != "collection"
            and (mime in TEXT_LIKE or (mime.startswith("text/") and mime not in NOT_PLAIN))
        )

    def process(self, asset: AssetView) -> StepResult:
        limit = self.settings.max_text_chars
        content: Content | None = asset.scratch.get(ORIGINAL_BYTES)
        try:
            data = content.data if content is not None else read_head(asset.path, limit * 4)
        except OriginalUnavailable as exc:
            return StepResult.failed(f"cannot read file: {exc}")
        size = content.size if content is not None else asset.size
        cut = size is not None and size > len(data)
        text = _decoded(data, cut=cut)
        truncated = cut or len(text) > limit
        text = text[:limit].replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
        text = text.strip()
        return StepResult.ok(
            metadata={
                "text": {
                    "content": text,
                    "chars": len(text),
                    "truncated": truncated,
                    "source": "plain",
                }
            }
        )


def _decoded(data: bytes, *, cut: bool) -> str:
    """UTF-8 (or what a byte-order mark names), else Windows-1252, the usual encoding of older
    notes. A UTF-8 file with a few stray bytes stays UTF-8 (they become U+FFFD): read as
    Windows-1252, all its other accented letters would be garbled. A character cut in half
    at the end of what was read (`cut`) is dropped, not replaced."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    if cut:
        data = _without_cut_character(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    stray = text.count("\ufffd")
    if stray < sum(1 for c in text if c > "\x7f") - stray:  # mostly well-formed UTF-8
        return text
    return data.decode("cp1252", errors="replace")


def _without_cut_character(data: bytes) -> bytes:
    """`data` without the start of a UTF-8 character its last bytes leave unfinished."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            return data  # ASCII: nothing unfinished
        if byte >= 0xC0:  # a lead byte: is its character complete?
            length = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return data if back >= length else data[:-back]
    return data
