"""The lightbox's Graph tab: the asset's neighbours a page at a time, grouped by what they are
to it in words ("In folder", "Made from", "Looks like", "Identical copy of", "In album"), each
with its folder, so two copies named alike can be told apart."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from nicegui import ui

from trove.domain.enums import AssetCategory, AssetType
from trove.domain.relations import Direction
from trove.services.errors import Invalid, NotFound
from trove.ui.components.relations import phrase
from trove.ui.context import call, current_viewer, services

PAGE = 50
ICONS = {"collection": "folder", "video": "movie", "audio": "audiotrack", "document": "description"}


class GraphTab:
    def __init__(self, asset_id: str, *, on_open: Callable[[str], Any]) -> None:
        self.asset_id = asset_id
        self.on_open = on_open
        self.groups: dict[str, ui.column] = {}
        self.cursor: str | None = None
        with ui.column().classes("w-full gap-1") as self.root:
            link = ui.link(target=f"/graph?node={asset_id}").classes("trove-graph-open")
            with link:
                ui.icon("hub")
                ui.label("Open in graph explorer")
            self.body = ui.column().classes("w-full gap-1")
            with self.body:
                ui.spinner()
            self.more = ui.button("Show more", icon="expand_more", on_click=self._more)
            self.more.props("flat dense no-caps")
            self.more.set_visibility(False)

    async def load(self, cursor: str | None = None) -> None:
        try:
            page = await call(
                services().links.get_neighbors,
                self.asset_id,
                viewer=current_viewer(),
                direction=Direction.BOTH,
                limit=PAGE,
                cursor=cursor,
            )
        except (NotFound, Invalid) as exc:
            self.body.clear()
            with self.body:
                ui.label(str(exc)).classes("text-grey-7 q-pa-sm")
            return
        if cursor is None:
            self.body.clear()
            if not page["items"]:
                with self.body:
                    ui.label("No relations yet.").classes("text-grey-7 q-pa-sm")
        for item in page["items"]:
            self._row(item)
        self.cursor = page["next_cursor"]
        self.more.set_visibility(self.cursor is not None)

    async def _more(self) -> None:
        if self.cursor is not None:
            await self.load(self.cursor)

    def _row(self, item: dict[str, Any]) -> None:
        words = self._words(item["relation"], item["direction"])
        if words not in self.groups:
            with self.body:
                self.groups[words] = ui.column().classes("w-full gap-0")
                with self.groups[words]:
                    ui.label(words).classes("trove-graph-relation")
        with self.groups[words]:
            neighbour_row(item["node"], on_open=self.on_open)

    @staticmethod
    def _words(relation: str, direction: str) -> str:
        try:
            return phrase(services().links.relations.get(relation), direction)
        except ValueError:
            return relation.replace("_", " ").capitalize()


def neighbour_row(node: dict[str, Any], *, on_open: Callable[[str], Any]) -> None:
    """One neighbour: a small preview or icon, its name, and the folder it is in."""
    asset = node.get("asset")
    if asset is None:
        with ui.row().classes("items-center no-wrap gap-2 trove-graph-node"):
            ui.icon("person" if node.get("type") == "Person" else "label", size="20px")
            ui.label(f"{node.get('name')} ({node.get('type')})")
        return
    album = (
        asset.get("asset_type") == AssetType.COLLECTION
        and asset.get("category") == AssetCategory.VIRTUAL
    )
    where = "Album" if album else posixpath.dirname(asset.get("path") or "") or "Top level"
    thumb = (asset.get("thumbnails") or {}).get("small")
    with ui.element("div").classes("trove-graph-node w-full") as row:
        row.on(
            "click",
            lambda: ui.navigate.to(f"/albums/{asset['id']}") if album else on_open(asset["id"]),
        )
        if thumb:
            image = ui.element("img").classes("trove-graph-thumb")
            image.props["src"] = thumb
            image.props["alt"] = ""
        else:
            icon = "photo_album" if album else ICONS.get(asset.get("asset_type") or "", "image")
            ui.icon(icon, size="22px").classes("trove-graph-icon")
        with ui.column().classes("gap-0 col-grow"):
            ui.label(node.get("name") or asset.get("filename") or "").classes("trove-graph-name")
            ui.label(where).classes("trove-graph-where")
