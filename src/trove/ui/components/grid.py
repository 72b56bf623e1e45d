"""AssetGrid: the gallery's virtualised grid (grid.js), driven from Python by a query.

The browser pages through GET /api/dam/assets itself and keeps only the visible rows in the
DOM; Python sets the filters and hears about opens and selections. That keeps 100,000 assets
off the websocket and out of NiceGUI's element tree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from nicegui import ui

# "browse": a click opens the asset. "one" / "many": a click selects (one asset, or toggles
# it among many) and a double-click picks it at once (`on_pick`), for the asset picker.
GridMode = Literal["browse", "one", "many"]

# What a tile reads of a listed asset (grid.js): the first page put into the HTML carries only
# these, a third of the listing's bytes; the pages fetched later carry everything.
TILE_FIELDS = (
    "id",
    "asset_type",
    "filename",
    "title",
    "status",
    "duration",
    "captured_at",
    "timeline_at",
    "tags",
    "favorite",
    "stack_count",
    "hash",  # a stack's copies are found by it
)


class AssetGrid(ui.element, component="grid.js"):
    def __init__(
        self,
        *,
        on_open: Callable[[str], Any],
        on_selection: Callable[[int], Any],
        on_loaded: Callable[[int, bool], Any],
        icons: dict[str, str],
        on_stack: Callable[[str], Any] | None = None,
        page_size: int = 200,
        mode: GridMode = "browse",
        on_pick: Callable[[str], Any] | None = None,
        with_timeline: bool = True,
    ) -> None:
        """`icons`: asset type -> the icon a tile without a preview shows (the drivers');
        `with_timeline`: the scrubber rail of years and months beside the grid;
        `on_stack(id)`: a stacked tile's count was clicked (its copies are to be shown)."""
        super().__init__()
        self._props["icons"] = icons
        self._props["api"] = "/api/dam/assets"
        self._props["query"] = {}
        self._props["pagesize"] = page_size
        self._props["grouping"] = "month"
        self._props["timeline"] = "/api/dam/timeline" if with_timeline else ""
        self._props["mode"] = mode
        self.on("open", lambda e: on_open(e.args["id"]))
        self.on("selection", lambda e: on_selection(int(e.args["count"])))
        self.on("loaded", lambda e: self._loaded(on_loaded, e.args))
        if on_pick is not None:
            self.on("pick", lambda e: on_pick(e.args["id"]))
        if on_stack is not None:
            self.on("stack", lambda e: on_stack(e.args["id"]))

    def set_query(self, params: dict[str, Any]) -> None:
        """New filters: the grid starts again from the newest asset."""
        self._props["query"] = params
        self.update()

    def seed(self, params: dict[str, Any], page: Any, *, sort: str = "-timeline_at") -> None:
        """The first page of `params` (an AssetPage), sent inside the page's HTML with the
        fields a tile shows, so the first tiles need no request of their own."""
        items = []
        for item in page.items:
            tile = {key: item[key] for key in TILE_FIELDS if item.get(key) not in (None, [])}
            thumbnails = item.get("thumbnails") or {}
            size = "small" if "small" in thumbnails else "medium"  # the one a tile shows
            tile["thumbnails"] = {size: thumbnails[size]} if size in thumbnails else {}
            items.append(tile)
        self._props["initial"] = {
            "query": params,
            "sort": sort,
            "items": items,
            "next_cursor": page.next_cursor,
        }

    def _loaded(self, on_loaded: Callable[[int, bool], Any], args: dict[str, Any]) -> Any:
        # The seeded page has been used: later updates of the element need not carry it.
        self._props.pop("initial", None)
        return on_loaded(int(args["count"]), bool(args["done"]))

    def set_grouping(self, grouping: str) -> None:
        self._props["grouping"] = grouping
        self.update()

    def set_order(self, *, sort: str, grouping: str, heading: str = "") -> None:
        """Another order (a key of GET /api/dam/assets' `sort`) and grouping ("none": one
        group under `heading`); the grid starts again from its top."""
        self._props.update(sort=sort, grouping=grouping, heading=heading)
        self.update()

    async def neighbour(self, asset_id: str, delta: int) -> str | None:
        """The id `delta` places away in the grid's order (loading more pages if needed)."""
        return await self.run_method("neighbour", asset_id, delta, timeout=10)

    async def selected_ids(self) -> list[str]:
        return list(await self.run_method("selectedIds", timeout=10) or [])

    def select_all(self) -> None:
        self.run_method("selectAll")

    def clear_selection(self) -> None:
        self.run_method("clearSelection")

    def patch_items(self, patches: list[dict[str, Any]]) -> None:
        self.run_method("patchItems", patches)

    def remove_items(self, ids: list[str]) -> None:
        self.run_method("removeItems", ids)

    def reload(self) -> None:
        self.run_method("reload")
