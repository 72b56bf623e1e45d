"""The inspector beside the lightbox (seed 5.2): editable fields and the layered tabs.

General leads with a one-line summary (camera · lens · f/1.8 · 1/250 s · ISO · mm · place)
and a warning when a bitrot check failed; then the core and technical fields (dates in the
reader's locale, the web copy a browser is given instead of an original it cannot show), the
other copies of the same bytes ("also exists in"), and the hashes and ids under Advanced.
Each metadata namespace gets a tab: typed and human-formatted when a schema is registered for
it (typed_metadata.py), else a tree of labels; Graph lists the immediate neighbours.
Everything from a file goes through labels and tree nodes, which Quasar renders as text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from nicegui import ui

from trove.domain.enums import AssetType
from trove.domain.namespaces import ExifMeta, GeoMeta
from trove.drivers.metadata import AssetSDK
from trove.services.assets import AssetPatch
from trove.services.errors import Forbidden, Invalid
from trove.ui.components.graph_tab import GraphTab
from trove.ui.components.notes import NotesPanel
from trove.ui.components.share_dialog import ShareDialog
from trove.ui.components.stage import file_url
from trove.ui.components.typed_metadata import Row, camera_summary, render_rows, rows_for
from trove.ui.context import call, current_viewer, services
from trove.ui.format import human_duration, human_size, human_time

# Shown first, in this order; any other namespace follows alphabetically.
NAMESPACE_ORDER = ("place", "exif", "iptc", "xmp", "geo", "probe", "ffprobe", "ocr", "text")
MAX_VALUE_CHARS = 400
MAX_NODES = 2000
GRAPH_TAB = "graph"


class Inspector:
    """One asset's inspector; `on_saved` gets the updated asset after each edit."""

    def __init__(
        self,
        asset: dict[str, Any],
        *,
        on_saved: Callable[[dict[str, Any]], Any],
        on_open: Callable[[str], Any],
    ) -> None:
        self.asset = asset
        self.on_saved = on_saved
        self.on_open = on_open
        self.sdk = AssetSDK(services().drivers.metadata)
        with ui.column().classes("trove-inspector w-full gap-0"):
            self._editable()
            self._tabs()

    # --- editing ----------------------------------------------------------------------------

    def _editable(self) -> None:
        asset = self.asset
        with ui.column().classes("w-full gap-1 q-pa-md"):
            title = ui.input("Title", value=asset.get("title") or "").props(
                "dense outlined maxlength=1000"
            )
            title.classes("w-full trove-title-input")
            title.on("keydown.enter", lambda: self._save(title=title.value))
            title.on("blur", lambda: self._save(title=title.value))
            description = ui.textarea("Description", value=asset.get("description") or "")
            description.props("dense outlined autogrow").classes("w-full")
            description.on("blur", lambda: self._save(description=description.value))
            tags = ui.input_chips("Tags", value=list(asset.get("tags") or []))
            tags.props("dense outlined").classes("w-full trove-tags-input")
            tags.on_value_change(lambda e: self._save(tags=list(e.value or [])))
            if current_viewer().may_manage(asset.get("owner_id")):
                share = ShareDialog(asset, album=False)
                ui.button("Share…", icon="share", on_click=share.open).props(
                    "flat dense no-caps"
                ).classes("trove-share-button self-start")

    async def _save(self, **changes: Any) -> None:
        changes = {k: v for k, v in changes.items() if _differs(self.asset.get(k), v)}
        if not changes:
            return
        try:
            updated = await call(
                services().assets.update,
                self.asset["id"],
                AssetPatch(**changes),
                viewer=current_viewer(),
            )
        except (Invalid, Forbidden) as exc:
            ui.notify(str(exc), type="negative")
            return
        if updated is None:
            return
        self.asset = updated
        ui.notify("Saved", type="positive", timeout=1200, position="bottom-right")
        self.on_saved(updated)

    # --- tabs -------------------------------------------------------------------------------

    def _tabs(self) -> None:
        namespaces = ordered_namespaces(self.asset.get("metadata") or {})
        with (
            ui.tabs()
            .props("dense align=left outside-arrows mobile-arrows")
            .classes("w-full trove-tabs") as tabs
        ):
            general = ui.tab("general", label="General")
            ns_tabs = [
                (name, ui.tab(f"ns:{name}", label=self._tab_label(name))) for name in namespaces
            ]
            ui.tab(GRAPH_TAB, label="Graph")
        with ui.tab_panels(tabs, value=general).props("animated=false").classes("w-full"):
            with ui.tab_panel(general):
                self._general()
            for name, tab in ns_tabs:
                with ui.tab_panel(tab):
                    self._namespace(name)
            with ui.tab_panel(GRAPH_TAB):
                self._graph_panel = ui.column().classes("w-full gap-1")
        tabs.on_value_change(self._maybe_load_graph)

    def _general(self) -> None:
        summary = camera_summary(
            self.sdk.get_metadata(self.asset, "exif", ExifMeta), place=place_name(self.asset)
        )
        if summary:
            ui.label(summary).classes("trove-camera-summary q-mb-sm")
        if self.asset.get("corrupted"):
            corrupted_warning(self.asset)
        services().drivers.driver_for(self.asset).render_inspector_section(self.asset)
        render_rows(general_fields(self.asset))
        if self.asset.get("copies"):
            copies_section(self.asset["copies"], on_open=self.on_open)
        copy = self.asset.get("web_copy")
        if copy:
            with ui.row().classes("items-center gap-2 q-mt-sm trove-web-copy"):
                ui.icon("smart_display", size="20px")
                ui.label("Web copy: " + web_copy_text(copy))
                link = ui.link("open", file_url(copy["id"]), new_tab=True)
                link.classes("trove-web-copy-link")
        if self.asset.get("asset_type") != AssetType.LOG_ENTRY and not self.asset.get("deleted"):
            NotesPanel(self.asset["id"], on_open=self.on_open)
        with ui.expansion("Advanced").props("dense").classes("w-full trove-advanced"):
            render_rows(advanced_fields(self.asset))

    def _tab_label(self, namespace: str) -> str:
        """The schema's title ("Camera" for exif), else the namespace's name in words."""
        schema = self.sdk.registry.get(namespace)
        if schema is not None and schema.title:
            return schema.title
        return namespace.upper() if len(namespace) <= 4 else namespace.replace("_", " ").title()

    def _namespace(self, name: str) -> None:
        """Typed rows when the namespace's schema reads it, with the raw values below."""
        typed = self.sdk.typed(self.asset, name)
        if isinstance(typed, GeoMeta) and not typed.place:
            # The places step names the position in its own namespace.
            place = (self.asset.get("metadata") or {}).get("place")
            called = place.get("name") if isinstance(place, dict) else None
            typed = typed.model_copy(update={"place": called})
        rows = rows_for(typed) if typed is not None else []
        if not rows:
            metadata_tree(self.asset["metadata"][name])
            return
        render_rows(rows)
        with ui.expansion("All values").props("dense").classes("w-full trove-raw-values"):
            metadata_tree(self.asset["metadata"][name])

    async def _maybe_load_graph(self, event: Any) -> None:
        if event.value != GRAPH_TAB:
            return
        self._graph_panel.clear()
        with self._graph_panel:
            tab = GraphTab(self.asset["id"], on_open=self.on_open)
        await tab.load()


