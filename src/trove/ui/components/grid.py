"""AssetGrid: the gallery's virtualised grid (grid.js), driven from Python by a query.

The browser pages through GET /api/dam/assets itself and keeps only the visible rows in the
DOM; Python sets the filters and hears about opens and selections. That keeps 100,000 assets
off the websocket and out of NiceGUI's element tree.
"""

from __future__ import annotations

import calendar
import html
from collections.abc import Callable, Sequence
from typing import Any, Literal

from nicegui import ui

from trove.ui.static_files import STATIC_URL

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


# Tiles drawn into the HTML itself (first_tiles_html): more than a large window shows.
FIRST_TILES = 60


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


def first_tiles_html(items: Sequence[dict[str, Any]], icons: dict[str, str]) -> str:
    """The first tiles as plain HTML (trove.css `.trove-first`), painted as soon as the page's
    stylesheets are in, before any of its scripts has run; grid.js removes them once its own
    tiles are drawn. A stand-in only: no links or buttons, hidden from assistive technology.
    Laid out as the grid lays out (header, drawer, toolbar, month headings, square cells), so
    the gallery appears where it will stay. Every string from a file is escaped."""
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for item in items:  # a heading counts the group's items in the page, as the grid's does
        when = str(item.get("timeline_at") or item.get("captured_at") or "")[:7]
        if not groups or groups[-1][0] != when:
            groups.append((when, []))
        groups[-1][1].append(item)
    drawn = 0
    parts = [
        '<div id="trove-first-tiles" class="trove-first" aria-hidden="true">',
        '<div class="trove-first-bar">',
        f'<img src="{STATIC_URL}/favicon.svg" alt="" width="28" height="28"><span>Trove</span>',
        '</div><div class="trove-first-side"></div><div class="trove-first-grid">',
    ]
    for month, group in groups:
        if drawn >= FIRST_TILES:
            break
        label = html.escape(_month_label(month))
        parts.append(
            f'<div class="trove-first-heading"><span data-month="{html.escape(month)}">{label}'
            f'</span><small>{len(group)}</small></div><div class="trove-first-cells">'
        )
        parts.extend(_first_tile(item, icons) for item in group[: FIRST_TILES - drawn])
        parts.append("</div>")
        drawn += len(group)
    parts.append("</div></div>")
    parts.append(_RELABEL)
    return "".join(parts)


def _first_tile(item: dict[str, Any], icons: dict[str, str]) -> str:
    name = html.escape(str(item.get("title") or item.get("filename") or ""))
    thumbnails = item.get("thumbnails") or {}
    src = thumbnails.get("small") or thumbnails.get("medium")
    if src:
        inner = f'<img src="{html.escape(str(src))}" alt="" loading="lazy" decoding="async">'
    else:
        icon = html.escape(icons.get(str(item.get("asset_type")), "insert_drive_file"))
        inner = (
            f'<div><i class="q-icon notranslate material-icons">{icon}</i>'
            f'<span class="trove-first-name">{name}</span></div>'
        )
    return f'<div class="trove-first-tile" title="{name}">{inner}</div>'


def _month_label(month: str) -> str:
    """grid.js's heading for a month, in English; the browser's language replaces it (_RELABEL)
    before the first paint."""
    try:
        year, number = (int(part) for part in month.split("-"))
        return f"{calendar.month_name[number]} {year}"
    except (ValueError, IndexError):
        return "Undated"


# The month headings in the browser's language, as grid.js writes them (groupLabel).
_RELABEL = """<script>
document.querySelectorAll("#trove-first-tiles [data-month]").forEach((el) => {
  const [y, m] = el.dataset.month.split("-").map(Number);
  if (y && m) el.textContent = new Date(Date.UTC(y, m - 1, 1))
    .toLocaleDateString(undefined, { month: "long", year: "numeric", timeZone: "UTC" });
});
</script>"""
