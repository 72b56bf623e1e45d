"""The lightbox's editor: crop (free, 1:1, 4:3, 3:2, 16:9), rotate by quarter turns and
straighten, flip, exposure / contrast / saturation / white balance; undo, revert, save.

Non-destructive: what the editor holds is an edit list (domain/edits.py), and both its live
picture and the saved render are drawn by the server's EditService from that list, so what
is saved looks like what was shown, and equals what the API renders for the same list. The
list the editor writes is always in one order: rotate, flips, crop, adjust.

`EditHook` is what the lightbox's toolbar holds: the Edit button, and for an edited photo a
toggle between the edited and the original picture and a download of the edited version.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from nicegui import ui

from trove.services.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from trove.ui.context import call, current_viewer, services
from trove.ui.static_files import STATIC_URL

RATIOS = {"Free": 0.0, "1:1": 1.0, "4:3": 4 / 3, "3:2": 3 / 2, "16:9": 16 / 9}
FULL = (0.0, 0.0, 1.0, 1.0)
SLIDERS = (  # field, label, min, max, step
    ("exposure", "Exposure", -3.0, 3.0, 0.05),
    ("contrast", "Contrast", -1.0, 1.0, 0.02),
    ("saturation", "Saturation", -1.0, 1.0, 0.02),
    ("temperature", "Temperature", -1.0, 1.0, 0.02),
    ("tint", "Tint", -1.0, 1.0, 0.02),
)
_REFUSED = (Invalid, Conflict, NotFound, Unavailable, Forbidden)


@dataclass(frozen=True)
class EditorState:
    """The editor's settings, from which its edit list is made."""

    degrees: int = 0
    straighten: float = 0.0
    flip_h: bool = False
    flip_v: bool = False
    crop: tuple[float, float, float, float] = FULL
    exposure: float = 0.0
    contrast: float = 0.0
    saturation: float = 0.0
    temperature: float = 0.0
    tint: float = 0.0

    @classmethod
    def of(cls, edits: list[dict[str, Any]]) -> EditorState:
        """The state a saved list stands for (a list the API saved in another order opens as
        the nearest list in the editor's order)."""
        state = cls()
        for op in edits:
            kind = op.get("op")
            if kind == "rotate":
                state = replace(
                    state,
                    degrees=(state.degrees + int(op.get("degrees", 0))) % 360,
                    straighten=max(-45.0, min(45.0, state.straighten + op.get("straighten", 0))),
                )
            elif kind == "flip":
                field = "flip_h" if op.get("axis") == "h" else "flip_v"
                state = state.with_values({field: not getattr(state, field)})
            elif kind == "crop":
                state = replace(state, crop=_within(state.crop, tuple(op["box"])))
            elif kind == "adjust":
                state = state.with_values({name: float(op.get(name, 0.0)) for name, *_ in SLIDERS})
        return state

    def edits(self, *, crop: bool = True) -> list[dict[str, Any]]:
        made: list[dict[str, Any]] = []
        if self.degrees or self.straighten:
            made.append({"op": "rotate", "degrees": self.degrees, "straighten": self.straighten})
        if self.flip_h:
            made.append({"op": "flip", "axis": "h"})
        if self.flip_v:
            made.append({"op": "flip", "axis": "v"})
        if crop and self.crop != FULL:
            made.append({"op": "crop", "box": list(self.crop)})
        adjust = {name: getattr(self, name) for name, *_ in SLIDERS if getattr(self, name)}
        if adjust:
            made.append({"op": "adjust", **adjust})
        return made

    def with_values(self, values: dict[str, Any]) -> EditorState:
        return replace(self, **values)

    @property
    def mirrored(self) -> bool:
        return self.flip_h != self.flip_v

    def turned(self, clockwise: bool) -> EditorState:
        """A quarter turn of the picture as shown: the crop box turns with it; behind one
        mirror a turn to the right is a turn to the left of the unmirrored picture."""
        x, y, w, h = self.crop
        box = (1 - y - h, x, h, w) if clockwise else (y, 1 - x - w, h, w)
        step = 90 if clockwise != self.mirrored else -90
        return replace(self, degrees=(self.degrees + step) % 360, crop=_clean(box))

    def flipped(self, axis: str) -> EditorState:
        x, y, w, h = self.crop
        if axis == "h":
            return replace(self, flip_h=not self.flip_h, crop=_clean((1 - x - w, y, w, h)))
        return replace(self, flip_v=not self.flip_v, crop=_clean((x, 1 - y - h, w, h)))


def _within(
    outer: tuple[float, ...], inner: tuple[float, ...]
) -> tuple[float, float, float, float]:
    """A crop of a crop, as one box of the uncropped picture."""
    ox, oy, ow, oh = outer
    ix, iy, iw, ih = inner
    return _clean((ox + ix * ow, oy + iy * oh, iw * ow, ih * oh))


