"""Notes about an asset in its inspector: the log entries linked `related_to` it (newest
first), and a box to write one (POST /api/dam/assets/virtual's `log_entry`, through the same
service call). A note's text is shown as a label, never as HTML."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from trove.domain.enums import AssetType, Relation
from trove.services.errors import Invalid, NotFound
from trove.ui.components.local_time import LocalTime
from trove.ui.context import call, current_viewer, services

MAX_NOTES = 50


class NotesPanel:
    def __init__(self, asset_id: str, *, on_open: Callable[[str], Any]) -> None:
        self.asset_id = asset_id
        self.on_open = on_open
        with ui.column().classes("w-full gap-1 q-mt-md trove-notes"):
            ui.label("Notes").classes("text-subtitle2")
            self.list = ui.column().classes("w-full gap-1")
            self.text = ui.textarea(placeholder="Write a note…").props("dense outlined autogrow")
            self.text.classes("w-full trove-note-input")
            ui.button("Add note", icon="sticky_note_2", on_click=self.add).props("flat dense")
        ui.timer(0.01, self.load, once=True)

    async def load(self) -> None:
        try:
            page = await call(
                services().links.get_neighbors,
                self.asset_id,
                Relation.RELATED_TO,
                limit=MAX_NOTES,
                viewer=current_viewer(),
            )
        except NotFound:
            return
        if page is None:
            return
        notes = [
            item["node"]["asset"]
            for item in page["items"]
            if (item["node"].get("asset") or {}).get("asset_type") == AssetType.LOG_ENTRY
        ]
        notes.sort(key=lambda n: n.get("timeline_at") or "", reverse=True)
        self.list.clear()
        with self.list:
            for note in notes:
                self._note(note)

    def _note(self, note: dict[str, Any]) -> None:
        with ui.row().classes("w-full items-baseline no-wrap gap-2 trove-note"):
            if note.get("timeline_at"):
                LocalTime(note["timeline_at"]).classes("text-grey-7 text-caption")
            link = ui.link(note.get("title") or note.get("filename") or "", "#")
            link.on("click.prevent", lambda _e, i=note["id"]: self.on_open(i))

    async def add(self) -> None:
        text = (self.text.value or "").strip()
        if not text:
            return
        data = {"text": text, "related_to": [self.asset_id]}
        try:
            await call(services().ingest_virtual, "log_entry", data, viewer=current_viewer())
        except Invalid as exc:
            ui.notify(str(exc), type="negative")
            return
        self.text.value = ""
        await self.load()
