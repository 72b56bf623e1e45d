"""The gallery (seed 5.1): filters, search, the grid, multi-select actions, upload, lightbox."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from pydantic import ValidationError

from trove.domain.filters import AssetFilters
from trove.services.assets import AssetPage
from trove.services.errors import Invalid, NotFound
from trove.ui.components.albums import AlbumDialog, AlbumTree
from trove.ui.components.filters import FilterPanel, GalleryFilters
from trove.ui.components.grid import AssetGrid, first_tiles_html
from trove.ui.components.stack_dialog import StackDialog
from trove.ui.components.upload import UploadDialog
from trove.ui.components.viewer import Viewer
from trove.ui.context import call, current_viewer, services
from trove.ui.layout import frame

# Tiles in the HTML: a 1280x800 window shows about 40, a phone about 30; the grid's own pages
# of 200 follow as it scrolls.
FIRST_PAGE = 100


class GalleryPage:
    """One browser tab's gallery: its filters, grid, selection bar and dialogs."""

    def __init__(self) -> None:
        self.filters = GalleryFilters()
        self.loaded = 0
        self.done = False
        self.choices_loaded = False

    async def build(self, *, open_asset: str | None) -> None:
        params = self.filters.to_params()
        # Before any element: NiceGUI answers with the elements made before the first await
        # once a timer (the album tree's) waits for the connection.
        first_page = await self._first_page(params)
        with frame(
            active="/",
            title="Photos",
            with_search=True,
            with_drawer=True,
            on_search=self._search,
        ) as page:
            assert page.drawer is not None
            with page.drawer:
                self.panel = FilterPanel(self.filters, on_change=self._refilter)
                ui.separator().classes("q-my-md")
                self.album_tree = AlbumTree()
        self._toolbar()
        self._selection_bar()
        icons = services().drivers.icons()
        self.grid = AssetGrid(
            on_open=self._open,
            on_selection=self._selection,
            on_loaded=self._loaded,
            icons=icons,
            on_stack=lambda asset_id: self.stack.open(asset_id),
        ).classes("trove-grid-host")
        self.grid.set_query(params)
        if first_page is not None:
            self.grid.seed(params, first_page)
        if first_page is not None and first_page.items:
            # Drawn as plain HTML too: they paint before the page's scripts have run.
            ui.add_body_html(first_tiles_html(first_page.items, icons))
        self.viewer = Viewer(
            grid=self.grid,
            on_changed=self._asset_changed,
            on_removed=lambda asset_id: self.grid.remove_items([asset_id]),
        )
        self.upload = UploadDialog(on_uploaded=self._uploaded)
        self.stack = StackDialog(on_open=self._open)
        if open_asset:
            # Back from it lands on the gallery (lightbox.js puts the gallery under it).
            ui.timer(0.2, lambda: self.viewer.open(open_asset, history="direct"), once=True)

    async def _first_page(self, params: dict[str, Any]) -> AssetPage | None:
        """The grid's first page goes out with the HTML: the first tiles paint once the
        page's scripts run, without a request after them (issue 13's first paint)."""
        try:
            return await call(
                services().assets.list,
                AssetFilters(**params, sort="-timeline_at", limit=FIRST_PAGE),
                viewer=current_viewer(),
            )
        except (Invalid, ValidationError, NotFound):
            return None  # the grid asks the API itself and shows why

    async def _load_choices(self) -> None:
        tags = await call(services().assets.tag_counts, viewer=current_viewer()) or []
        self.panel.set_tag_options(tags)
        status = await call(services().library.status, viewer=current_viewer()) or {}
        self.panel.set_roots(status.get("roots", []))

    # --- toolbar and selection --------------------------------------------------------------

    def _toolbar(self) -> None:
        with ui.row().classes("trove-toolbar items-center no-wrap w-full"):
            self.count_label = ui.label("Loading…").classes("trove-count")
            ui.space()
            ui.toggle(
                {"month": "Months", "day": "Days"},
                value="month",
                on_change=lambda e: self.grid.set_grouping(e.value),
            ).props("dense no-caps unelevated toggle-color=primary size=sm").classes(
                "trove-grouping"
            )
            ui.button(
                "Select all", icon="select_all", on_click=lambda: self.grid.select_all()
            ).props("flat dense no-caps color=secondary")
            ui.button("Upload", icon="cloud_upload", on_click=lambda: self.upload.open()).props(
                "unelevated dense no-caps color=primary"
            ).classes("trove-upload-button")

    def _selection_bar(self) -> None:
        with ui.row().classes("trove-selection items-center no-wrap w-full") as self.selection:
            ui.button(icon="close", on_click=lambda: self.grid.clear_selection()).props(
                "flat round dense aria-label='Clear selection'"
            )
            self.selection_label = ui.label().classes("text-subtitle1 text-weight-medium")
            ui.space()
            self.bulk_tag = ui.input(placeholder="Add tag").props(
                "dense outlined clearable aria-label='Tag to add'"
            )
            self.bulk_tag.classes("trove-bulk-tag").on("keydown.enter", self._tag_selected)
            ui.button("Tag", icon="sell", on_click=self._tag_selected).props(
                "unelevated dense no-caps color=primary"
            )
            ui.button("Add to album", icon="library_add", on_click=self._add_to_album).props(
                "flat dense no-caps color=primary"
            )
            ui.button("New album", icon="photo_album", on_click=self._new_album).props(
                "flat dense no-caps color=primary"
            ).tooltip("New album from the selection")
            ui.button("Delete", icon="delete", on_click=self._confirm_delete).props(
                "flat dense no-caps color=negative"
            )
        self.selection.set_visibility(False)

    def _selection(self, count: int) -> None:
        self.selection.set_visibility(count > 0)
        self.selection_label.text = f"{count} selected"

    async def _loaded(self, count: int, done: bool) -> None:
        self.loaded, self.done = count, done
        self._show_count(count, done)
        if not self.choices_loaded:
            # Tag counts, libraries and the lightbox's elements come after the first tiles:
            # the grid never waits on a count over the library, nor the first paint on them.
            self.choices_loaded = True
            self.viewer.prepare()
            await self._load_choices()

    def _show_count(self, count: int, done: bool) -> None:
        if count == 0:
            self.count_label.text = "No items" if done else "Loading…"
        else:
            self.count_label.text = f"{count:,} items" if done else f"{count:,}+ items"

    # --- actions ----------------------------------------------------------------------------

    async def _tag_selected(self) -> None:
        tag = (self.bulk_tag.value or "").strip()
        if not tag:
            ui.notify("Type a tag first", type="warning")
            return
        ids = await self.grid.selected_ids()
        try:
            updated = await call(
                services().assets.add_tags_many, ids, [tag], viewer=current_viewer()
            )
        except Invalid as exc:
            ui.notify(str(exc), type="negative")
            return
        self.grid.run_method("addTags", ids, [tag])
        self.bulk_tag.value = ""
        ui.notify(f"Tagged {updated} item(s) “{tag}”", type="positive")
        self.panel.set_tag_options(
            await call(services().assets.tag_counts, viewer=current_viewer()) or []
        )

    async def _add_to_album(self) -> None:
        if await AlbumDialog(asset_ids=await self.grid.selected_ids()).ask():
            await self.album_tree.refresh()

    async def _new_album(self) -> None:
        album = await AlbumDialog(asset_ids=await self.grid.selected_ids(), new_only=True).ask()
        if album:
            self.grid.clear_selection()
            await self.album_tree.refresh()

    async def _confirm_delete(self) -> None:
        ids = await self.grid.selected_ids()
        with ui.dialog() as dialog, ui.card():
            ui.label(f"Delete {len(ids)} item(s)?").classes("text-h6")
            ui.label("They leave the gallery; the files on disk are never touched.")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Delete", on_click=lambda: dialog.submit(True)).props(
                    "unelevated color=negative"
                )
        if not await dialog:
            return
        deleted = await call(services().assets.delete_many, ids, viewer=current_viewer())
        self.grid.remove_items(ids)
        ui.notify(f"Deleted {deleted} item(s)", type="positive")

    def _open(self, asset_id: str) -> Any:
        return self.viewer.open(asset_id)

    def _asset_changed(self, asset: dict[str, Any]) -> None:
        self.grid.patch_items(
            [
                {
                    "id": asset["id"],
                    "title": asset.get("title"),
                    "tags": asset.get("tags", []),
                    "thumbnails": asset.get("thumbnails") or {},  # an edit's new previews
                    "favorite": bool(asset.get("favorite")),  # marked in the lightbox
                    "rating": asset.get("rating") or 0,
                }
            ]
        )

    def _uploaded(self, asset: dict[str, Any]) -> None:
        ui.notify(f"Uploaded {asset.get('filename')}", type="positive", position="bottom-right")
        self.grid.reload()

    def _search(self, text: str) -> None:
        self.filters.text = text
        self._refilter()

    def _refilter(self) -> None:
        self.grid.set_query(self.filters.to_params())


async def gallery_page(asset: str | None = None, root: str | None = None, path: str = "") -> None:
    """`/`; `/?asset=<id>` opens one asset in the lightbox (what "Copy link" copies);
    `/?root=<id>&path=2023/Trip` shows one folder (what the lightbox's breadcrumbs link)."""
    page = GalleryPage()
    page.filters.root_id, page.filters.path = root, path if root else ""
    await page.build(open_asset=asset)
