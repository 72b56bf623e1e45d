"""AssetPicker (seed 5.3): choose assets from Trove, for another page or application.

`asset_picker(on_pick, multiple=False, types=None, album=None)` builds it where it is called:
the search box (the query language of GET /api/dam/assets?q=), type filters, an album, "Recent"
(newest added first), and the gallery's grid in a picking mode: a click selects, a
double-click picks that asset at once, the Select button picks the selection. `on_pick` gets
the chosen assets as `PickedAsset` models (the API's detail, with the public links where the
user has a share link; services/picker.py), always as a list.

Everything shown and picked is what the page's viewer may see: the grid pages through the API
as that browser, and the pick is read again through the services with `current_viewer()`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from nicegui import ui

from trove.api.schemas import PickedAsset
from trove.domain.filters import FILE_TYPES
from trove.ui.components.albums import flatten
from trove.ui.components.filters import FILTER_TYPES
from trove.ui.components.grid import AssetGrid
from trove.ui.components.search_box import SearchBox
from trove.ui.context import call, current_viewer, services

OnPick = Callable[[list[PickedAsset]], Any]
_ORDERS = {"all": ("-timeline_at", "month", ""), "recent": ("-id", "none", "Recently added")}


class AssetPicker:
    def __init__(
        self,
        on_pick: OnPick,
        *,
        multiple: bool = False,
        types: Sequence[str] | None = None,
        album: str | None = None,
        on_cancel: Callable[[], Any] | None = None,
    ) -> None:
        """`types`: the asset types it offers (None: every kind of file); `album`: the album
        it opens on (the user may choose another, or none)."""
        self.on_pick = on_pick
        self.allowed = [t for t in (types or FILE_TYPES) if t in FILE_TYPES] or list(FILE_TYPES)
        self.types: list[str] = []
        self.text = ""
        self.album = album
        with ui.column().classes("trove-picker w-full gap-0"):
            self._toolbar()
            self.grid = AssetGrid(
                on_open=lambda _id: None,
                on_selection=self._selection,
                on_loaded=lambda _count, _done: None,
                icons=services().drivers.icons(),
                mode="many" if multiple else "one",
                on_pick=self._pick_one,
                with_timeline=False,
            ).classes("trove-grid-host trove-picker-grid")
            self._footer(multiple=multiple, on_cancel=on_cancel)
        self._refilter()
        ui.timer(0.05, self._load_albums, once=True)

    # --- building --------------------------------------------------------------------------

    def _toolbar(self) -> None:
        with ui.row().classes("trove-picker-bar items-center w-full"):
            self.search = SearchBox(on_search=self._search).input
            self.album_select = (
                ui.select(
                    options={},
                    clearable=True,
                    label="Any album",
                    on_change=lambda e: self._set_album(e.value),
                )
                .props("dense outlined options-dense")
                .classes("trove-picker-album")
            )
            ui.toggle(
                {"all": "All", "recent": "Recent"},
                value="all",
                on_change=lambda e: self._order(e.value),
            ).props("dense no-caps unelevated toggle-color=primary").classes("trove-picker-order")
        if len(self.allowed) > 1:
            with ui.row().classes("trove-picker-bar items-center w-full gap-1"):
                for value, label, icon in FILTER_TYPES:
                    if value in self.allowed:
                        ui.chip(
                            label,
                            icon=icon,
                            selectable=True,
                            on_selection_change=lambda e, v=value: self._toggle(
                                v, e.sender.selected
                            ),
                        ).props(f"outline color=primary data-type={value}")

    def _footer(self, *, multiple: bool, on_cancel: Callable[[], Any] | None) -> None:
        with ui.row().classes("trove-picker-footer items-center no-wrap w-full"):
            hint = "Double-click to pick" + (", or select several" if multiple else "")
            self.status = ui.label(hint).classes("trove-count")
            ui.space()
            if on_cancel is not None:
                ui.button("Cancel", on_click=on_cancel).props("flat no-caps color=secondary")
            self.select = ui.button("Select", icon="check", on_click=self._pick_selection)
            self.select.props("unelevated no-caps color=primary").classes("trove-picker-select")
            self.select.disable()

    async def _load_albums(self) -> None:
        tree = await call(services().albums.tree, viewer=current_viewer()) or []
        options = {a["id"]: "\u2003" * depth + a["name"] for depth, a in flatten(tree)}
        if self.album and self.album not in options:
            self.album = None  # not one this viewer sees: the picker opens on everything
            self._refilter()
        self.album_select.set_options(options, value=self.album)

    # --- filters ---------------------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """Query parameters of GET /api/dam/assets for the picker's filters."""
        params: dict[str, Any] = {"type": list(self.types or self.allowed)}
        if self.album:
            params["album"] = self.album
        if self.text.strip():
            params["q"] = self.text.strip()
        return params

    def _refilter(self) -> None:
        self.grid.set_query(self.params())

    def _search(self, text: str) -> None:
        self.text = text
        self._refilter()

    def _toggle(self, value: str, selected: bool) -> None:
        types = [t for t in self.types if t != value]
        self.types = [*types, value] if selected else types
        self._refilter()

    def _set_album(self, album: str | None) -> None:
        if album != self.album:
            self.album = album
            self._refilter()

    def _order(self, order: str) -> None:
        sort, grouping, heading = _ORDERS[order]
        self.grid.set_order(sort=sort, grouping=grouping, heading=heading)

    # --- picking ---------------------------------------------------------------------------

    def _selection(self, count: int) -> None:
        self.select.set_enabled(count > 0)
        self.select.text = f"Select {count}" if count > 1 else "Select"

    async def _pick_one(self, asset_id: str) -> None:
        await self.pick([asset_id])

    async def _pick_selection(self) -> None:
        await self.pick(await self.grid.selected_ids())

    async def pick(self, asset_ids: list[str]) -> None:
        """Hand these assets to `on_pick`, read again as the viewer sees them now (and of the
        types offered: the ids come from the browser)."""
        if not asset_ids:
            return
        found = await call(services().picker.picked, asset_ids, viewer=current_viewer()) or []
        assets = [PickedAsset.model_validate(a) for a in found]
        assets = [a for a in assets if a.asset_type in self.allowed]
        if not assets:
            return
        result = self.on_pick(assets)
        if inspect.isawaitable(result):
            await result


def asset_picker(
    on_pick: OnPick,
    *,
    multiple: bool = False,
    types: Sequence[str] | None = None,
    album: str | None = None,
    on_cancel: Callable[[], Any] | None = None,
) -> AssetPicker:
    """The picker, built in the current container (see the module docstring)."""
    return AssetPicker(on_pick, multiple=multiple, types=types, album=album, on_cancel=on_cancel)