def _clean(box: tuple[float, ...]) -> tuple[float, float, float, float]:
    x, y, w, h = (min(1.0, max(0.0, round(v, 6))) for v in box)
    return (x, y, max(0.001, min(w, 1 - x)), max(0.001, min(h, 1 - y)))


class EditCanvas(ui.element, component="editor_canvas.js"):
    def __init__(self, *, on_crop: Callable[[tuple[float, ...]], Any]) -> None:
        super().__init__()
        self._props["src"] = ""
        self._props["cropping"] = False
        self._props["box"] = list(FULL)
        self._props["ratio"] = 0.0
        self.on("crop", lambda e: on_crop(tuple(float(v) for v in e.args)))

    def show(self, src: str, *, cropping: bool, box: tuple[float, ...], ratio: float) -> None:
        self._props.update(src=src, cropping=cropping, box=list(box), ratio=ratio)
        self.update()


class Editor:
    """The full-screen editor over the lightbox for one image."""

    def __init__(
        self,
        *,
        on_saved: Callable[[dict[str, Any]], Any],
        on_editing: Callable[[bool], Any] = lambda _on: None,
    ) -> None:
        """`on_editing(True/False)` as the editor opens and closes (the lightbox's arrow
        keys and Esc must not act beneath it)."""
        self.on_saved = on_saved
        self.asset: dict[str, Any] = {}
        self.state = EditorState()
        self.saved_state = EditorState()
        self.undo_stack: list[EditorState] = []
        self.cropping = False
        self.ratio = 0.0
        self.sliders: dict[str, Any] = {}
        self.dialog = ui.dialog().props("maximized no-route-dismiss transition-duration=100")
        self.dialog.on_value_change(lambda e: on_editing(bool(e.value)))
        with self.dialog, ui.element("div").classes("trove-editor"):
            with ui.element("div").classes("trove-editor-stage"):
                self.canvas = EditCanvas(on_crop=self._cropped)
            with ui.element("div").classes("trove-editor-tools"):
                self._tools()

    def _tools(self) -> None:
        with ui.row().classes("items-center no-wrap w-full"):
            ui.label("Edit").classes("text-h6")
            ui.space()
            self.undo_button = _icon("undo", "Undo", self.undo)
            _icon("close", "Cancel", self.dialog.close)
        with ui.row().classes("items-center gap-1"):
            self.crop_button = ui.button("Crop", icon="crop", on_click=self.toggle_crop)
            self.crop_button.props("outline dense no-caps")
            _icon("rotate_left", "Rotate left", lambda: self._change(self.state.turned(False)))
            _icon("rotate_right", "Rotate right", lambda: self._change(self.state.turned(True)))
            _icon("flip", "Flip horizontally", lambda: self._change(self.state.flipped("h")))
            flip_v = _icon("flip", "Flip vertically", lambda: self._change(self.state.flipped("v")))
            flip_v.classes("trove-flip-v")
        with ui.row().classes("items-center gap-1 trove-editor-ratios") as self.ratio_row:
            for name, value in RATIOS.items():
                button = ui.button(name, on_click=lambda v=value: self.set_ratio(v))
                button.props("flat dense no-caps size=sm")
        self.ratio_row.set_visibility(False)
        self._slider("straighten", "Straighten", -45.0, 45.0, 0.5)
        for name, label, low, high, step in SLIDERS:
            self._slider(name, label, low, high, step)
        with ui.row().classes("items-center gap-2 w-full trove-editor-actions"):
            ui.button("Revert to original", icon="restore", on_click=self.revert).props(
                "flat no-caps"
            )
            ui.space()
            ui.button("Save", icon="check", on_click=self.save).props("unelevated no-caps")

    def _slider(self, name: str, label: str, low: float, high: float, step: float) -> None:
        with ui.element("div").classes("trove-editor-slider"):
            ui.label(label).classes("text-caption")
            slider = ui.slider(min=low, max=high, step=step, value=0.0).props(
                f"label dense aria-label={label}"
            )
            slider.on("change", lambda e, n=name: self._slid(n, float(e.args)))
        self.sliders[name] = slider

    # --- opening ---------------------------------------------------------------------------

    async def open(self, asset: dict[str, Any]) -> None:
        """Undo steps back through this session's changes, then through earlier saves."""
        self.asset = asset
        self.state = self.saved_state = EditorState.of(asset.get("edits") or [])
        try:
            saved = await call(services().edits.get, asset["id"], viewer=current_viewer())
        except _REFUSED as exc:
            ui.notify(str(exc), type="warning")
            return
        earlier = (saved or {}).get("history", [])[1:]  # newest first; [0] is the current list
        self.undo_stack = [EditorState.of(h["edits"]) for h in reversed(earlier)]
        self.cropping, self.ratio = False, 0.0
        self.dialog.open()
        await self._redraw()

    # --- changing the state ----------------------------------------------------------------

    async def _change(self, state: EditorState) -> None:
        if state == self.state:
            return
        self.undo_stack.append(self.state)
        self.state = state
        await self._redraw()

    async def _slid(self, name: str, value: float) -> None:
        if name == "straighten" and self.state.mirrored:
            value = -value  # the slider turns the picture as shown
        await self._change(self.state.with_values({name: value}))

    async def _cropped(self, box: tuple[float, ...]) -> None:
        if len(box) == 4:
            await self._change(replace(self.state, crop=_clean(box)))

    async def toggle_crop(self) -> None:
        self.cropping = not self.cropping
        self.ratio_row.set_visibility(self.cropping)
        self.crop_button.props(f"{'unelevated' if self.cropping else 'outline'}")
        self.crop_button.text = "Done" if self.cropping else "Crop"
        await self._redraw()

    async def set_ratio(self, ratio: float) -> None:
        self.ratio = ratio
        await self._redraw()  # the canvas fits the box to the ratio and sends it back

    async def undo(self) -> None:
        if self.undo_stack:
            self.state = self.undo_stack.pop()
            await self._redraw()

    async def _redraw(self) -> None:
        """The server's drawing of the list (without the crop while cropping, so the whole
        picture is there to choose from), and the controls set to the state."""
        edits = self.state.edits(crop=not self.cropping)
        try:
            jpeg = await call(
                services().edits.preview, self.asset["id"], edits, viewer=current_viewer()
            )
        except _REFUSED as exc:
            ui.notify(str(exc), type="warning")
            return
        if jpeg is None:
            return
        src = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
        self.canvas.show(src, cropping=self.cropping, box=self.state.crop, ratio=self.ratio)
        for name, slider in self.sliders.items():
            value = getattr(self.state, name)
            slider.value = -value if name == "straighten" and self.state.mirrored else value
        self.undo_button.set_enabled(bool(self.undo_stack))

    # --- saving ----------------------------------------------------------------------------

    async def save(self) -> None:
        await self._store(self.state.edits())

    async def revert(self) -> None:
        await self._store([])

    async def _store(self, edits: list[dict[str, Any]]) -> None:
        try:
            asset = await call(
                services().edits.save, self.asset["id"], edits, viewer=current_viewer()
            )
        except _REFUSED as exc:
            ui.notify(str(exc), type="negative")
            return
        if asset is None:
            return
        self.dialog.close()
        ui.notify("Reverted to the original" if not edits else "Saved", type="positive")
        result = self.on_saved(asset)
        if hasattr(result, "__await__"):
            await result


