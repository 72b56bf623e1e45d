"""Decoding any visual asset once, upright and no larger than needed; the WebP pyramid.

One decode feeds all three preview sizes and the pHash: JPEGs are decoded with `draft()` at
the smallest DCT scale that still covers the 1920 px box (2-3x faster than a full decode),
each smaller size is resized from the one above it, and the 200 px preview stays in memory for
the pHash (≈0.3 ms instead of ≈160 ms from a full decode, within 2 bits).
"""

from __future__ import annotations

import io
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from PIL import Image, ImageOps

from trove.config import Settings
from trove.pipeline.processor import AssetView
from trove.storage.cache import THUMBNAIL_SIZES
from trove.storage.originals import OriginalUnavailable, open_original
from trove.tools import ffmpeg, svg
from trove.tools.run import ToolError

# fmt: off
RAW_SUFFIXES = frozenset({
    ".3fr", ".ari", ".arw", ".cr2", ".cr3", ".crw", ".dcr", ".dng", ".erf", ".iiq", ".k25",
    ".kdc", ".mef", ".mos", ".mrw", ".nef", ".nrw", ".orf", ".pef", ".raf", ".raw", ".rw2",
    ".rwl", ".sr2", ".srf", ".srw", ".x3f",
})
# fmt: on
HEIF_SUFFIXES = frozenset({".heic", ".heif", ".hif"})
HEIF_MIMES = frozenset({"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"})
LARGEST = max(THUMBNAIL_SIZES.values())
# PDFium is not thread-safe: two threads inside it at once crash the process. Every pypdfium2
# call in Trove holds this lock (in-process pipelines run batches in threads).
PDFIUM_LOCK = threading.RLock()


class CannotDecode(Exception):
    """The file is not a picture Trove can draw, or it is damaged; the message says which."""


@dataclass(frozen=True)
class Rendition:
    name: str
    image: Image.Image
    webp: bytes


def kind_of(asset: AssetView) -> str | None:
    """Which decoder draws this asset, or None when none does."""
    mime = asset.mime_type or ""
    suffix = asset.suffix
    if suffix in RAW_SUFFIXES or (mime.startswith("image/x-") and "raw" in mime):
        return "raw"
    if mime == "image/svg+xml" or suffix in (".svg", ".svgz"):
        return "svg"
    if mime.startswith("image/"):
        return "raster"
    if mime == "application/pdf":
        return "pdf"
    if mime.startswith("video/") or asset.asset_type == "video":
        return "video"
    return None


def configure(settings: Settings) -> None:
    """Process-wide decoder settings; idempotent, called when a processor is built. The
    decoders' warnings go to the log file, not the terminal."""
    from trove.logs import warnings_to_log_file

    warnings_to_log_file(settings)
    Image.MAX_IMAGE_PIXELS = settings.max_image_pixels
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # HEIC then fails per file with a clear message
        pass


def decode(asset: AssetView, settings: Settings, *, box: int = LARGEST) -> Image.Image:
    """The asset as an upright RGB(A) picture that fits `box` (or smaller, never larger)."""
    kind = kind_of(asset)
    try:
        if kind == "raster":
            image = _raster(asset.path, settings, box=box)
        elif kind == "raw":
            image = _raw(asset.path, settings, box=box)
        elif kind == "pdf":
            image = pdf_page(asset.path, settings, page=0, box=box, native=True)
        elif kind == "svg":
            image = _svg(asset.path, settings, box=box)
        elif kind == "video":
            image = _video_frame(asset, settings)
        else:
            raise CannotDecode("no previewer for this type")
    except (CannotDecode, OriginalUnavailable, ToolError):
        raise
    except Image.DecompressionBombError as exc:
        raise CannotDecode(f"image too large: {exc}") from exc
    except MemoryError as exc:
        raise CannotDecode("image too large to decode in memory") from exc
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError) as exc:
        raise CannotDecode(f"cannot decode: {_reason(exc)}") from exc
    return _display_mode(fit(image, box))


def decode_bytes(data: bytes, settings: Settings, *, box: int = LARGEST) -> Image.Image:
    """A picture held in memory (an archive entry, an icon) decoded like a file would be:
    the same pixel limit, upright, fitted to `box`."""
    try:
        opened = Image.open(io.BytesIO(data))
        _check_pixels(opened.size, settings)
        opened.load()
        image = ImageOps.exif_transpose(opened) or opened
    except CannotDecode:
        raise
    except Image.DecompressionBombError as exc:
        raise CannotDecode(f"image too large: {exc}") from exc
    except MemoryError as exc:
        raise CannotDecode("image too large to decode in memory") from exc
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError) as exc:
        raise CannotDecode(f"cannot decode: {_reason(exc)}") from exc
    return _display_mode(fit(image, box))


