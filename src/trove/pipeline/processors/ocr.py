"""Tesseract OCR for images that look like documents, and for PDFs without a text layer.

Which images? Running OCR on every photo would cost ≈0.1-1 s each for nothing, so the step
first looks at the 800 px preview it already has: a page of text is mostly paper (≥ 50% bright
pixels), has some ink (0.5-40% dark pixels), few mid-tones (≤ 30%: text on paper is
bimodal, photographs are not) and little colour (mean saturation ≤ 60/255). Scans, receipts,
screenshots of documents and photos of a page pass; landscapes, portraits and dark-mode
screenshots do not. The numbers are kept in the result so a misjudgement can be examined.
PDFs are OCR'd (first pages) only when the text step found no text layer.

Stored as `metadata["ocr"] = {"content", "confidence", "words", "engine", "language", ...}`.
"""

from __future__ import annotations

import threading
from typing import Any

from PIL import Image, ImageStat

from trove.config import Settings
from trove.pipeline import imaging
from trove.pipeline.processor import AssetView, StepResult
from trove.pipeline.processors.thumbnails import preview
from trove.storage.originals import OriginalUnavailable
from trove.tools.run import ToolError
from trove.tools.tesseract import OcrText, TesseractEngine

OCR_BOX = 4000  # long side handed to Tesseract: ≈300 dpi for an A4 page
# A PDF page smaller than A4 is drawn at no more than 300 dpi, what Tesseract is tuned for: a
# scan of a receipt or a screenshot is not blown up 8x (and its OCR made 4x slower) for nothing.
OCR_MAX_SCALE = 300 / 72
PDF_PAGES = 5


class OcrProcessor:
    name = "ocr"
    version = 1
    requires: tuple[str, ...] = ("thumbnails", "text")
    required = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local = threading.local()
        self._engines: list[TesseractEngine] = []
        self._lock = threading.Lock()

    def applies_to(self, asset: AssetView) -> bool:
        kind = imaging.kind_of(asset)
        return kind == "pdf" or (asset.asset_type == "image" and kind in ("raster", "raw"))

    def process(self, asset: AssetView) -> StepResult:
        if imaging.kind_of(asset) == "pdf":
            if (asset.meta.get("text") or {}).get("chars"):
                return StepResult.skipped("the PDF has a text layer")
            return self._ocr_pages(asset)
        sample = preview(asset, self.settings, size="medium")
        if sample is None:
            return StepResult.skipped("no preview to classify")
        looks, signals = document_likeness(sample)
        if not looks:
            return StepResult.skipped("does not look like a document")
        try:
            image = imaging.decode(asset, self.settings, box=OCR_BOX)
        except (imaging.CannotDecode, OriginalUnavailable, ToolError) as exc:
            return StepResult.failed(str(exc))
        return self._result([self._recognise(image)], signals=signals)

    def close(self) -> None:
        with self._lock:
            engines, self._engines = self._engines, []
        for engine in engines:
            engine.close()

    def _ocr_pages(self, asset: AssetView) -> StepResult:
        pages = (asset.meta.get("text") or {}).get("pages") or 1
        found: list[OcrText] = []
        try:
            for page in range(min(pages, PDF_PAGES)):
                image = imaging.pdf_page(
                    asset.path,
                    self.settings,
                    page=page,
                    box=OCR_BOX * 3 // 4,
                    max_scale=OCR_MAX_SCALE,
                )
                found.append(self._recognise(image))
        except (imaging.CannotDecode, OriginalUnavailable, ToolError) as exc:
            return StepResult.failed(str(exc))
        return self._result(found, signals={"pdf_pages": len(found)})

    def _recognise(self, image: Image.Image) -> OcrText:
        if image.width * image.height > self.settings.max_ocr_pixels:
            image = imaging.fit(image, int((self.settings.max_ocr_pixels) ** 0.5))
        return self._engine().recognise(image.convert("L"))

    def _result(self, found: list[OcrText], *, signals: dict[str, Any]) -> StepResult:
        engine = self._engine()
        content = "\n\f".join(t.text for t in found)[: self.settings.max_text_chars]
        confidences = [t.confidence for t in found if t.words]
        return StepResult.ok(
            metadata={
                "ocr": {
                    "content": content,
                    "words": sum(t.words for t in found),
                    "confidence": round(sum(confidences) / len(confidences), 1)
                    if confidences
                    else 0.0,
                    "engine": f"tesseract {engine.version()}",
                    "language": self.settings.ocr_language,
                    "signals": signals,
                }
            }
        )

    def _engine(self) -> TesseractEngine:
        engine = getattr(self._local, "engine", None)
        if engine is None:
            engine = TesseractEngine(
                language=self.settings.ocr_language, timeout=self.settings.tool_timeout_s
            )
            self._local.engine = engine
            with self._lock:
                self._engines.append(engine)
        return engine


def document_likeness(image: Image.Image) -> tuple[bool, dict[str, float]]:
    """Whether a picture looks like a page of text, and the measurements that say so. The
    tones first: most photos fail them, and are then spared the colour check (an HSV copy of
    the 800 px preview, 12 ms against 0.5 ms for the tones)."""
    grey = image.convert("L")
    histogram = grey.histogram()
    total = float(sum(histogram)) or 1.0
    bright = sum(histogram[200:]) / total
    dark = sum(histogram[:100]) / total
    mid = max(0.0, 1.0 - bright - dark)
    signals = {"bright": round(bright, 3), "dark": round(dark, 3), "mid": round(mid, 3)}
    if not (bright >= 0.5 and 0.005 <= dark <= 0.4 and mid <= 0.3):
        return False, signals
    saturation = ImageStat.Stat(image.convert("RGB").convert("HSV")).mean[1]
    signals["saturation"] = round(saturation, 1)
    return saturation <= 60, signals