class EditHook:
    """The lightbox toolbar's part: Edit, and for an edited photo Original/Edited and a
    download of the edited version (the toolbar's own download is the original)."""

    def __init__(
        self,
        *,
        on_saved: Callable[[dict[str, Any]], Any],
        on_editing: Callable[[bool], Any] = lambda _on: None,
    ) -> None:
        ui.add_head_html(f'<link rel="stylesheet" href="{STATIC_URL}/editor.css">')
        self.stage: ui.element | None = None
        self.asset: dict[str, Any] = {}
        self.showing_original = False
        self.editor = Editor(on_saved=on_saved, on_editing=on_editing)
        self.compare = _icon("compare", "Show the original", self.toggle_original)
        self.compare.props("color=white")
        self.download = ui.button(icon="download_for_offline").props(
            "flat round color=white download aria-label='Download edited'"
        )
        self.download.tooltip("Download edited")
        self.edit = ui.button(icon="tune", on_click=self.open_editor).props(
            "flat round color=white aria-label=Edit"
        )
        self.edit.tooltip("Edit")

    def show(self, asset: dict[str, Any], *, stage_element: ui.element) -> None:
        """Set for the asset the lightbox shows in `stage_element`."""
        self.asset, self.stage = asset, stage_element
        self.showing_original = False
        edited = asset.get("edited")
        self.edit.set_visibility(asset.get("asset_type") == "image" and bool(asset.get("hash")))
        self.compare.set_visibility(bool(edited))
        self.download.set_visibility(bool(edited))
        if edited:
            self.download.props["href"] = edited["url"]

    async def open_editor(self) -> None:
        await self.editor.open(self.asset)

    def toggle_original(self) -> None:
        """The stage shows the original's large preview, or the edited one again."""
        edited = self.asset.get("edited")
        if not edited or self.stage is None:
            return
        self.showing_original = not self.showing_original
        shown = self.asset
        if self.showing_original:  # as an unedited photo: with its regions drawn on it
            shown = {**self.asset, "thumbnails": edited["original_thumbnails"], "edited": None}
        self.stage.clear()
        with self.stage:
            services().drivers.driver_for(shown).render_ui_component(shown)
        self.compare.props(f"color={'primary' if self.showing_original else 'white'}")


def _icon(icon: str, label: str, action: Callable[[], Any]) -> ui.button:
    button = ui.button(icon=icon, on_click=action).props(f"flat round dense aria-label='{label}'")
    button.tooltip(label)
    return button
