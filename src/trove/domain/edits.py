"""The non-destructive editor's edit list: crop, rotate (with straighten), flip, adjust.

An asset's edits are an ordered list of operations applied to its upright original (EXIF
orientation first), each to the result of the one before: a crop box is a fraction of the
picture as it is at that point of the list. Values are bounded so that every list renders,
and a list is stored and compared in its canonical JSON, so the API and the lightbox (which
send the same list to the same service) get the same render.

Trove keeps the current list and what it rendered in the asset's `edit` metadata namespace
(Trove's own, not writable through PATCH: the lightbox and the listings read it without a
query of their own); every save's list is kept in `asset_edits` for history.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

NAMESPACE = "edit"
# The lightbox's editor makes at most five operations; a list is bounded in length and in the
# work it asks for, so that a hostile list is a 422 rather than minutes of CPU. Work is counted
# in passes over the whole picture (an operation after a crop passes over less of it): a
# straighten resamples bicubically, about 12 times a quarter turn's cost (Pillow, 12 MP),
# and the editor's fullest list (turn and straighten, both flips, crop, adjust) takes 18.
MAX_EDITS = 32
MAX_PASSES = 24
STRAIGHTEN_PASSES = 12
# Changes to how an edit list is drawn (the renderer's maths, the encoder's settings) bump
# this, so that a cached render of the same list made the old way is not reused.
RENDER_VERSION = 1


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Crop(_Op):
    """Keep the box `[x, y, w, h]`, fractions 0-1 of the current picture's width and height."""

    op: Literal["crop"]
    box: tuple[
        Annotated[float, Field(ge=0, le=1)],
        Annotated[float, Field(ge=0, le=1)],
        Annotated[float, Field(gt=0, le=1)],
        Annotated[float, Field(gt=0, le=1)],
    ]

    @model_validator(mode="after")
    def _inside(self) -> Crop:
        x, y, w, h = self.box
        if x + w > 1 + 1e-6 or y + h > 1 + 1e-6:
            raise ValueError("box: x + w and y + h must not pass 1 (the picture's edge)")
        return self


class Rotate(_Op):
    """Quarter turns clockwise (`degrees`, a multiple of 90), then a free `straighten` angle
    (clockwise, ±45°) that crops to the largest upright rectangle, so no corner is blank."""

    op: Literal["rotate"]
    degrees: int = Field(default=0, ge=-360, le=360, multiple_of=90)
    straighten: float = Field(default=0.0, ge=-45, le=45)


class Flip(_Op):
    """Mirror: `h` left to right, `v` top to bottom."""

    op: Literal["flip"]
    axis: Literal["h", "v"]


class Adjust(_Op):
    """Tone and colour, 0 = unchanged: `exposure` in stops (±3); `contrast`, `saturation`,
    `temperature` (cool - / warm +) and `tint` (green - / magenta +) from -1 to 1."""

    op: Literal["adjust"]
    exposure: float = Field(default=0.0, ge=-3, le=3)
    contrast: float = Field(default=0.0, ge=-1, le=1)
    saturation: float = Field(default=0.0, ge=-1, le=1)
    temperature: float = Field(default=0.0, ge=-1, le=1)
    tint: float = Field(default=0.0, ge=-1, le=1)


EditOp = Annotated[Crop | Rotate | Flip | Adjust, Field(discriminator="op")]
EditList = Annotated[list[EditOp], Field(max_length=MAX_EDITS)]
_EDIT_LIST: TypeAdapter[list[EditOp]] = TypeAdapter(EditList)


class InvalidEdit(ValueError):
    """An edit list that cannot be applied; the message names the operation and field."""


def parse(raw: Any) -> list[EditOp]:
    """A list of operations from JSON values; InvalidEdit naming the first bad field
    (`edits.1.degrees: ...`, as the API words it), or saying the list asks for too much work."""
    try:
        edits = _EDIT_LIST.validate_python(raw)
    except ValidationError as exc:
        raise InvalidEdit(_first_problem(exc)) from None
    work = passes(edits)
    if work > MAX_PASSES:
        raise InvalidEdit(
            f"edits: this list would pass over the picture {work:.0f} times, over the limit of "
            f"{MAX_PASSES} (a straighten counts {STRAIGHTEN_PASSES}); combine its operations"
        )
    return edits


def passes(edits: list[EditOp]) -> float:
    """How many times drawing the list passes over the whole picture (see MAX_PASSES); the
    same at any size, so the preview and the saved render are refused alike."""
    area, total = 1.0, 0.0
    for op in edits:
        if isinstance(op, Crop):
            area *= op.box[2] * op.box[3]
            total += area
        elif isinstance(op, Rotate):
            turns = 1 if op.degrees % 360 else 0
            total += area * (turns + (STRAIGHTEN_PASSES if op.straighten else 0))
        elif isinstance(op, Adjust):
            total += area * 2  # a tone table, then a colour matrix
        else:
            total += area
    return total


def canonical(edits: list[EditOp]) -> list[dict[str, Any]]:
    """The list as stored and returned: every field, defaults included."""
    return [op.model_dump(mode="json") for op in edits]


def render_key(content_hash: str, edits: list[EditOp]) -> str:
    """The cache key of a render: the same original and list give the same file (a second
    copy of the photo edited the same way, an undo back to an earlier list, an import)."""
    text = json.dumps(
        {"hash": content_hash, "edits": canonical(edits), "renderer": RENDER_VERSION},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


def state_of(meta: dict[str, Any] | None) -> dict[str, Any]:
    """The asset's `edit` namespace ({} when never edited or reverted)."""
    value = (meta or {}).get(NAMESPACE)
    return value if isinstance(value, dict) else {}


def current_thumbnails(asset: Any) -> dict[str, str]:
    """Size -> URN of the previews to show: the edited render's while it is the render of the
    asset's present content, else the original's."""
    state = state_of(asset.summary_meta)
    made = state.get("thumbnails")
    if made and state.get("of_hash") == asset.hash:
        return dict(made)
    return dict(asset.thumbnails or {})


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = "edits"
    for part in error.get("loc", ()):
        if part not in ("crop", "rotate", "flip", "adjust"):  # the union's branch name
            where += f".{part}"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}"