def pyramid(image: Image.Image, *, quality: int) -> list[Rendition]:
    """large → medium → small, each resized from the one above, each WebP-encoded. A picture
    no larger than a level is that level as it is: the levels it fills alike share one
    encoding (a 320 px PNG is encoded twice, not three times; a 64 px icon once)."""
    levels: list[tuple[str, int, Image.Image]] = []
    current = image
    for name, box in sorted(THUMBNAIL_SIZES.items(), key=lambda item: -item[1]):
        # From the size above: reduced by whole factors first (box filter), then bicubic for
        # the rest: 1920 -> 800 px in about a third of a plain bicubic's time, within 38 dB
        # of a Lanczos resize.
        current = fit(current, box, reducing_gap=1.0)
        levels.append((name, box, current))
    encoded: dict[int, bytes] = {}
    for _name, box, level in reversed(levels):  # the smallest box first: its method wins
        if id(level) not in encoded:
            # Encoding dominates: method 0 costs a third of method 4 for a file within a few
            # percent of the size; only the tiny grid preview gets the slower, tighter method.
            buffer = io.BytesIO()
            level.save(buffer, "WEBP", quality=quality, method=0 if box >= 800 else 4)
            encoded[id(level)] = buffer.getvalue()
    return [Rendition(name, level, encoded[id(level)]) for name, _box, level in levels]


def fit(image: Image.Image, box: int, *, reducing_gap: float = 2.0) -> Image.Image:
    width, height = image.size
    scale = min(1.0, box / max(width, height, 1))
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if scale >= 0.75:
        # A few percent down (a JPEG drafted at half size, 2000 -> 1920 px): bilinear is
        # within 43 dB of Lanczos there, far below what WebP at quality 80 changes, and costs
        # 31 ms of CPU instead of bicubic's 53 (as much as the drafted decode itself).
        return image.resize(size, Image.Resampling.BILINEAR)
    # Bicubic after an integer pre-reduction (reducing_gap): indistinguishable from Lanczos at
    # preview sizes, and about twice as fast on 12 MP sources.
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=reducing_gap)


def _raster(path: Path, settings: Settings, *, box: int) -> Image.Image:
    with open_original(path) as fd:
        if os.fstat(fd).st_size > settings.max_image_bytes:
            raise CannotDecode(f"file larger than {settings.max_image_bytes // 1024**2} MiB")
        with os.fdopen(os.dup(fd), "rb") as fh:
            image = Image.open(fh)
            _check_pixels(image.size, settings)
            if image.format == "JPEG":
                scale = min(1.0, box / max(image.size))
                wanted = (math.ceil(image.width * scale), math.ceil(image.height * scale))
                image.draft("RGB" if image.mode not in ("L", "CMYK") else image.mode, wanted)
            image.seek(0)
            image.load()
    # In place: an upright picture (most) is not copied for nothing (5 ms for a 12 MP JPEG).
    ImageOps.exif_transpose(image, in_place=True)
    return image


def _raw(path: Path, settings: Settings, *, box: int) -> Image.Image:
    """The camera's embedded JPEG preview when there is one (fast, and what the camera
    showed); a half-size demosaic otherwise."""
    import rawpy

    data = _read_limited(path, settings.max_image_bytes)
    with rawpy.imread(io.BytesIO(data)) as raw:
        preview = _embedded_preview(raw)
        if preview is not None and max(preview.size) >= min(box, 1024):
            return _apply_flip(preview, raw.sizes.flip)
        _check_pixels((raw.sizes.width, raw.sizes.height), settings)
        rgb = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
    return Image.fromarray(rgb)


def _embedded_preview(raw: Any) -> Image.Image | None:
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        image = Image.open(io.BytesIO(thumb.data))
        image.load()
        return image
    return Image.fromarray(thumb.data)


def _apply_flip(image: Image.Image, flip: int) -> Image.Image:
    """LibRaw's `flip`: 3 = 180°, 5 = 90° counter-clockwise, 6 = 90° clockwise."""
    turn = {3: Image.Transpose.ROTATE_180, 5: Image.Transpose.ROTATE_90}.get(flip)
    if flip == 6:
        turn = Image.Transpose.ROTATE_270
    return image.transpose(turn) if turn is not None else image


