"""The gallery's filters: what the sidebar holds, and the list API parameters they become."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nicegui import ui

from trove.domain.enums import AssetStatus
from trove.domain.filters import FILE_TYPES

# The type chips of the gallery sidebar: value, label, icon.
FILTER_TYPES = (
    ("image", "Photos", "image"),
    ("video", "Videos", "movie"),
    ("audio", "Audio", "audiotrack"),
    ("document", "Documents", "description"),
    ("other", "Other", "insert_drive_file"),
)
# No type chosen: files of every kind, not the folders that hold them nor transcode proxies.
DEFAULT_TYPES = tuple(t.value for t in FILE_TYPES)
STATUSES = tuple(s.value for s in AssetStatus)


@dataclass
class GalleryFilters:
    types: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    root_id: str | None = None
    path: str = ""
    since: str | None = None
    until: str | None = None
    text: str = ""

    def to_params(self) -> dict[str, Any]:
        """Query parameters of GET /api/dam/assets for these filters."""
        params: dict[str, Any] = {"type": list(self.types or DEFAULT_TYPES)}
        if self.statuses:
            params["status"] = list(self.statuses)
        if self.tags:
            params["tag"] = list(self.tags)
        if self.root_id:
            params["root"] = self.root_id
            if self.path.strip("/ "):
                params["path"] = self.path.strip("/ ")
        if self.since:
            params["since"] = self.since
        if self.until:
            params["until"] = self.until
        if self.text.strip():
            params["q"] = self.text.strip()
        if not (self.root_id or self.tags or self.text.strip()):
            # Copies of one file as one tile; not in a folder, a tag or a search, where the
            # copy that matches is the one to show (the one standing for it may not match).
            params["stack"] = "true"
        return params

    @property
    def active(self) -> int:
        """How many filters are set (the search box not counted)."""
        return sum(
            bool(x)
            for x in (self.types, self.statuses, self.tags, self.root_id, self.since, self.until)
        )


class FilterPanel:
    """The sidebar; calls `on_change` after every edit with the same GalleryFilters object."""

    def __init__(
        self,
        filters: GalleryFilters,
        *,
        on_change: Callable[[], Any],
    ) -> None:
        self.filters = filters
        self.on_change = on_change
        self._muted = False
        with ui.column().classes("w-full gap-4 trove-filters"):
            self._types()
            self._dates()
            self.tag_select = self._tags()
            self._folder()
            self._status()
            ui.button("Clear filters", icon="filter_alt_off", on_click=self.clear).props(
                "flat no-caps color=primary"
            )

    def _section(self, title: str) -> None:
        ui.label(title).classes("trove-filter-title")

    def _types(self) -> None:
        self._section("Type")
        self.type_chips: dict[str, ui.chip] = {}
        with ui.row().classes("gap-1"):
            for value, label, icon in FILTER_TYPES:
                chip = ui.chip(
                    label,
                    icon=icon,
                    selectable=True,
                    selected=value in self.filters.types,
                    on_selection_change=lambda e, v=value: self._toggle_type(v, e.sender.selected),
                ).props("outline color=primary")
                chip.props(f"data-type={value}")
                self.type_chips[value] = chip

    def _toggle_type(self, value: str, selected: bool) -> None:
        if self._muted:
            return
        types = [t for t in self.filters.types if t != value]
        self.filters.types = [*types, value] if selected else types
        self.on_change()

    def _dates(self) -> None:
        self._section("Date")
        with ui.column().classes("w-full gap-2"):
            self.since = ui.input("From").props("dense outlined type=date stack-label")
            self.since.classes("w-full").on_value_change(lambda e: self._set("since", e.value))
            self.until = ui.input("To").props("dense outlined type=date stack-label")
            self.until.classes("w-full").on_value_change(lambda e: self._set("until", e.value))

    def _tags(self) -> ui.select:
        self._section("Tags")
        select = ui.select(
            options=[],
            multiple=True,
            with_input=True,
            clearable=True,
            value=list(self.filters.tags),
            on_change=lambda e: self._set("tags", list(e.value or [])),
        )
        select.props("dense outlined use-chips options-dense placeholder='Any tag'")
        select.classes("w-full trove-tag-filter")
        return select

    def set_tag_options(self, tags: list[dict[str, Any]]) -> None:
        self.tag_select.set_options([t["tag"] for t in tags], value=list(self.filters.tags))

    def set_roots(self, roots: list[dict[str, Any]]) -> None:
        self.root.set_options({r["id"]: r["name"] for r in roots}, value=self.filters.root_id)

    def _folder(self) -> None:
        self._section("Folder")
        self.root = (
            ui.select(
                options={},
                clearable=True,
                value=None,  # set with the options, once the libraries are loaded
                label="Any library",
                on_change=lambda e: self._set("root_id", e.value),
            )
            .props("dense outlined options-dense")
            .classes("w-full")
        )
        self.path = ui.input("Path in library", value=self.filters.path, placeholder="2023/Trip")
        self.path.props("dense outlined debounce=400 clearable")
        self.path.classes("w-full").on_value_change(lambda e: self._set("path", e.value or ""))
        self.path.bind_enabled_from(self.root, "value", backward=bool)

    def _status(self) -> None:
        self._section("Status")
        self.status = (
            ui.select(
                options=list(STATUSES),
                multiple=True,
                clearable=True,
                value=list(self.filters.statuses),
                on_change=lambda e: self._set("statuses", list(e.value or [])),
                label="Any status",
            )
            .props("dense outlined use-chips options-dense")
            .classes("w-full")
        )

    def _set(self, name: str, value: Any) -> None:
        if self._muted or getattr(self.filters, name) == value:
            return
        setattr(self.filters, name, value or ([] if isinstance(value, list) else value))
        self.on_change()

    def clear(self) -> None:
        """Every filter back to "any" (the search text stays), then one refresh."""
        self._muted = True
        try:
            fresh = GalleryFilters(text=self.filters.text)
            for name in vars(fresh):
                setattr(self.filters, name, getattr(fresh, name))
            for chip in self.type_chips.values():
                chip.selected = False
            self.since.value = None
            self.until.value = None
            self.tag_select.value = []
            self.status.value = []
            self.root.value = None
            self.path.value = ""
        finally:
            self._muted = False
        self.on_change()
