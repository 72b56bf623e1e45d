"""MapView: the Leaflet map of geotagged assets (map_view.js); it fetches its own markers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui


class MapView(ui.element, component="map_view.js"):
    def __init__(
        self,
        *,
        tiles: str,
        attribution: str,
        on_open: Callable[[str], Any],
        on_loaded: Callable[[int], Any],
    ) -> None:
        super().__init__()
        self._props["tiles"] = tiles
        self._props["attribution"] = attribution
        self.on("open", lambda e: on_open(str(e.args["id"])))
        self.on("loaded", lambda e: on_loaded(int(e.args["total"])))
