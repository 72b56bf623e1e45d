"""Album pieces shared by the pages: the sidebar tree, album cards, the ordered grid, and the
"Add to album" / "New album" dialog used by the gallery's selection and the lightbox.

Album names are typed by users: they are rendered as text (Vue interpolation, `ui.label`),
never as HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from nicegui import ui

from trove.services.errors import Conflict, Invalid, NotFound
from trove.ui.context import call, current_viewer, services

ALBUMS_PATH = "/albums"


def album_url(album_id: str) -> str:
    return f"{ALBUMS_PATH}/{album_id}"


def flatten(tree: list[dict[str, Any]], depth: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    """(depth, album) for every album of the tree, parents before their children."""
    for node in tree:
        yield depth, node
        yield from flatten(node.get("children", []), depth + 1)


class AlbumGrid(ui.element, component="album_grid.js"):
    """The album's assets in album order; drag to reorder, star to make a cover."""

    def __init__(
        self,
        album_id: str,
        *,
        cover: str | None,
        on_open: Callable[[str], Any],
        on_reorder: Callable[[str, int], Any],
        on_cover: Callable[[str], Any],
        on_remove: Callable[[list[str]], Any],
    ) -> None:
        super().__init__()
        self._props["api"] = f"/api/dam/albums/{album_id}/assets"
        self._props["cover"] = cover or ""
        self.on("open", lambda e: on_open(e.args["id"]))
        self.on("reorder", lambda e: on_reorder(e.args["id"], int(e.args["position"])))
        self.on("cover", lambda e: on_cover(e.args["id"]))
        self.on("remove", lambda e: on_remove(list(e.args["ids"])))

    def set_cover(self, cover: str | None) -> None:
        self._props["cover"] = cover or ""
        self.update()

    async def neighbour(self, asset_id: str, delta: int) -> str | None:
        return await self.run_method("neighbour", asset_id, delta, timeout=10)

    def patch_items(self, patches: list[dict[str, Any]]) -> None:
        self.run_method("patchItems", patches)

    def reload(self) -> None:
        self.run_method("reload")


class AlbumTree:
    """The sidebar's albums: a tree whose entries open the album's page."""

    def __init__(self, *, current: str | None = None) -> None:
        self.current = current
        with ui.column().classes("w-full gap-1 trove-album-tree"):
            with ui.row().classes("items-center no-wrap w-full"):
                ui.label("Albums").classes("trove-filter-title")
                ui.space()
                ui.button(icon="add", on_click=self.new_album).props(
                    "flat round dense size=sm color=primary aria-label='New album'"
                ).tooltip("New album")
            self.body = ui.column().classes("w-full gap-0")
        ui.timer(0.05, self.refresh, once=True)

    async def refresh(self) -> None:
        tree = await call(services().albums.tree, viewer=current_viewer()) or []
        self.body.clear()
        with self.body:
            if not tree:
                ui.label("No albums yet").classes("text-grey-7 text-caption q-px-sm")
                return
            nodes = ui.tree(tree, node_key="id", label_key="name", children_key="children")
            nodes.props("dense no-connectors no-transition selected-color=primary")
            nodes.classes("w-full trove-album-nodes")
            nodes.add_slot(
                "default-header",
                '<a :href="\'/albums/\' + props.node.id" class="trove-album-node"'
                ' :data-album="props.node.name">'
                '<q-icon name="photo_album" size="18px" class="q-mr-sm" />'
                '<span class="trove-album-node-name">{{ props.node.name }}</span>'
                '<span class="trove-album-node-count">{{ props.node.count }}</span></a>',
            )
            nodes.expand()
            if self.current:
                nodes.props(f"selected={self.current}")

    async def new_album(self) -> None:
        album = await AlbumDialog(asset_ids=[]).ask()
        if album:
            ui.navigate.to(album_url(album["id"]))


class AlbumDialog:
    """Pick an album for `asset_ids`, or name a new one (made with them in it).

    `ask()` returns the album they went into (or that was made), None when cancelled."""

    def __init__(self, *, asset_ids: list[str], new_only: bool = False) -> None:
        self.asset_ids = asset_ids
        self.new_only = new_only

    async def ask(self) -> dict[str, Any] | None:
        tree = (
            []
            if self.new_only
            else (await call(services().albums.tree, viewer=current_viewer()) or [])
        )
        count = len(self.asset_ids)
        with ui.dialog() as dialog, ui.card().classes("trove-album-dialog"):
            if self.new_only or not count:
                title = "New album" + (f" with {count} item(s)" if count else "")
            else:
                title = f"Add {count} item(s) to an album"
            ui.label(title).classes("text-h6")
            with ui.row().classes("items-center no-wrap w-full gap-2"):
                name = ui.input(placeholder="New album name").props(
                    "dense outlined autofocus maxlength=255 aria-label='New album name'"
                )
                name.classes("col-grow trove-new-album-name")
                create = ui.button(
                    "Create", icon="add", on_click=lambda: dialog.submit(("new", name.value))
                )
                create.props("unelevated no-caps color=primary")
                name.on("keydown.enter", lambda: dialog.submit(("new", name.value)))
            if tree:
                ui.label("or add to").classes("text-caption text-grey-7")
                with ui.list().props("dense").classes("w-full trove-album-choices"):
                    for depth, node in flatten(tree):
                        item = ui.item(on_click=lambda _e, i=node["id"]: dialog.submit(("add", i)))
                        item.classes("trove-album-choice").props(f"data-album-id={node['id']}")
                        with item:
                            with (
                                ui.item_section()
                                .props("avatar")
                                .style(f"padding-left:{depth * 16}px")
                            ):
                                ui.icon("photo_album", color="primary")
                            with ui.item_section():
                                ui.item_label(node["name"])
                            with ui.item_section().props("side"):
                                ui.item_label(str(node["count"])).props("caption")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
        choice = await dialog
        if not choice:
            return None
        kind, value = choice
        try:
            if kind == "new":
                album = await call(
                    services().albums.create,
                    value or "",
                    asset_ids=self.asset_ids,
                    viewer=current_viewer(),
                )
            else:
                added = await call(
                    services().albums.add, value, self.asset_ids, viewer=current_viewer()
                )
                album = added["album"]
        except (Invalid, NotFound, Conflict) as exc:
            ui.notify(str(exc), type="negative")
            return None
        if self.asset_ids:
            ui.notify(f"Added to “{album['name']}”", type="positive", position="bottom-right")
        return album


def album_card(album: dict[str, Any]) -> None:
    """A clickable card: the album's collage (or an empty frame), its name and size."""
    cover = (album.get("thumbnails") or {}).get("medium") or (album.get("thumbnails") or {}).get(
        "small"
    )
    with ui.link(target=album_url(album["id"])).classes("trove-album-card no-underline") as card:
        card.props(f'data-album="{album["id"]}"')
        with ui.element("div").classes("trove-album-card-cover"):
            if cover:
                image = ui.element("img").classes("trove-album-card-img")
                image.props["src"] = cover
                image.props["alt"] = album["name"]
                image.props["loading"] = "lazy"
            else:
                ui.icon("photo_album", size="56px").classes("trove-album-card-empty")
        ui.label(album["name"]).classes("trove-album-card-name")
        parts = [f"{album['count']} item{'' if album['count'] == 1 else 's'}"]
        if album.get("children"):
            parts.append(
                f"{len(album['children'])} album{'' if len(album['children']) == 1 else 's'}"
            )
        ui.label(" · ".join(parts)).classes("trove-album-card-count")
