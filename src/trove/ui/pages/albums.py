"""Albums: every album as cards (`/albums`), and one album's page (`/albums/{id}`): where it
sits, its sub-albums, and its assets in album order (drag to reorder, star to make the cover)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from trove.services.albums import AlbumPatch
from trove.services.errors import Conflict, Invalid, NotFound
from trove.ui.components.albums import (
    ALBUMS_PATH,
    AlbumDialog,
    AlbumGrid,
    AlbumTree,
    album_card,
    album_url,
)
from trove.ui.components.share_dialog import ShareDialog
from trove.ui.components.viewer import Viewer
from trove.ui.context import call, current_viewer, services
from trove.ui.layout import frame


async def albums_page() -> None:
    with frame(active=ALBUMS_PATH, title="Albums", with_drawer=True) as page:
        assert page.drawer is not None
        with page.drawer:
            AlbumTree()
    tree = await call(services().albums.tree, viewer=current_viewer()) or []
    with ui.column().classes("trove-page w-full gap-4"):
        with ui.row().classes("items-center w-full"):
            ui.label("Albums").classes("text-h5 trove-page-title")
            ui.space()
            ui.button("New album", icon="add", on_click=_new_album).props(
                "unelevated no-caps color=primary"
            )
        if not tree:
            with ui.column().classes("trove-grid-empty trove-album-empty"):
                ui.icon("photo_album", size="64px")
                ui.label("No albums yet").classes("text-h6")
                ui.label("Select photos in Photos and choose “New album”, or make one here.")
        with ui.element("div").classes("trove-album-cards"):
            for node in tree:
                album_card(node)


async def _new_album() -> None:
    album = await AlbumDialog(asset_ids=[]).ask()
    if album:
        ui.navigate.to(album_url(album["id"]))


class AlbumPage:
    def __init__(self, album_id: str) -> None:
        self.album_id = album_id

    async def build(self) -> None:
        try:
            view = await call(services().albums.overview, self.album_id, viewer=current_viewer())
        except NotFound:
            view = None
        title = view["album"]["name"] if view else "Album not found"
        with frame(active=ALBUMS_PATH, title=title, with_drawer=True) as page:
            assert page.drawer is not None
            with page.drawer:
                self.tree = AlbumTree(current=self.album_id)
        if view is None:
            with ui.column().classes("trove-page trove-grid-empty"):
                ui.icon("photo_album", size="64px")
                ui.label("This album does not exist (any more).").classes("text-h6")
                ui.link("All albums", ALBUMS_PATH)
            return
        self.album = view["album"]
        with ui.column().classes("trove-page w-full gap-2 trove-album-page"):
            self._trail(view["ancestors"])
            self._heading()
            if view["children"]:
                with ui.element("div").classes("trove-album-cards trove-album-children"):
                    for child in view["children"]:
                        album_card(child)
            self.grid = AlbumGrid(
                self.album_id,
                cover=self.album["cover_id"],
                on_open=self._open,
                on_reorder=self._reorder,
                on_cover=self._cover,
                on_remove=self._remove,
            )
        self.viewer = Viewer(grid=self.grid, on_changed=self._asset_changed)

    def _trail(self, ancestors: list[dict[str, Any]]) -> None:
        with ui.row().classes("items-center gap-1 trove-crumbs"):
            ui.link("Albums", ALBUMS_PATH).classes("trove-crumb")
            for ancestor in ancestors:
                ui.icon("chevron_right").classes("trove-crumb-sep")
                ui.link(ancestor["name"], album_url(ancestor["id"])).classes("trove-crumb")

    def _heading(self) -> None:
        with ui.row().classes("items-start w-full gap-2 trove-album-heading"):
            with ui.column().classes("col-grow gap-0"):
                self.name = ui.input(value=self.album["name"]).props(
                    "borderless dense maxlength=255 aria-label='Album name'"
                )
                self.name.classes("trove-album-title w-full")
                self.name.on("blur", lambda: self._save(name=self.name.value))
                self.name.on("keydown.enter", lambda: self._save(name=self.name.value))
                self.description = ui.textarea(
                    value=self.album.get("description") or "", placeholder="Add a description"
                ).props("borderless dense autogrow aria-label='Album description'")
                self.description.classes("trove-album-description w-full")
                self.description.on(
                    "blur", lambda: self._save(description=self.description.value or None)
                )
                self.count = ui.label(self._count_text()).classes("trove-count")
            ui.button("Sub-album", icon="create_new_folder", on_click=self._new_child).props(
                "flat dense no-caps color=primary"
            )
            if current_viewer().may_manage(self.album.get("owner_id")):
                share = ShareDialog(self.album, album=True)
                ui.button("Share", icon="share", on_click=share.open).props(
                    "flat dense no-caps color=primary"
                ).classes("trove-share-button")
            ui.button("Delete album", icon="delete_outline", on_click=self._confirm_delete).props(
                "flat dense no-caps color=negative"
            )

    def _count_text(self) -> str:
        n = self.album["count"]
        return f"{n:,} item{'' if n == 1 else 's'} · drag to reorder, ☆ to make the cover"

    # --- actions (one service call each) -------------------------------------------------------

    async def _save(self, **changes: Any) -> None:
        changes = {k: v for k, v in changes.items() if v != self.album.get(k)}
        if not changes:
            return
        updated = await self._call(services().albums.update, self.album_id, AlbumPatch(**changes))
        if updated:
            self.album = updated
            ui.notify("Saved", type="positive", timeout=1200, position="bottom-right")

    async def _reorder(self, asset_id: str, position: int) -> None:
        result = await self._call(
            services().albums.add, self.album_id, [asset_id], position=position
        )
        if result:
            self._changed(result["album"])

    async def _cover(self, asset_id: str) -> None:
        updated = await self._call(
            services().albums.update, self.album_id, AlbumPatch(cover_id=asset_id)
        )
        if updated:
            self._changed(updated)
            ui.notify("Cover set", type="positive", timeout=1200, position="bottom-right")

    async def _remove(self, asset_ids: list[str]) -> None:
        result = await self._call(services().albums.remove, self.album_id, asset_ids)
        if result:
            self._changed(result["album"])
            ui.notify("Removed from the album (the file stays)", position="bottom-right")

    async def _new_child(self) -> None:
        name = await _ask_name("New album inside this one")
        if name:
            child = await self._call(services().albums.create, name, parent_id=self.album_id)
            if child:
                ui.navigate.to(album_url(child["id"]))

    async def _confirm_delete(self) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label(f"Delete the album “{self.album['name']}”?").classes("text-h6")
            ui.label("Its photos stay in your library; sub-albums move up a level.")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Delete", on_click=lambda: dialog.submit(True)).props(
                    "unelevated no-caps color=negative"
                )
        if await dialog:
            await self._call(services().albums.delete, self.album_id)
            ui.navigate.to(ALBUMS_PATH)

    async def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await call(function, *args, viewer=current_viewer(), **kwargs)
        except (Invalid, NotFound, Conflict) as exc:
            ui.notify(str(exc), type="negative")
            return None

    def _changed(self, album: dict[str, Any]) -> None:
        self.album = album
        self.grid.set_cover(album["cover_id"])
        self.count.text = self._count_text()

    def _open(self, asset_id: str) -> Any:
        return self.viewer.open(asset_id)

    def _asset_changed(self, asset: dict[str, Any]) -> None:
        self.grid.patch_items([{"id": asset["id"], "title": asset.get("title")}])


async def _ask_name(title: str) -> str | None:
    with ui.dialog() as dialog, ui.card().classes("trove-album-dialog"):
        ui.label(title).classes("text-h6")
        name = ui.input(placeholder="Album name").props("dense outlined autofocus maxlength=255")
        name.classes("w-full").on("keydown.enter", lambda: dialog.submit(name.value))
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
            ui.button("Create", on_click=lambda: dialog.submit(name.value)).props(
                "unelevated no-caps color=primary"
            )
    return await dialog


async def album_page(album_id: str) -> None:
    await AlbumPage(album_id).build()
