"""GraphExplorer (seed 5.3): `/graph?node=<id>`: the node with its neighbours; click to expand
(a page at a time, "+N more" for the rest), double click to open in the lightbox, path mode
(pick two nodes: the shortest path lights up) and impact mode (what depends on a node)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from trove.domain.relations import Direction
from trove.services.errors import Invalid, NotFound
from trove.ui.components.albums import flatten
from trove.ui.components.graph_explorer import GraphExplorer
from trove.ui.components.relations import edge_words, filter_options, impact_sentence
from trove.ui.components.viewer import Viewer
from trove.ui.context import call, current_viewer, services
from trove.ui.layout import frame

GRAPH_PATH = "/graph"
PAGE = 24
IMPACT_DEPTH = 3
HINTS = {
    "explore": "Click a node to show its neighbours · double click to open it",
    "path": "Pick two nodes: the shortest path between them lights up",
    "impact": "Pick a node: everything that depends on it lights up",
}


def graph_url(node_id: str) -> str:
    return f"{GRAPH_PATH}?node={node_id}"


class _NoSteps:
    """The lightbox over the graph has no "next": nodes have no order."""

    async def neighbour(self, asset_id: str, delta: int) -> str | None:
        return None


class GraphPage:
    def __init__(self, node_id: str | None) -> None:
        self.node_id = node_id
        self.relations: list[str] = []
        self.center: dict[str, Any] | None = None
        self.names: dict[str, str] = {}

    async def build(self) -> None:
        with frame(active=GRAPH_PATH, title="Graph"):
            pass
        if self.node_id:
            try:
                asset = await call(services().assets.get, self.node_id, viewer=current_viewer())
            except NotFound:
                asset = None
            if asset is not None:
                name = asset.get("title") or asset["filename"]
                self.center = {"id": asset["id"], "type": "Asset", "name": name, "asset": asset}
                self.names[asset["id"]] = name
        specs = list(services().links.relations)
        self.viewer = Viewer(grid=_NoSteps(), on_changed=lambda _asset: None)
        with ui.column().classes("w-full gap-0 trove-graph-page"):
            if self.center is None:
                self._empty()
                return
            self._toolbar(specs)
            self.explorer = GraphExplorer(words=edge_words(specs)).classes("trove-graph-host")
            self.explorer.on("ready", self._start)
            self.explorer.on("expand", lambda e: self._expand(e.args["id"], e.args.get("cursor")))
            self.explorer.on("open", lambda e: self.viewer.open(e.args["id"]))
            self.explorer.on("path", lambda e: self._path(e.args["from"], e.args["to"]))
            self.explorer.on("impact", lambda e: self._impact(e.args["id"]))

    def _toolbar(self, specs: list[Any]) -> None:
        with ui.row().classes("trove-toolbar trove-graph-toolbar items-center w-full"):
            self.mode = ui.toggle(
                {"explore": "Explore", "path": "Path", "impact": "Impact"},
                value="explore",
                on_change=lambda e: self._set_mode(e.value),
            ).props("dense no-caps unelevated toggle-color=primary")
            self.mode.classes("trove-graph-mode")
            self.filter = ui.select(
                filter_options(specs),
                multiple=True,
                clearable=True,
                label="Relations",
                on_change=lambda e: self._refilter(list(e.value or [])),
            ).props("dense outlined use-chips options-dense")
            self.filter.classes("trove-graph-filter")
            self.status = ui.label(HINTS["explore"]).classes("trove-count trove-graph-status")
            ui.space()
            ui.button(icon="fit_screen", on_click=lambda: self.explorer.run_method("fit")).props(
                "flat round dense color=secondary aria-label='Fit to screen'"
            ).tooltip("Fit to screen")
            ui.button(
                icon="bubble_chart", on_click=lambda: self.explorer.run_method("relayout")
            ).props("flat round dense color=secondary aria-label='Lay out again'").tooltip(
                "Lay out again"
            )

    def _empty(self) -> None:
        with ui.column().classes("trove-grid-empty w-full items-center"):
            ui.icon("hub", size="64px")
            if self.node_id is not None:
                ui.label("There is no asset with that id.").classes("text-h6")
                ui.link("Back to Photos", "/")
                return
            ui.label("Pick a starting point").classes("text-h6")
            ui.label("Open a photo, go to its Graph tab and choose “Open in graph explorer”,")
            ui.label("or start from an album:")
            self.starts = ui.row().classes("justify-center gap-2 trove-graph-starts")
        ui.timer(0.01, self._list_albums, once=True)

    async def _list_albums(self) -> None:
        tree = await call(services().albums.tree, viewer=current_viewer()) or []
        with self.starts:
            for _depth, album in flatten(tree):
                chip = ui.link(target=graph_url(album["id"])).classes("trove-graph-start")
                with chip:
                    ui.icon("photo_album")
                    ui.label(album["name"])
            if not tree:
                ui.link("No albums yet: make one", "/albums")

    # --- one service call per action ----------------------------------------------------------

    async def _start(self) -> None:
        assert self.center is not None
        self.explorer.run_method("start", self.center)
        await self._expand(self.center["id"], None)

    async def _expand(self, node_id: str, cursor: str | None) -> None:
        try:
            page = await call(
                services().links.get_neighbors,
                node_id,
                viewer=current_viewer(),
                relation=self.relations or None,
                direction=Direction.BOTH,
                limit=PAGE,
                cursor=cursor,
            )
        except (NotFound, Invalid) as exc:
            ui.notify(str(exc), type="warning")
            return
        self.names.update((i["node"]["id"], i["node"]["name"]) for i in page["items"])
        self.explorer.run_method("addNeighbors", node_id, page)

    async def _path(self, source: str, target: str) -> None:
        self.status.text = "Looking for a path…"
        try:
            path = await call(
                services().links.shortest_path,
                source,
                target,
                relations=self.relations or None,
                viewer=current_viewer(),
            )
        except NotFound as exc:
            self.status.text = str(exc).capitalize()
            self.explorer.run_method("clearMarks")
            return
        steps = len(path["edges"])
        names = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} ".join(
            n["name"] for n in path["nodes"]
        )
        self.status.text = f"{steps} link{'' if steps == 1 else 's'}: {names}"
        self.explorer.run_method("showPath", path)

    async def _impact(self, node_id: str) -> None:
        impact = await call(
            services().links.impact_analysis, node_id, depth=IMPACT_DEPTH, viewer=current_viewer()
        )
        self.explorer.run_method("showImpact", node_id, impact)
        self.status.text = impact_sentence(self.names.get(node_id, "this"), impact)

    def _set_mode(self, mode: str) -> None:
        self.explorer.set_mode(mode)
        self.status.text = HINTS[mode]

    async def _refilter(self, relations: list[str]) -> None:
        self.relations = relations
        if self.center is not None:
            await self._start()


async def graph_page(node: str | None = None) -> None:
    await GraphPage(node).build()
