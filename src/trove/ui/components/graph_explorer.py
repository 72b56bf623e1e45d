"""GraphExplorer: the Cytoscape.js diagram (graph_explorer.js); the page feeds it results."""

from __future__ import annotations

from nicegui import ui


class GraphExplorer(ui.element, component="graph_explorer.js"):
    def __init__(self, *, words: dict[str, dict[str, str]]) -> None:
        super().__init__()
        self._props["words"] = words
        self._props["mode"] = "explore"

    def set_mode(self, mode: str) -> None:
        self._props["mode"] = mode
        self.update()