def _differs(current: Any, new: Any) -> bool:
    if isinstance(new, str) or new is None:
        return (current or "").strip() != (new or "").strip()
    return list(current or []) != list(new or [])


def ordered_namespaces(metadata: dict[str, Any]) -> list[str]:
    present = [n for n in metadata if isinstance(metadata[n], dict | list) and metadata[n]]
    first = [n for n in NAMESPACE_ORDER if n in present]
    return first + sorted(n for n in present if n not in first)


def general_fields(asset: dict[str, Any]) -> list[Row]:
    """Core and technical fields as rows (dates in the reader's locale); empty ones are left
    out. Hashes and identifiers are under Advanced (`advanced_fields`): few readers want them
    and they are long."""
    width, height = asset.get("width"), asset.get("height")
    fields = [
        ("File name", asset.get("filename")),
        ("Folder", _folder(asset.get("path"))),
        ("Type", f"{asset.get('asset_type')} · {asset.get('mime_type') or 'unknown'}"),
        ("Size", human_size(asset.get("size"))),
        ("Dimensions", f"{width} \u00d7 {height}" if width and height else None),
        ("Duration", human_duration(asset.get("duration"))),
    ]
    rows = [Row(label, str(value)) for label, value in fields if value]
    rows += [r for r in (_moment("Captured", asset.get("captured_at"), clock=True),) if r]
    rows += [r for r in (_timeline(asset),) if r]
    fields = [("Status", _status(asset)), ("Visibility", asset.get("visibility"))]
    return rows + [Row(label, str(value)) for label, value in fields if value]