def pdf_page(
    path: Path,
    settings: Settings,
    *,
    page: int,
    box: int,
    max_scale: float = 8.0,
    native: bool = False,
) -> Image.Image:
    """One page drawn to fit `box`, at most `max_scale` pixels per point (a small page is
    not blown up without end); with `native`, a page made only of pictures (a scan) no
    larger than its pictures' own pixels."""
    import pypdfium2

    data = _read_limited(path, settings.max_image_bytes)
    with PDFIUM_LOCK:
        try:
            document = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError as exc:
            raise CannotDecode(f"cannot open PDF: {exc}") from exc
        try:
            if len(document) <= page:
                raise CannotDecode("PDF has no pages")
            pdf = document[page]
            width, height = pdf.get_size()
            scale = min(box / max(width, height, 1), max_scale)
            if native:
                scale = min(scale, _pictures_scale(pdf) or scale)
            bitmap = pdf.render(scale=scale, may_draw_forms=True)
            image = bitmap.to_pil().convert("RGB")
            pdf.close()
            return image
        finally:
            document.close()


def _pictures_scale(pdf: Any) -> float | None:
    """Pixels per point of the pictures a PDF page is made of, when it draws nothing else (a
    scanned page): drawn larger, it shows nothing more. None for any other page."""
    import pypdfium2.raw as pdfium_c

    scale = 0.0
    for n, item in enumerate(pdf.get_objects(max_depth=1)):
        if n >= 16 or item.type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
            return None
        px_width, px_height = item.get_px_size()
        left, bottom, right, top = item.get_bounds()
        if right - left <= 0 or top - bottom <= 0:
            return None
        scale = max(scale, px_width / (right - left), px_height / (top - bottom))
    return scale or None


def _svg(path: Path, settings: Settings, *, box: int) -> Image.Image:
    data = _read_limited(path, settings.max_svg_bytes)
    if path.suffix.lower() == ".svgz" or data[:2] == b"\x1f\x8b":
        import gzip

        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise CannotDecode("damaged .svgz") from exc
        if len(data) > settings.max_svg_bytes:
            raise CannotDecode("SVG too large once decompressed")
    try:
        png = svg.rasterise(data, max_side=box, timeout=settings.tool_timeout_s)
    except svg.UnsafeSvg as exc:
        raise CannotDecode(str(exc)) from exc
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _video_frame(asset: AssetView, settings: Settings) -> Image.Image:
    """A frame at ~10% of the duration: past fades from black, still near the start."""
    duration = asset.duration or 0.0
    at = duration * 0.1 if duration > 0 else 0.0
    data = ffmpeg.frame_at(
        asset.path, seconds=at, timeout=settings.tool_timeout_s, max_bytes=256 * 1024**2
    )
    if not data and at > 0:
        data = ffmpeg.frame_at(
            asset.path, seconds=0.0, timeout=settings.tool_timeout_s, max_bytes=256 * 1024**2
        )
    if not data:
        raise CannotDecode("no video frame could be decoded")
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _read_limited(path: Path, limit: int) -> bytes:
    with open_original(path) as fd:
        size = os.fstat(fd).st_size
        if size > limit:
            raise CannotDecode(f"file larger than the {limit // 1024**2} MiB limit")
        chunks = []
        while chunk := os.read(fd, 1024 * 1024):
            chunks.append(chunk)
    return b"".join(chunks)


def _check_pixels(size: tuple[int, int], settings: Settings) -> None:
    if size[0] * size[1] > settings.max_image_pixels:
        raise CannotDecode(
            f"image has {size[0]}x{size[1]} pixels, over the limit of {settings.max_image_pixels}"
        )


def _display_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the picture has transparency; 16-bit and float scaled to 8 bits."""
    if image.mode in ("RGB", "RGBA"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        image = image.convert("I")
    if image.mode in ("I", "F"):
        low, high = cast(tuple[float, float], image.getextrema())  # one band: (min, max)
        span = (high - low) or 1
        image = image.point(lambda v: (v - low) * 255 / span).convert("L")
    if image.mode in ("RGBa", "LA", "La", "PA") or "transparency" in image.info:
        return image.convert("RGBA")
    return image.convert("RGB")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
