"""The Trash (/trash): deleted items the viewer may see, to restore or to forget.

What Forget means is said on the page: Trove drops its record (tags, albums, notes about it),
the file stays on disk, and a file still inside a library comes back as new on the next scan.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui

from trove.services.errors import Conflict, Forbidden, NotFound
from trove.ui.context import call, current_viewer, services
from trove.ui.format import human_size, human_time
from trove.ui.layout import frame

PAGE_SIZE = 60
FORGET_MEANS = (
    "Forget removes Trove's record of an item: its tags, albums and notes. The file itself is "
    "never deleted; if it is still inside a library, the next scan adds it back as a new item. "
    "To keep a file out of the gallery, leave it in the Trash."
)


class TrashPage:
    def __init__(self) -> None:
        self.cursor: str | None = None
        self.count = 0

    async def build(self) -> None:
        with frame(active="/trash", title="Trash"):
            pass
        with ui.column().classes("trove-page w-full gap-3"):
            with ui.row().classes("items-center w-full no-wrap"):
                ui.label("Trash").classes("text-h5 trove-page-title")
                ui.space()
                self.empty_button = ui.button(
                    "Empty trash", icon="delete_forever", on_click=self.confirm_empty
                ).props("flat no-caps color=negative")
            ui.label(
                "Deleted items are hidden from the gallery, search, albums, the timeline and "
                "the map. Restore puts one back where it was, with its tags and albums."
            ).classes("text-grey-8")
            ui.label(FORGET_MEANS).classes("text-grey-8 trove-trash-forget-means")
            self.summary = ui.label().classes("text-weight-medium trove-trash-summary")
            self.items = ui.element("div").classes("trove-trash-grid w-full")
            self.more = ui.button("Show more", on_click=self.load_more).props("flat no-caps")
            self.more.set_visibility(False)
        await self.load_more()

    async def load_more(self) -> None:
        page = await call(
            services().trash.list, viewer=current_viewer(), limit=PAGE_SIZE, cursor=self.cursor
        )
        with self.items:
            for asset in page.items:
                self._card(asset)
        self.count += len(page.items)
        self.cursor = page.next_cursor
        self.more.set_visibility(bool(self.cursor))
        self._summarise()

    def _summarise(self) -> None:
        more = "+" if self.cursor else ""
        self.summary.text = (
            f"{self.count:,}{more} item(s) in the Trash" if self.count else "The Trash is empty."
        )
        self.empty_button.set_visibility(self.count > 0)

    def _card(self, asset: dict[str, Any]) -> None:
        with ui.card().props("flat bordered").classes("trove-trash-card") as card:
            card.props(f"data-id={asset['id']}")
            small = (asset.get("thumbnails") or {}).get("small")
            if small:
                ui.image(small).props("no-transition fit=cover ratio=1").classes(
                    "trove-trash-thumb"
                )
            else:
                with ui.element("div").classes("trove-trash-thumb trove-trash-nothumb"):
                    ui.icon(services().drivers.icons().get(asset["asset_type"], "draft"))
            with ui.column().classes("gap-0 q-px-sm q-pt-xs w-full"):
                ui.label(asset.get("title") or asset["filename"]).classes(
                    "text-weight-medium ellipsis w-full"
                )
                details = [asset.get("path") or "", human_size(asset.get("size")) or ""]
                ui.label(" · ".join(d for d in details if d)).classes(
                    "text-caption text-grey-7 ellipsis w-full"
                )
                taken = human_time(asset.get("timeline_at"))
                if taken:
                    ui.label(taken).classes("text-caption text-grey-7")
            with ui.row().classes("w-full no-wrap q-pa-xs gap-1"):
                ui.button("Restore", icon="restore_from_trash").props(
                    "flat dense no-caps color=primary"
                ).on_click(lambda a=asset, c=card: self.restore(a, c))
                ui.space()
                ui.button("Forget", icon="link_off").props(
                    "flat dense no-caps color=negative"
                ).on_click(lambda a=asset, c=card: self.confirm_forget(a, c)).tooltip(FORGET_MEANS)

    async def restore(self, asset: dict[str, Any], card: ui.card) -> None:
        restored = await call(services().trash.restore, [asset["id"]], viewer=current_viewer())
        if restored:  # told before the card goes: this handler runs in its button's slot
            ui.notify(f"Restored {asset['filename']}", type="positive")
            self._gone(card)

    async def confirm_forget(self, asset: dict[str, Any], card: ui.card) -> None:
        if not await _confirm(f"Forget {asset['filename']}?", "Forget"):
            return
        try:
            await call(services().trash.forget, asset["id"], viewer=current_viewer())
        except (Forbidden, NotFound, Conflict) as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify(f"Forgot {asset['filename']}; the file was not touched", type="positive")
        self._gone(card)

    async def confirm_empty(self) -> None:
        if not await _confirm("Forget everything in the Trash?", "Empty trash"):
            return
        forgotten = await call(services().trash.empty, viewer=current_viewer())
        ui.notify(f"Forgot {forgotten} item(s); no file was touched", type="positive")
        self.items.clear()
        self.cursor, self.count = None, 0
        await self.load_more()

    def _gone(self, card: ui.card) -> None:
        card.delete()
        self.count -= 1
        self._summarise()


async def _confirm(question: str, action: str) -> bool:
    with ui.dialog() as dialog, ui.card().classes("trove-trash-confirm"):
        ui.label(question).classes("text-h6")
        ui.label(FORGET_MEANS)
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            ui.button(action, on_click=lambda: dialog.submit(True)).props(
                "unelevated color=negative"
            )
    return bool(await dialog)


async def trash_page() -> None:
    await TrashPage().build()
