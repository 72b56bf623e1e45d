"""Duplicates: files with the same SHA-256, each group with its preview and every path it lives
at (the grouping is IntegrityService.duplicates). Compare puts the copies side by side (size,
dates, folder, resolution, integrity); "Prefer this copy" picks the one the gallery shows, the
others stacked under it. No file is ever deleted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nicegui import ui

from trove.domain.serialize import original_preview_url
from trove.services.errors import Invalid, NotFound
from trove.ui.context import call, current_viewer, services
from trove.ui.format import human_size, human_time
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
        self.compare = CompareDialog(on_preferred=self._preferred)
        self.cards: dict[str, DuplicateCard] = {}
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
                self.cards[group["hash"]] = DuplicateCard(group, on_compare=self.compare.open)
        self.cursor = page.get("next_cursor")
        self.more.set_visibility(bool(self.cursor))

    def _preferred(self, content_hash: str, asset_id: str) -> None:
        card = self.cards.get(content_hash)
        if card is not None:
            card.mark_preferred(asset_id)


def summary_text(totals: dict[str, Any]) -> str:
    groups = totals.get("groups")
    wasted = human_size(totals.get("wasted_bytes"))
    if groups is None:
        return "Files with identical content"
    return f"{groups:,} group(s) of identical files" + (
        f" · {wasted} could be freed" if wasted else ""
    )


def _full_path(copy: dict[str, Any]) -> str:
    root = (copy.get("root_path") or "").rstrip("/")
    return f"{root}/{copy.get('path')}" if root else str(copy.get("path"))


class DuplicateCard:
    """One group: its preview (the copies share it: it is made from the content), how much
    space it takes, and each path, the one the gallery shows marked."""

    def __init__(self, group: dict[str, Any], *, on_compare: Any) -> None:
        self.group = group
        copies = group.get("assets") or []
        shown = group.get("preferred_id") or (copies[0]["id"] if copies else None)
        with (
            ui.card()
            .classes("w-full trove-dup-card")
            .props(f"flat bordered data-hash={group['hash']}")
        ):
            with ui.row().classes("items-center gap-3 no-wrap w-full"):
                if shown:
                    # The original's preview, what the copies share, under their content hash.
                    preview = original_preview_url(shown, "small", content_hash=group["hash"])
                    ui.image(preview).props("no-transition fit=cover").classes("trove-dup-thumb")
                with ui.column().classes("gap-0 min-w-0"):
                    size = human_size(group.get("size")) or "?"
                    ui.label(f"{len(copies)} copies · {size} each").classes("text-weight-medium")
                    ui.label(f"SHA-256 {str(group.get('hash'))[:16]}…").classes(
                        "text-caption text-grey-7"
                    )
                ui.space()
                ui.button(
                    "Compare", icon="compare", on_click=lambda: on_compare(group["hash"])
                ).props("flat dense no-caps color=primary").classes("trove-dup-compare")
            self.paths = ui.column().classes("gap-1 w-full")
        self._paths(shown)

    def _paths(self, shown: str | None) -> None:
        self.paths.clear()
        with self.paths:
            for copy in self.group.get("assets") or []:
                with ui.row().classes("items-center gap-2 no-wrap trove-dup-path"):
                    preferred = copy.get("id") == shown
                    ui.icon("star" if preferred else "description", size="18px").props(
                        f"color={'primary' if preferred else 'grey-6'}"
                    )
                    if copy.get("id"):
                        ui.link(_full_path(copy), f"/?asset={copy['id']}")
                    else:
                        ui.label(_full_path(copy))
                    if preferred:
                        ui.badge("shown in the gallery", color="primary").props("outline")

    def mark_preferred(self, asset_id: str) -> None:
        self.group["preferred_id"] = asset_id
        self._paths(asset_id)


class CompareDialog:
    """The copies of one file side by side; the one preferred is what the gallery shows."""

    def __init__(self, *, on_preferred: Any) -> None:
        self.on_preferred = on_preferred
        self.hash = ""
        self.dialog = ui.dialog().props("maximized-on-mobile")
        with self.dialog, ui.card().classes("trove-compare"):
            with ui.row().classes("items-center w-full no-wrap"):
                ui.label("Compare copies").classes("text-h6")
                ui.space()
                ui.button(icon="close", on_click=self.dialog.close).props(
                    "flat round dense aria-label=Close"
                )
            ui.label(
                "Same content (SHA-256), different places. Prefer the copy the gallery should "
                "show: the others are stacked under it. No file is deleted."
            ).classes("text-caption text-grey-7")
            self.columns = ui.element("div").classes("trove-compare-columns w-full")

    async def open(self, content_hash: str) -> None:
        self.hash = content_hash
        copies = await call(services().stacks.compare, content_hash, viewer=current_viewer())
        self._fill(copies)
        self.dialog.open()

    def _fill(self, copies: list[dict[str, Any]]) -> None:
        self.columns.clear()
        preferred = next((c["id"] for c in copies if c.get("preferred")), None)
        shown = preferred or (copies[0]["id"] if copies else None)
        with self.columns:
            for copy in copies:
                self._column(copy, shown=copy["id"] == shown)

    def _column(self, copy: dict[str, Any], *, shown: bool) -> None:
        with (
            ui.card()
            .props(f"flat bordered data-id={copy['id']}")
            .classes("trove-compare-copy" + (" trove-compare-shown" if shown else ""))
        ):
            medium = (copy.get("thumbnails") or {}).get("medium")
            if medium:
                ui.image(medium).props("no-transition fit=contain ratio=1.333").classes(
                    "trove-compare-preview"
                )
            rows = [
                ("Name", copy.get("filename")),
                ("Folder", _folder(copy)),
                ("Size", human_size(copy.get("size"))),
                ("Resolution", _resolution(copy)),
                ("Taken", human_time(copy.get("captured_at"))),
                ("Modified", _modified(copy)),
                ("Indexed", human_time(copy.get("created_at"))),
                ("Integrity", _integrity(copy)),
            ]
            with ui.element("dl").classes("trove-compare-facts"):
                for label, value in rows:
                    _fact(label, value)
            if shown:
                ui.badge("Shown in the gallery", color="primary").classes("self-start")
            else:
                ui.button(
                    "Prefer this copy",
                    icon="star",
                    on_click=lambda: self._prefer(copy["id"]),
                ).props("unelevated dense no-caps color=primary").classes("trove-prefer")

    async def _prefer(self, asset_id: str) -> None:
        try:
            await call(services().stacks.prefer, self.hash, asset_id, viewer=current_viewer())
        except (Invalid, NotFound) as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify("The gallery now shows this copy; the others are stacked under it")
        self.on_preferred(self.hash, asset_id)
        copies = await call(services().stacks.compare, self.hash, viewer=current_viewer())
        self._fill(copies)


def _fact(label: str, value: Any) -> None:
    with ui.element("dt"):
        ui.label(label)
    with ui.element("dd"):
        ui.label(str(value) if value not in (None, "") else "—")


def _folder(copy: dict[str, Any]) -> str:
    """The folder the copy is in, whole (its URN holds the absolute path), else within its
    library."""
    urn = str(copy.get("storage_urn") or "")
    where = urn.removeprefix("fs://local") if urn.startswith("fs://local/") else copy.get("path")
    folder = str(where or "").rpartition("/")[0]
    return folder or "(library root)"


def _resolution(copy: dict[str, Any]) -> str | None:
    if copy.get("width") and copy.get("height"):
        return f"{copy['width']} x {copy['height']}"
    return None


def _modified(copy: dict[str, Any]) -> str | None:
    mtime_ns = copy.get("mtime_ns")
    if not mtime_ns:
        return None
    return datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC).strftime("%-d %b %Y, %H:%M")


def _integrity(copy: dict[str, Any]) -> str:
    if copy.get("corrupted"):
        return "Corrupted: its bytes changed since indexing"
    if copy.get("status") == "missing":
        return "Missing on disk"
    return "OK"


async def duplicates_page() -> None:
    await DuplicatesPage().build()
