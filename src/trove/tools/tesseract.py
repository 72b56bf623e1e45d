"""Tesseract OCR through tesserocr: the engine stays loaded (≈0.1 s/page instead of ≈0.6-1 s
for a `tesseract` process per image, which is what pytesseract does).

An engine belongs to one thread. Recognition has a deadline (tesserocr's `timeout`), so a
pathological page costs at most that long.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from trove.tools.run import ToolError

TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata/",
    "/usr/share/tesseract-ocr/4.00/tessdata/",
    "/usr/share/tessdata/",
)


@dataclass(frozen=True)
class OcrText:
    text: str
    confidence: float
    words: int


class TesseractEngine:
    def __init__(self, *, language: str, timeout: float) -> None:
        self.language = language
        self.timeout = timeout
        self._api: Any = None

    def recognise(self, image: Any) -> OcrText:
        """Text of a Pillow image (greyscale works best), with Tesseract's mean confidence."""
        api = self._engine()
        api.SetImage(image)
        if not api.Recognize(timeout=int(self.timeout * 1000)):
            raise ToolError(f"tesseract gave up after {self.timeout:g} s")
        text = (api.GetUTF8Text() or "").replace("\x00", "").strip()
        return OcrText(text=text, confidence=float(api.MeanTextConf()), words=len(text.split()))

    def version(self) -> str:
        import tesserocr

        return str(tesserocr.tesseract_version().split()[1])

    def close(self) -> None:
        api, self._api = self._api, None
        if api is not None:
            api.End()

    def _engine(self) -> Any:
        if self._api is None:
            try:
                import tesserocr
            except ImportError as exc:
                raise ToolError("tesserocr is not installed") from exc
            path = os.environ.get("TESSDATA_PREFIX") or next(
                (p for p in TESSDATA_CANDIDATES if os.path.isdir(p)), None
            )
            if path is None:
                raise ToolError("no Tesseract language data found (install tesseract-ocr-eng)")
            try:
                self._api = tesserocr.PyTessBaseAPI(
                    path=path, lang=self.language, psm=tesserocr.PSM.AUTO
                )
            except RuntimeError as exc:
                raise ToolError(f"tesseract cannot load language {self.language!r}") from exc
        return self._api
