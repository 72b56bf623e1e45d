"""The members of a stacked tile: every copy of one file the viewer sees, the preferred one
first, each opening in the lightbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from trove.services.errors import NotFound
from trove.ui.context import call, current_viewer, services
from trove.ui.format import human_size


class StackDialog:
    def __init__(self, *, on_open: Callable[[str], Any]) -> None:
        self.on_open = on_open
        self.dialog = ui.dialog()
        with self.dialog, ui.card().classes("trove-stack-dialog"):
            with ui.row().classes("items-center w-full no-wrap"):
                self.title = ui.label().classes("text-h6")
                ui.space()
                ui.button(icon="close", on_click=self.dialog.close).props(
                    "flat round dense aria-label=Close"
                )
            ui.label(
                "The same file in several places. The gallery shows one of them; choose which "
                "on the Duplicates page. No copy is ever deleted."
            ).classes("text-caption text-grey-7")
            self.members = ui.column().classes("w-full gap-2")

    async def open(self, asset_id: str) -> None:
        try:
            members = await call(services().stacks.members, asset_id, viewer=current_viewer())
        except NotFound as exc:
            ui.notify(str(exc), type="negative")
            return
        self.title.text = f"{len(members)} copies"
        self.members.clear()
        with self.members:
            for member in members:
                self._member(member)
        self.dialog.open()

    def _member(self, member: dict[str, Any]) -> None:
        with (
            ui.row()
            .classes("items-center no-wrap w-full gap-3 trove-stack-member cursor-pointer")
            .on("click", lambda m=member: self._open(m["id"]))
        ):
            small = (member.get("thumbnails") or {}).get("small")
            if small:
                ui.image(small).props("no-transition fit=cover ratio=1").classes(
                    "trove-stack-thumb"
                )
            with ui.column().classes("gap-0 min-w-0"):
                ui.label(member.get("path") or member["filename"]).classes("ellipsis")
                ui.label(human_size(member.get("size")) or "").classes("text-caption text-grey-7")
            ui.space()
            if member.get("preferred"):
                ui.badge("shown", color="primary").props("outline")

    def _open(self, asset_id: str) -> None:
        self.dialog.close()
        self.on_open(asset_id)
