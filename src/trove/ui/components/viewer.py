"""AssetViewer (seed 5.2): the lightbox over the gallery, with the inspector beside it.

The stage is the asset's driver's `render_ui_component` (the largest preview; a player for
video and audio, from the original through the Range-capable /file endpoint, or from its web
copy when the browser cannot play the original; a note's text). ←/→ step through the grid's
order (loading further pages when needed), Esc closes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode

from nicegui import ui

from trove.services.errors import NotFound
from trove.ui.components.albums import AlbumDialog
from trove.ui.components.editor import EditHook
from trove.ui.components.inspector import Inspector
from trove.ui.components.stage import file_url
from trove.ui.context import call, current_viewer, services


class SteppableGrid(Protocol):
    """What the lightbox needs from the grid it opens over: the asset `delta` places away."""

    async def neighbour(self, asset_id: str, delta: int) -> str | None: ...


class Viewer:
    def __init__(self, *, grid: SteppableGrid, on_changed: Callable[[dict[str, Any]], Any]) -> None:
        self.grid = grid
        self.on_changed = on_changed
        self.asset: dict[str, Any] | None = None
        self.show_inspector = True
        self.dialog = ui.dialog().props("maximized no-route-dismiss transition-duration=150")
        with self.dialog, ui.element("div").classes("trove-viewer") as self.root:
            with ui.element("div").classes("trove-viewer-stage"):
                self._toolbar()
                self.media = ui.element("div").classes("trove-viewer-media")
                self.prev = ui.button(icon="chevron_left", on_click=lambda: self.step(-1))
                self.prev.props("round flat size=lg color=white aria-label=Previous")
                self.prev.classes("trove-viewer-nav trove-viewer-prev")
                self.next = ui.button(icon="chevron_right", on_click=lambda: self.step(1))
                self.next.props("round flat size=lg color=white aria-label=Next")
                self.next.classes("trove-viewer-nav trove-viewer-next")
            self.side = ui.element("div").classes("trove-viewer-side")
        self.keyboard = ui.keyboard(on_key=self._on_key, active=False, repeating=False)
        self.dialog.on_value_change(self._on_open_changed)

    def _toolbar(self) -> None:
        with ui.row().classes("trove-viewer-bar items-center no-wrap"):
            ui.button(icon="arrow_back", on_click=self.dialog.close).props(
                "flat round color=white aria-label=Close"
            )
            self.trail = ui.row().classes("items-center no-wrap gap-0 trove-viewer-trail")
            ui.space()
            self.editing = EditHook(
                on_saved=self._edited,
                on_editing=lambda on: setattr(self.keyboard, "active", not on),  # keys edit
            )
            self.download = ui.button(icon="download").props(
                "flat round color=white download aria-label=Download"
            )
            self.download.tooltip("Download")
            ui.button(icon="library_add", on_click=self.add_to_album).props(
                "flat round color=white aria-label='Add to album'"
            ).tooltip("Add to album")
            ui.button(icon="hub", on_click=self.open_graph).props(
                "flat round color=white aria-label='Open in graph explorer'"
            ).tooltip("Open in graph explorer")
            ui.button(icon="link", on_click=self.copy_link).props(
                "flat round color=white aria-label='Copy link'"
            ).tooltip("Copy link")
            ui.button(icon="info", on_click=self.toggle_inspector).props(
                "flat round color=white aria-label=Info"
            ).tooltip("Info")

    # --- opening and stepping ---------------------------------------------------------------

    async def open(self, asset_id: str) -> None:
        try:
            asset = await call(services().assets.get, asset_id, viewer=current_viewer())
        except NotFound:
            ui.notify("That asset is gone.", type="warning")
            return
        if asset is None:
            return
        self.show(asset)
        self.dialog.open()

    async def step(self, delta: int) -> None:
        if self.asset is None:
            return
        target = await self.grid.neighbour(self.asset["id"], delta)
        if target:
            await self.open(target)

    def show(self, asset: dict[str, Any]) -> None:
        self.asset = asset
        self._show_trail([{"label": _name(asset), "kind": "asset", "id": asset["id"]}])
        ui.timer(0.01, lambda: self._load_trail(asset["id"]), once=True)
        self.download.props["href"] = file_url(asset["id"])
        self.editing.show(asset, stage_element=self.media)
        self.media.clear()
        with self.media:
            services().drivers.driver_for(asset).render_ui_component(asset)
        self._render_inspector()

    def _render_inspector(self) -> None:
        assert self.asset is not None
        self.side.clear()
        self.side.set_visibility(self.show_inspector)
        if self.show_inspector:
            with self.side:
                Inspector(self.asset, on_saved=self._saved, on_open=self.open)

    def toggle_inspector(self) -> None:
        self.show_inspector = not self.show_inspector
        if self.asset is not None:
            self._render_inspector()

    async def _load_trail(self, asset_id: str) -> None:
        try:
            parts = await call(services().breadcrumbs.of, asset_id, viewer=current_viewer())
        except NotFound:
            return
        if self.asset is not None and self.asset["id"] == asset_id:
            self._show_trail(parts)

    def _show_trail(self, parts: list[dict[str, Any]]) -> None:
        """`Photos > 2023 > Holiday > IMG_0042.jpg`: each folder opens in the gallery, each
        album its page; the last part is the asset itself."""
        self.trail.clear()
        with self.trail:
            for i, part in enumerate(parts):
                if i:
                    ui.icon("chevron_right").classes("trove-trail-sep")
                target = crumb_target(part)
                if target is None or i == len(parts) - 1:
                    ui.label(part["label"]).classes("trove-viewer-name")
                else:
                    ui.link(part["label"], target).classes("trove-trail-part")

    def _saved(self, asset: dict[str, Any]) -> None:
        self.asset = asset
        self._show_trail([{"label": _name(asset), "kind": "asset", "id": asset["id"]}])
        ui.timer(0.01, lambda: self._load_trail(asset["id"]), once=True)
        self.on_changed(asset)

    def _edited(self, asset: dict[str, Any]) -> None:
        self.show(asset)
        self.on_changed(asset)

    async def add_to_album(self) -> None:
        if self.asset is not None:
            await AlbumDialog(asset_ids=[self.asset["id"]]).ask()

    def open_graph(self) -> None:
        if self.asset is not None:
            ui.navigate.to(f"/graph?node={self.asset['id']}")

    def copy_link(self) -> None:
        if self.asset is None:
            return
        path = json.dumps(f"/?asset={self.asset['id']}")
        ui.run_javascript(f"troveCopy(location.origin + {path})")
        ui.notify("Link copied", timeout=1500, position="bottom-right")

    async def _on_key(self, event: Any) -> None:
        if not event.action.keydown:
            return
        if event.key.arrow_left:
            await self.step(-1)
        elif event.key.arrow_right:
            await self.step(1)
        elif event.key.escape:
            self.dialog.close()

    def _on_open_changed(self, event: Any) -> None:
        self.keyboard.active = bool(event.value)
        if not event.value:
            self.media.clear()  # stop a playing video


def _name(asset: dict[str, Any]) -> str:
    return str(asset.get("title") or asset.get("filename") or "")


def crumb_target(part: dict[str, Any]) -> str | None:
    """Where a breadcrumb leads: a folder to the gallery showing it, an album to its page."""
    kind = part["kind"]
    if kind in ("library", "folder") and part.get("root_id"):
        return "/?" + urlencode({"root": part["root_id"], "path": part.get("path") or ""})
    if kind == "albums":
        return "/albums"
    if kind == "album" and part.get("id"):
        return f"/albums/{part['id']}"
    return None
