"""Duplicates: files with the same SHA-256, each group with every path it lives at (the
grouping is IntegrityService.duplicates)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from trove.ui.context import call, current_viewer, services
from trove.ui.format import human_size
from trove.ui.layout import frame

PAGE_SIZE = 50


def duplicate_page(cursor: str | None) -> dict[str, Any]:
    """One page of groups, most wasted space first."""
    return services().integrity.duplicates(limit=PAGE_SIZE, cursor=cursor)


class DuplicatesPage:
    async def build(self) -> None:
        with frame(active="/duplicates", title="Duplicates"):
            pass
        with ui.column().classes("trove-page w-full gap-4"):
            ui.label("Duplicates").classes("text-h5 trove-page-title")
            self.summary = ui.label().classes("text-grey-8")
            self.groups = ui.column().classes("w-full gap-3")
            self.more = ui.button("Show more", on_click=self.load_more).props("flat no-caps")
            self.more.set_visibility(False)
        self.cursor: str | None = None
        if not current_viewer().is_admin:  # as GET /api/dam/duplicates (AdminDep)
            self.summary.text = "Only an admin sees duplicates: a group spans every library."
            return
        await self.load_more()

    async def load_more(self) -> None:
        page = await call(duplicate_page, self.cursor)
        totals = page.get("totals") or {}
        self.summary.text = (
            summary_text(totals)
            if page["items"] or self.cursor
            else ("No duplicates: every file's content is unique.")
        )
        with self.groups:
            for group in page["items"]:
                duplicate_card(group)
        self.cursor = page.get("next_cursor")
        self.more.set_visibility(bool(self.cursor))


def summary_text(totals: dict[str, Any]) -> str:
    groups = totals.get("groups")
    wasted = human_size(totals.get("wasted_bytes"))
    if groups is None:
        return "Files with identical content"
    return f"{groups:,} group(s) of identical files" + (
        f" · {wasted} could be freed" if wasted else ""
    )


def duplicate_card(group: dict[str, Any]) -> None:
    copies = group.get("assets") or []
    with ui.card().classes("w-full trove-dup-card").props("flat bordered"):
        with ui.row().classes("items-center gap-3 no-wrap w-full"):
            ui.icon("content_copy", size="32px", color="primary")
            with ui.column().classes("gap-0"):
                size = human_size(group.get("size")) or "?"
                ui.label(f"{len(copies)} copies · {size} each").classes("text-weight-medium")
                ui.label(f"SHA-256 {str(group.get('hash'))[:16]}…").classes(
                    "text-caption text-grey-7"
                )
        for copy in copies:
            with ui.row().classes("items-center gap-2 no-wrap trove-dup-path"):
                ui.icon("description", size="18px", color="grey-6")
                root = (copy.get("root_path") or "").rstrip("/")
                text = f"{root}/{copy.get('path')}" if root else str(copy.get("path"))
                if copy.get("id"):
                    ui.link(text, f"/?asset={copy['id']}")
                else:
                    ui.label(text)


async def duplicates_page() -> None:
    await DuplicatesPage().build()
