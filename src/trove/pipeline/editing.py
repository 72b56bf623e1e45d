"""Drawing an edit list (domain/edits.py) onto an upright picture with Pillow.

Pillow rather than libvips: NOTES.md measured one Pillow decode faster than pyvips for the
same pyramid, and each operation here is one C pass over the pixels: quarter turns and flips
are transposes (lossless), a crop is a view, exposure, white balance and contrast are one
lookup table, saturation one colour matrix. Only a straighten resamples (bicubic).

Contrast pivots on mid-grey and saturation mixes with Rec. 601 luma, as the CSS filters the
lightbox previews an edit with do, so what is saved looks like what was previewed.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image

from trove.domain.edits import Adjust, Crop, EditOp, Flip, Rotate

_QUARTER_TURNS = {  # clockwise degrees -> Pillow's transpose (whose ROTATE_90 turns left)
    90: Image.Transpose.ROTATE_270,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}
_FLIPS = {"h": Image.Transpose.FLIP_LEFT_RIGHT, "v": Image.Transpose.FLIP_TOP_BOTTOM}
_LUMA = (0.299, 0.587, 0.114)
JPEG_QUALITY = 92


@dataclass(frozen=True)
class Encoded:
    data: bytes
    mime_type: str
    suffix: str


def apply(image: Image.Image, edits: list[EditOp]) -> Image.Image:
    """`image` (RGB or RGBA, upright) with every operation applied in order."""
    for op in edits:
        if isinstance(op, Crop):
            image = crop(image, op.box)
        elif isinstance(op, Rotate):
            image = rotate(image, op.degrees, op.straighten)
        elif isinstance(op, Flip):
            image = image.transpose(_FLIPS[op.axis])
        elif isinstance(op, Adjust):
            image = adjust(image, op)
    return image


def crop(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    x, y, w, h = box
    left, top = round(x * image.width), round(y * image.height)
    right = max(left + 1, min(image.width, round((x + w) * image.width)))
    bottom = max(top + 1, min(image.height, round((y + h) * image.height)))
    return image.crop((min(left, image.width - 1), min(top, image.height - 1), right, bottom))


def rotate(image: Image.Image, degrees: int, straighten: float) -> Image.Image:
    turn = _QUARTER_TURNS.get(degrees % 360)
    if turn is not None:
        image = image.transpose(turn)
    if not straighten:
        return image
    # Pillow turns counter-clockwise; then keep the largest centred rectangle of the same
    # shape that lies wholly inside the turned picture.
    turned = image.rotate(-straighten, resample=Image.Resampling.BICUBIC, expand=False)
    scale = _inscribed_scale(image.width, image.height, math.radians(straighten))
    width, height = max(1, int(image.width * scale)), max(1, int(image.height * scale))
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return turned.crop((left, top, left + width, top + height))


def _inscribed_scale(width: int, height: int, angle: float) -> float:
    cos, sin = abs(math.cos(angle)), abs(math.sin(angle))
    return min(width / (width * cos + height * sin), height / (width * sin + height * cos))


def adjust(image: Image.Image, op: Adjust) -> Image.Image:
    alpha = image.getchannel("A") if image.mode == "RGBA" else None
    rgb = image.convert("RGB") if alpha is not None else image
    if op.exposure or op.temperature or op.tint or op.contrast:
        rgb = rgb.point(_tone_table(op))
    if op.saturation:
        rgb = rgb.convert("RGB", _saturation_matrix(1.0 + op.saturation))
    if alpha is not None:
        rgb = rgb.copy()
        rgb.putalpha(alpha)
    return rgb


def _tone_table(op: Adjust) -> list[int]:
    """Per channel: exposure and white balance as gains, then contrast about mid-grey."""
    gain = 2.0**op.exposure
    gains = (
        gain * (1 + 0.25 * op.temperature) * (1 + 0.125 * op.tint),
        gain * (1 - 0.25 * op.tint),
        gain * (1 - 0.25 * op.temperature) * (1 + 0.125 * op.tint),
    )
    slope = 1.0 + op.contrast
    table: list[int] = []
    for channel_gain in gains:
        for value in range(256):
            lit = min(255.0, value * channel_gain)
            table.append(max(0, min(255, round((lit - 127.5) * slope + 127.5))))
    return table


def _saturation_matrix(amount: float) -> tuple[float, ...]:
    rows: list[float] = []
    for channel in range(3):
        row = [(1 - amount) * weight for weight in _LUMA]
        row[channel] += amount
        rows += [*row, 0.0]
    return tuple(rows)


def encode(image: Image.Image) -> Encoded:
    """The full-size render: JPEG for an opaque picture, PNG when it has transparency."""
    buffer = io.BytesIO()
    if image.mode == "RGBA":
        image.save(buffer, "PNG", compress_level=3)
        return Encoded(buffer.getvalue(), "image/png", ".png")
    image.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return Encoded(buffer.getvalue(), "image/jpeg", ".jpg")