def advanced_fields(asset: dict[str, Any]) -> list[Row]:
    """What identifies the asset to Trove and to scripts: hashes, URN, id, version, and when
    Trove indexed and last changed it."""
    fields = [
        ("SHA-256", asset.get("hash")),
        ("pHash", asset.get("phash")),
        ("Storage", asset.get("storage_urn")),
        ("Id", asset.get("id")),
        ("Version", str(asset["version"]) if asset.get("version") else None),
    ]
    rows = [Row(label, str(value)) for label, value in fields if value]
    for label, key in (("Indexed", "created_at"), ("Updated", "updated_at")):
        rows += [r for r in (_moment(label, asset.get(key), clock=False),) if r]
    return rows


def place_name(asset: dict[str, Any]) -> str | None:
    """The place in words: the places step's name, else one the file itself gave."""
    metadata = asset.get("metadata") or {}
    for namespace in ("place", "geo"):
        values = metadata.get(namespace)
        key = "name" if namespace == "place" else "place"
        if isinstance(values, dict) and isinstance(values.get(key), str) and values[key]:
            return str(values[key])
    return None


def copy_location(copy: dict[str, Any]) -> tuple[str, str]:
    """(folder, shown path) of another copy: `/backup/photos/2023`, `/backup/photos/2023/a.jpg`."""
    root = (copy.get("root_path") or "").rstrip("/")
    path = copy.get("path") or copy.get("filename") or ""
    full = f"{root}/{path}" if root else path
    return full.rpartition("/")[0] or full, full


def copies_section(copies: list[dict[str, Any]], *, on_open: Callable[[str], Any]) -> None:
    """ "Also exists in": each other copy of the same bytes, its path opening it in the
    lightbox and its folder in the gallery; a copy that failed its bitrot check says so."""
    with ui.column().classes("w-full gap-1 q-mt-md trove-copies"):
        ui.label(f"Also exists in ({len(copies)})").classes("text-subtitle2")
        for copy in copies:
            folder, full = copy_location(copy)
            with ui.row().classes("items-center no-wrap gap-2 w-full trove-copy"):
                ui.icon("content_copy", size="18px").classes("text-grey-7")
                with ui.column().classes("gap-0 min-w-0"):
                    ui.label(full).classes("trove-copy-path cursor-pointer").on(
                        "click", lambda _e, cid=copy["id"]: on_open(cid)
                    )
                    where = gallery_folder_url(copy)
                    if where:
                        ui.link(f"Open folder {folder}", where).classes("trove-copy-folder")
                if copy.get("corrupted"):
                    ui.badge("corrupted", color="negative").classes("trove-copy-corrupted")
                elif copy.get("status") in ("missing", "offline"):
                    ui.badge(str(copy["status"]), color="grey-7")


def gallery_folder_url(copy: dict[str, Any]) -> str | None:
    if not copy.get("root_id"):
        return None
    path = copy.get("path") or ""
    return "/?" + urlencode({"root": copy["root_id"], "path": path.rpartition("/")[0]})


def corrupted_warning(asset: dict[str, Any]) -> None:
    """A failed bitrot check, said first: the bytes changed while size and date did not."""
    found = [n for n in asset.get("integrity") or [] if n.get("kind") == "corrupted"]
    when = human_time(found[0]["found_at"]) if found else None
    healthy = [c for c in asset.get("copies") or [] if not c.get("corrupted")]
    text = "Corrupted: its bytes changed while its size and date did not"
    text += f" (found {when})." if when else "."
    if healthy:
        text += " A copy listed under “Also exists in” may be intact."
    with ui.row().classes("items-start no-wrap gap-2 q-pa-sm q-mb-sm trove-corrupted"):
        ui.icon("report", size="20px")
        ui.label(text)


