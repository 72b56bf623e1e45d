"""The map (`/map`): where the photos were taken, as clustered markers; a marker of one photo
opens it in the gallery's lightbox. Tiles only when a tile source is set (TROVE_MAP_TILES),
else the bundled world outline: nothing is fetched from the network by default."""

from __future__ import annotations

from nicegui import ui

from trove.ui.components.map_view import MapView
from trove.ui.context import services
from trove.ui.layout import frame

MAP_PATH = "/map"


async def map_page() -> None:
    settings = services().settings
    with frame(active=MAP_PATH, title="Map"), ui.column().classes("w-full gap-0 trove-map-page"):
        with ui.row().classes("trove-toolbar items-center w-full"):
            count = ui.label("Loading…").classes("trove-count")
        MapView(
            tiles=settings.map_tiles,
            attribution=settings.map_attribution,
            on_open=lambda asset_id: ui.navigate.to(f"/?asset={asset_id}"),
            on_loaded=lambda total: count.set_text(_places_text(total)),
        ).classes("trove-map-host")


def _places_text(total: int) -> str:
    if total == 0:
        return "No geotagged items here"
    return f"{total:,} geotagged item{'s' if total != 1 else ''} in view"
