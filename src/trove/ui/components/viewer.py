"""AssetViewer (seed 5.2): the lightbox over the gallery, with the inspector beside it (a
bottom sheet on phones, closed until Info or a swipe up opens it).

The stage is the asset's driver's `render_ui_component` (the largest preview; a player for
video and audio, from the original through the Range-capable /file endpoint, or from its web
copy when the browser cannot play the original; a note's text). A picture zooms (wheel, pinch,
double-click) and pans; zoomed past the preview's pixels the original is loaded
(static/lightbox.js). ←/→ or a swipe step through the grid's order (loading further pages
when needed), Space plays a slideshow, Esc closes. The URL follows the open asset
(`?asset=<id>`), so Back closes the lightbox and Forward opens it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal, Protocol
from urllib.parse import urlencode

from nicegui import ui

from trove.services.assets import AssetPatch
from trove.services.errors import Forbidden, Invalid, NotFound
from trove.ui.components.albums import AlbumDialog
from trove.ui.components.editor import EditHook
from trove.ui.components.inspector import Inspector
from trove.ui.components.stage import file_url, full_size
from trove.ui.context import call, current_viewer, services
from trove.ui.static_files import STATIC_URL

# Seconds between pictures in a slideshow: the choices, and the first one used.
SLIDESHOW_INTERVALS = (2, 3, 5, 10)
SLIDESHOW_DEFAULT = 3
# How opening an asset changes the browser's history (lightbox.js `followUrl`): a new entry
# (Back closes), the same entry (a step), none (Back or Forward did it), or the gallery put
# under an asset opened from a link.
History = Literal["push", "replace", "none", "direct"]


class SteppableGrid(Protocol):
    """What the lightbox needs from the grid it opens over: the asset `delta` places away."""

    async def neighbour(self, asset_id: str, delta: int) -> str | None: ...


class Viewer:
    def __init__(
        self,
        *,
        grid: SteppableGrid,
        on_changed: Callable[[dict[str, Any]], Any],
        on_removed: Callable[[str], Any] | None = None,
    ) -> None:
        """`on_removed`: told the id of an asset moved to the Trash from the lightbox."""
        self.grid = grid
        self.on_changed = on_changed
        self.on_removed = on_removed
        self.asset: dict[str, Any] | None = None
        # Counts what was shown: a deferred inspector or trail applies only if nothing was
        # shown or saved after it was scheduled (a late one must not replace a newer one).
        self.shown = 0
        ui.add_head_html(f'<link rel="stylesheet" href="{STATIC_URL}/lightbox.css">')
        # Deferred: needed once an asset opens, not for the page's first paint.
        ui.add_head_html(f'<script defer src="{STATIC_URL}/lightbox.js"></script>')
        # The lightbox's elements (its toolbar, the editor) are made when first needed
        # (`prepare`): about half of a gallery page's elements, which its first paint waits
        # for on the server, and none of them shown until an asset opens.
        self._slot = ui.context.slot
        self.built = False
        ui.on("trove_lightbox_step", lambda e: self.step(int(e.args["delta"])))
        ui.on("trove_lightbox_history", lambda e: self._history_moved(e.args.get("asset")))
        self.keys_rest = False
        self.rating = False  # `r` was pressed: the next digit is the rating
        self.interval: float = SLIDESHOW_DEFAULT
        # The playing slideshow's timer, made on Play and deleted on Pause: a timer kept
        # running while paused would tick at its own phase, so the first picture after Play
        # could stay anywhere from 0 to one interval; deleting it also cancels a step still
        # on its way (a picture must not change after Pause).
        self.slideshow: ui.timer | None = None
        ui.on("trove_lightbox_key", lambda e: self._on_key(str(e.args["key"]), e.args["repeat"]))

    def prepare(self) -> None:
        """Make the lightbox's elements, where the Viewer was made (once)."""
        if self.built:
            return
        self.built = True
        with self._slot:
            self._build()

    def _build(self) -> None:
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
                on_editing=self._editing,
            )
            self.download = ui.button(icon="download").props(
                "flat round color=white download aria-label=Download"
            )
            self.download.tooltip("Download")
            # `trove-bar-wide`: left out of a phone's narrow bar.
            ui.button(icon="library_add", on_click=self.add_to_album).props(
                "flat round color=white aria-label='Add to album'"
            ).classes("trove-bar-wide").tooltip("Add to album")
            ui.button(icon="hub", on_click=self.open_graph).props(
                "flat round color=white aria-label='Open in graph explorer'"
            ).classes("trove-bar-wide").tooltip("Open in graph explorer")
            ui.button(icon="link", on_click=self.copy_link).props(
                "flat round color=white aria-label='Copy link'"
            ).classes("trove-bar-wide").tooltip("Copy link")
            self.heart = ui.button(icon="favorite_border", on_click=self.toggle_favorite)
            self.heart.props("flat round color=white aria-label=Favourite")
            self.heart.classes("trove-favorite").tooltip("Favourite (F)")
            self.stars = ui.rating(max=5, size="1.1em", color="amber", on_change=self._rated)
            self.stars.props("icon=star_border icon-selected=star no-dimming aria-label=Rating")
            self.stars.classes("trove-rating trove-bar-wide").tooltip("Rating (R, then 0 to 5)")
            self.play = ui.button(icon="play_arrow", on_click=self.toggle_slideshow)
            self.play.props("flat round color=white aria-label='Play slideshow'")
            self.play.classes("trove-slideshow").tooltip("Slideshow (Space)")
            interval = ui.button(icon="timer").props(
                "flat round dense color=white aria-label='Slideshow interval'"
            )
            interval.classes("trove-bar-wide")
            with interval, ui.menu():
                for seconds in SLIDESHOW_INTERVALS:
                    ui.menu_item(
                        f"Every {seconds} s", on_click=lambda _e, s=seconds: self.set_interval(s)
                    ).classes("trove-slideshow-interval")
            info = ui.button(icon="info").props("flat round color=white aria-label=Info")
            info.on("click", js_handler="() => troveLightbox.toggleInfo()").tooltip("Info")

    # --- opening and stepping ---------------------------------------------------------------

    async def open(self, asset_id: str, *, history: History | None = None) -> None:
        """Show an asset; `history`: how the URL follows (a new entry unless one is open)."""
        try:
            asset = await call(services().assets.get, asset_id, viewer=current_viewer())
        except NotFound:
            ui.notify("That asset is gone.", type="warning")
            return
        if asset is None:
            return
        self.prepare()
        if history is None:
            history = "replace" if self.dialog.value else "push"
        # In the lightbox's own slot: opened from the inspector (a copy's path), the element
        # clicked is cleared away with it by `show`, and what follows must not run in its slot.
        with self._slot:
            self.show(asset, history=history)
            self.dialog.open()

    async def step(self, delta: int) -> None:
        if self.asset is None:
            return
        target = await self.grid.neighbour(self.asset["id"], delta)
        if target:
            await self.open(target, history="replace")

    def show(self, asset: dict[str, Any], *, history: History = "replace") -> None:
        self.asset = asset
        self.shown += 1
        shown = self.shown
        # The previous asset's inspector goes with its name, in the same update: typing into
        # it between the two would edit the asset stepped away from, or be wiped by the new one.
        self.side.clear()
        self._show_trail([{"label": _name(asset), "kind": "asset", "id": asset["id"]}])
        self._later(lambda: self._load_trail(asset["id"], shown))
        self.download.props["href"] = file_url(asset["id"])
        self.editing.show(asset, stage_element=self.media)
        self.media.clear()
        with self.media, ui.element("div").classes("trove-zoom"):
            services().drivers.driver_for(asset).render_ui_component(asset)
        self._show_marks()
        told = {"id": asset["id"], "history": history, **full_size(asset)}
        ui.run_javascript(f"troveLightbox.show({json.dumps(told)})")
        # The picture goes out first; the inspector (tabs, notes, copies) follows it.
        self._later(lambda: self._render_inspector(shown))

    def _later(self, call: Any) -> None:
        """Run `call` just after this update, from a timer in the lightbox's own slot: one made
        in the slot of the element that was clicked (a copy's path in the inspector) would go
        with it when the inspector is cleared, and never fire."""
        with self._slot:
            ui.timer(0.01, call, once=True)

    # --- favourite and rating ---------------------------------------------------------------

    async def toggle_favorite(self) -> None:
        if self.asset is not None:
            await self._mark(favorite=not self.asset.get("favorite"))

    async def rate(self, stars: int) -> None:
        if self.asset is not None:
            await self._mark(rating=stars)

    async def _rated(self, event: Any) -> None:
        if self.asset is not None and (event.value or 0) != self.asset.get("rating", 0):
            await self.rate(int(event.value or 0))

    async def _mark(self, **changes: Any) -> None:
        """Favourite or rating through the same update the API's PATCH makes."""
        assert self.asset is not None
        try:
            updated = await call(
                services().assets.update,
                self.asset["id"],
                AssetPatch(**changes),
                viewer=current_viewer(),
            )
        except (Invalid, NotFound, Forbidden) as exc:
            ui.notify(str(exc), type="negative")
            return
        if updated is not None:
            self.asset = updated
            self._show_marks()
            self.on_changed(updated)

    def _show_marks(self) -> None:
        assert self.asset is not None
        favorite = bool(self.asset.get("favorite"))
        self.heart.props(f"icon={'favorite' if favorite else 'favorite_border'}")
        self.heart.props(f"aria-pressed={'true' if favorite else 'false'}")
        self.stars.set_value(int(self.asset.get("rating") or 0))

    def _render_inspector(self, shown: int) -> None:
        if self.asset is None or shown != self.shown:
            return  # stepped on already (perhaps back to this asset, whose own timer renders it)
        self.side.clear()
        with self.side:
            handle = ui.element("div").classes("trove-sheet-handle")
            handle.on("click", js_handler="() => troveLightbox.setInfo(false)")
            Inspector(self.asset, on_saved=self._saved, on_open=self.open)

    def _history_moved(self, asset_id: str | None) -> Any:
        """Back or Forward: the entry says which asset is open, if any."""
        if asset_id is None:
            if self.built:
                self.dialog.close()
            return None
        return self.open(asset_id, history="none")

    # --- slideshow --------------------------------------------------------------------------

    def toggle_slideshow(self) -> None:
        playing = self.slideshow is None
        if self.slideshow is not None:
            self.slideshow.delete()
            self.slideshow = None
        else:
            with self._slot:
                self.slideshow = ui.timer(self.interval, self._next_slide, immediate=False)
        self.play.props(f"icon={'pause' if playing else 'play_arrow'}")
        self.play.props(f"aria-label='{'Pause' if playing else 'Play'} slideshow'")
        if playing:
            self.play.classes(add="trove-slideshow-on")
        else:
            self.play.classes(remove="trove-slideshow-on")

    def set_interval(self, seconds: float) -> None:
        self.interval = seconds
        if self.slideshow is None:
            self.toggle_slideshow()
        else:
            self.slideshow.interval = seconds

    async def _next_slide(self) -> None:
        if self.asset is None or not self.dialog.value:
            return
        target = await self.grid.neighbour(self.asset["id"], 1)
        if not target:
            self.toggle_slideshow()
            ui.notify("End of the slideshow", timeout=1500, position="bottom")
            return
        await self.open(target, history="replace")

    async def _load_trail(self, asset_id: str, shown: int) -> None:
        try:
            parts = await call(services().breadcrumbs.of, asset_id, viewer=current_viewer())
        except NotFound:
            return
        # Read before a title was saved, the trail would put the old name back.
        if self.asset is not None and shown == self.shown:
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
        if self.asset is None or self.asset["id"] != asset["id"]:
            self.on_changed(asset)  # saved on leaving it (its title field's blur): not shown
            return
        self.asset = asset
        self.shown += 1
        shown = self.shown
        self._show_trail([{"label": _name(asset), "kind": "asset", "id": asset["id"]}])
        self._later(lambda: self._load_trail(asset["id"], shown))
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

    def _editing(self, on: bool) -> None:
        """While the editor is open over the lightbox, its keys are the editor's (a slider's
        arrows must not step to the next photo beneath it)."""
        self.keys_rest = on

    async def _on_key(self, key: str, repeat: bool) -> None:
        """The lightbox's keys (listed in ui/shortcuts.py), sent by lightbox.js while it is
        open."""
        if self.keys_rest or self.asset is None:
            return
        rating, self.rating = self.rating, False
        if rating and key in "012345":
            await self.rate(int(key))
            return
        if key in ("ArrowLeft", "ArrowRight"):
            await self.step(-1 if key == "ArrowLeft" else 1)
        elif repeat:
            return  # held down, only the arrows repeat
        elif key == "Escape":
            self.dialog.close()
        elif key == " ":
            self.toggle_slideshow()
        elif key == "Delete":
            await self.move_to_trash()
        elif key == "f":
            await self.toggle_favorite()
        elif key == "r":
            self.rating = True
            ui.notify("Rate: press 0 to 5", timeout=1500, position="bottom")

    async def move_to_trash(self) -> None:
        """Soft delete (restorable from the Trash; the file is never touched), then show the
        next asset, or the one before at the end, or close."""
        if self.asset is None:
            return
        gone = self.asset["id"]
        target = await self.grid.neighbour(gone, 1) or await self.grid.neighbour(gone, -1)
        try:
            await call(services().assets.delete, gone, viewer=current_viewer())
        except NotFound:  # gone already: the Trash has it or nothing does
            pass
        except Forbidden as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify("Moved to the Trash", timeout=1500, position="bottom-right")
        if self.on_removed is not None:
            self.on_removed(gone)
        if target:
            await self.open(target, history="replace")
        else:
            self.dialog.close()

    def _on_open_changed(self, event: Any) -> None:
        if not event.value:
            self.media.clear()  # stop a playing video
            self.asset = None
            if self.slideshow is not None:
                self.toggle_slideshow()
            ui.run_javascript("troveLightbox.closed()")


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