def _moment(label: str, iso: str | None, *, clock: bool, note: str | None = None) -> Row | None:
    """A date in the reader's locale. A capture time is the camera's clock when the file gave
    no zone (most EXIF): shown as read (`clock`), not moved into the reader's zone; Indexed
    and Updated are Trove's own UTC instants."""
    if not iso:
        return None
    return Row(label, human_time(iso) or iso, iso=iso, wall_clock=clock, note=note)


def web_copy_text(copy: dict[str, Any]) -> str:
    """ "WebP · 3.2 MB · 4000 x 3000" of the proxy a browser is given."""
    kind = (copy.get("mime_type") or "").split("/")[-1].upper() or None
    width, height = copy.get("width"), copy.get("height")
    parts = [
        kind,
        human_size(copy.get("size")),
        f"{width} \u00d7 {height}" if width and height else None,
    ]
    return " · ".join(p for p in parts if p)


# Which clock placed the asset on the timeline (domain/timeline.py), as a person says it.
TIMELINE_SOURCES = {
    "exif": "from EXIF",
    "xmp": "from XMP",
    "iptc": "from IPTC",
    "quicktime": "from QuickTime",
    "document": "from the document",
    "filename": "from the file name",
    "folder": "from the folder name",
    "mtime": "file modified",
}


def _timeline(asset: dict[str, Any]) -> Row | None:
    source = asset.get("timeline_source")
    if source == "none":
        return Row(
            "Timeline", "Undated (no capture time, no date in its name, no usable file time)"
        )
    said = TIMELINE_SOURCES.get(source or "")
    return _moment(
        "Timeline", asset.get("timeline_at"), clock=True, note=f"({said})" if said else None
    )


def _folder(path: str | None) -> str | None:
    if not path or "/" not in path:
        return None
    return path.rsplit("/", 1)[0]


def _status(asset: dict[str, Any]) -> str | None:
    status = asset.get("status")
    if asset.get("error_message"):
        return f"{status}: {asset['error_message']}"
    return status


def metadata_tree(values: Any) -> None:
    """A namespace as an expandable tree of "key: value" labels (never raw JSON, never HTML)."""
    counter = iter(range(1_000_000))
    nodes = tree_nodes(values, counter=counter)
    if not nodes:
        ui.label("Nothing recorded.").classes("text-grey-7")
        return
    tree = ui.tree(nodes, node_key="id", label_key="label").props("dense no-transition")
    tree.classes("trove-tree w-full")
    if sum(1 for _ in _walk(nodes)) <= 200:
        tree.expand()


def tree_nodes(values: Any, *, counter: Any, depth: int = 0) -> list[dict[str, Any]]:
    """Dicts and lists become branches; `Group:Tag` keys (ExifTool) are grouped by prefix."""
    if isinstance(values, dict):
        items = list(_grouped(values).items())
    elif isinstance(values, list):
        items = [(f"[{i}]", v) for i, v in enumerate(values)]
    else:
        return [{"id": str(next(counter)), "label": _short(values)}]
    nodes: list[dict[str, Any]] = []
    for key, value in items[:MAX_NODES]:
        node: dict[str, Any] = {"id": str(next(counter))}
        if isinstance(value, dict | list) and value and not _is_short_list(value):
            node["label"] = str(key)
            node["children"] = tree_nodes(value, counter=counter, depth=depth + 1)
        else:
            node["label"] = f"{key}: {_short(value)}"
        nodes.append(node)
    return nodes


def _grouped(values: dict[str, Any]) -> dict[str, Any]:
    if not values or not all(isinstance(k, str) and ":" in k for k in values):
        return values
    groups: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        group, _, tag = key.partition(":")
        groups.setdefault(group, {})[tag] = value
    return groups if len(groups) > 1 else next(iter(groups.values()))


def _is_short_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) <= 8
        and all(isinstance(v, str | int | float | bool) or v is None for v in value)
    )


def _short(value: Any) -> str:
    if isinstance(value, list):
        text = ", ".join(_short(v) for v in value)
    elif value is None:
        text = "—"
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def _walk(nodes: list[dict[str, Any]]) -> Any:
    for node in nodes:
        yield node
        yield from _walk(node.get("children", []))
