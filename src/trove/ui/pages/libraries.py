"""Libraries: each root online or offline, its counts and last scan, scan and processing
progress live; add a root, start a scan."""

from __future__ import annotations

import json
from typing import Any

from nicegui import ui
from nicegui.events import GenericEventArguments

from trove.domain.access import Viewer
from trove.services.errors import Conflict, Forbidden, Invalid, NotFound, RelocationOffered
from trove.ui.components.library_admin import (
    FolderPicker,
    admin_only,
    confirm_removal,
    one_at_a_time,
    open_relocation,
    open_settings,
    relocation_banner,
)
from trove.ui.context import call, current_viewer, services
from trove.ui.format import human_time
from trove.ui.layout import frame

REFRESH_SECONDS = 2.0
# What a library card's buttons send (root_card), handled by the page, which outlives the cards.
ROOT_ACTION = "trove_root_action"


def library_overview(*, viewer: Viewer) -> dict[str, Any]:
    """Everything the page shows, read in one worker-thread call."""
    svc = services()
    status = svc.status(viewer=viewer)
    return {
        "warnings": status["warnings"],
        "roots": status["roots"],
        "steps": status["steps"],
        "by_status": status["by_status"],
        "counts": svc.assets.counts_by_root(viewer=viewer),
        "indexer": status["indexer"],  # only the viewer's libraries' scans
        "jobs": status["jobs"],
        "progress": status["progress"],
    }


def add_root(path: str, *, viewer: Viewer, as_new: bool = False) -> dict[str, Any]:
    admin_only(viewer)
    svc = services()
    return svc.library.add_requested_root(path, indexer=svc.indexer, as_new=as_new)


def relocate_root(root_id: str, new_path: str, *, viewer: Viewer) -> dict[str, Any]:
    admin_only(viewer)
    svc = services()
    return svc.library.relocate_requested(root_id, new_path, indexer=svc.indexer)


def rescan(root_id: str, *, viewer: Viewer) -> dict[str, Any]:
    admin_only(viewer)
    svc = services()
    return svc.library.request_rescan(root_id, indexer=svc.indexer)


class LibrariesPage:
    def __init__(self) -> None:
        self.overview: dict[str, Any] = {}
        self.is_admin = current_viewer().is_admin
        # The page's own slot: the banner's buttons clear the banner, and with it the slot
        # their handlers run in, which then could no longer reach this page's client.
        self._slot = ui.context.slot

    async def build(self) -> None:
        with frame(active="/libraries", title="Libraries"):
            pass
        with ui.column().classes("trove-page w-full gap-4"):
            with ui.row().classes("w-full items-center gap-2 no-wrap trove-add-root"):
                ui.label("Libraries").classes("text-h5 trove-page-title")
                ui.space()
                if self.is_admin:  # adding and rescanning are an admin's, as in the API
                    self._add_controls()
            self.banner = ui.column().classes("w-full")
            self.body = ui.column().classes("w-full gap-4")
            self.dialogs = ui.element("div")
        if self.is_admin:
            ui.on(ROOT_ACTION, self._on_root_action)
        # The first refresh runs as soon as the page is up, not before it is sent.
        ui.timer(REFRESH_SECONDS, self.refresh, immediate=True)

    def _add_controls(self) -> None:
        self.new_path = ui.input(placeholder="/path/to/a/folder").props(
            "dense outlined clearable aria-label='Folder to add'"
        )
        self.new_path.classes("trove-root-input").on("keydown.enter", self._add)
        self.picker = FolderPicker(on_choose=self._picked)
        ui.button("Browse…", icon="folder_open", on_click=self.picker.open).props(
            "flat no-caps color=primary"
        ).classes("trove-browse-folders")
        ui.button("Add library", icon="create_new_folder", on_click=one_at_a_time(self._add)).props(
            "unelevated no-caps color=primary"
        )

    async def refresh(self) -> None:
        overview = await call(library_overview, viewer=current_viewer())
        if overview is None or overview == self.overview:
            return  # unchanged: keep the DOM (and any open tooltip) as it is
        self.overview = overview
        self.body.clear()
        with self.body:
            activity_card(overview)
            with ui.element("div").classes("trove-root-grid"):
                for root in overview["roots"]:
                    root_card(
                        root,
                        counts=overview["counts"].get(root["id"], {}),
                        indexer=overview["indexer"],
                        admin=self.is_admin,
                    )
            if not overview["roots"]:
                ui.label("No library yet: add a folder above.").classes("text-grey-7")

    async def _add(self, *, as_new: bool = False) -> None:
        path = (self.new_path.value or "").strip()
        if not path or not self.is_admin:
            return
        self.banner.clear()
        try:
            root = await call(add_root, path, viewer=current_viewer(fresh=True), as_new=as_new)
        except RelocationOffered as offered:
            self._offer(offered.offer)
            return
        except (Invalid, NotFound, Forbidden, Conflict) as exc:  # Conflict: a nested folder
            ui.notify(str(exc), type="negative", multi_line=True)
            return
        self.new_path.value = ""
        ui.notify(f"Added {root['name'] if root else path}; scanning", type="positive")
        await self.refresh()

    def _offer(self, offer: dict[str, Any]) -> None:
        """The folder is a library that moved: a banner offers to relocate it instead."""

        async def accept() -> None:
            with self._slot:
                if await self._relocate(offer["id"], offer["new_path"]):
                    self.new_path.value = ""

        async def as_new() -> None:
            with self._slot:
                await self._add(as_new=True)

        with self.banner:
            relocation_banner(
                offer,
                on_relocate=accept,
                on_as_new=as_new,
                on_dismiss=self.banner.clear,
            )

    async def _relocate(self, root_id: str, new_path: str) -> bool:
        try:
            done = await call(relocate_root, root_id, new_path, viewer=current_viewer(fresh=True))
        except (Invalid, NotFound, Forbidden, Conflict) as exc:
            ui.notify(str(exc), type="negative", multi_line=True)
            return False
        self.banner.clear()
        ui.notify(f"{done['name']} now reads {done['new_path']}; rescanning", type="positive")
        await self._changed()
        return True

    def _picked(self, path: str) -> None:
        self.new_path.value = path

    async def _on_root_action(self, event: GenericEventArguments) -> None:
        """A card's button, for a library this page shows (each action checks the viewer's
        rights again in its service)."""
        action = event.args.get("action")
        shown = {root["id"]: root for root in self.overview.get("roots", [])}
        root = shown.get(event.args.get("root"))
        if root is None or action not in ("settings", "relocate", "remove", "scan"):
            return
        if action == "scan":
            await self._scan(root["id"])
        else:
            await self._manage(root, action)

    async def _manage(self, root: dict[str, Any], action: str) -> None:
        # The dialog lives outside the cards, which each refresh redraws.
        self.dialogs.clear()
        with self.dialogs:
            if action == "remove":
                await confirm_removal(root, on_removed=self._changed)
            elif action == "relocate":
                await open_relocation(root, relocate=lambda new: self._relocate(root["id"], new))
            else:
                await open_settings(root, on_saved=self._changed)

    async def _changed(self) -> None:
        self.overview = {}  # redrawn even if the counts look the same
        await self.refresh()

    async def _scan(self, root_id: str) -> None:
        if not self.is_admin:
            return
        try:
            await call(rescan, root_id, viewer=current_viewer(fresh=True))
        except NotFound as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify("Scan queued", type="info")
        await self.refresh()


def activity_card(overview: dict[str, Any]) -> None:
    """What the background indexer is doing, and how far each pipeline step has got."""
    indexer = overview["indexer"]
    with ui.card().classes("w-full trove-activity").props("flat bordered"):
        with ui.row().classes("items-center gap-2"):
            busy = bool(indexer.get("running"))
            if busy:
                ui.spinner(size="20px")
            else:
                ui.icon("check_circle", color="positive", size="20px")
            ui.label(_activity_text(indexer)).classes("text-subtitle1")
        if indexer.get("last_error"):
            ui.label(f"Last error: {indexer['last_error']}").classes("text-negative")
        for warning in overview["warnings"]:
            ui.label(warning).classes("text-negative trove-warning")
        progress = overview["progress"]
        overall_progress(progress)
        for step, counts in progress["steps"].items():
            step_progress(step, counts)


def overall_progress(progress: dict[str, Any]) -> None:
    """One bar over all files, with the ETA at the recent rate."""
    files, left = progress["files"], progress["processing"]
    with ui.row().classes("w-full items-center no-wrap gap-3 trove-overall"):
        ui.linear_progress(value=progress["fraction"], show_value=False).props(
            "rounded size=12px"
        ).classes("flex-1")
        text = f"{files - left:,} of {files:,} files processed"
        if left and progress["per_second"]:
            text += f" · {progress['per_second'] * 60:,.0f} files/min"
        if progress["eta_seconds"] is not None:
            text += f" · about {time_left(progress['eta_seconds'])} left"
        ui.label(text).classes("trove-overall-text")


def time_left(seconds: float) -> str:
    minutes = round(seconds / 60)
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02} min"


def _activity_text(indexer: dict[str, Any]) -> str:
    running = indexer.get("running")
    queued = indexer.get("queued") or []
    if not running:
        return "Idle: everything is indexed" if not queued else f"{len(queued)} job(s) queued"
    kind, _, target = running.partition(" ")
    if kind == "scan":  # a member is not told which library not theirs is scanned
        text = f"Scanning {target}" if target else "Scanning a library"
    else:
        text = "Processing new and changed files"
    return text + (f" · {len(queued)} more queued" if queued else "")


def step_progress(step: str, counts: dict[str, Any]) -> None:
    """A step's bar over the same files as the overall one (LibraryProgress)."""
    pending, failed = counts["pending"], counts["failed"]
    with ui.row().classes("w-full items-center no-wrap gap-3 trove-step"):
        ui.label(step).classes("trove-step-name")
        ui.linear_progress(value=counts["fraction"], show_value=False).props(
            "rounded size=8px"
        ).classes("flex-1")
        text = f"{pending:,} to do" if pending else "done"
        ui.label(text + (f" · {failed:,} failed" if failed else "")).classes("trove-step-count")


def root_card(
    root: dict[str, Any], *, counts: dict[str, int], indexer: dict[str, Any], admin: bool
) -> None:
    """A library's card; an admin's has buttons for its settings, relocating, removing and
    scanning it (each click a ROOT_ACTION event)."""
    online = root["status"] == "online"
    scanning = indexer.get("running") == f"scan {root['path']}"
    queued = f"scan {root['path']}" in (indexer.get("queued") or [])
    with ui.card().classes("trove-root-card").props("flat bordered") as card:
        card.props(f"data-root-id={root['id']}")
        with ui.row().classes("items-center no-wrap w-full gap-2"):
            ui.icon(
                "folder_special" if not root["is_upload_target"] else "cloud_upload",
                size="28px",
                color="primary",
            )
            ui.label(root["name"]).classes("text-h6 trove-root-name")
            ui.space()
            ui.badge(
                "online" if online else "offline", color="positive" if online else "negative"
            ).classes("trove-root-status")
        ui.label(root["path"]).classes("trove-root-path")
        if root.get("status_message"):
            ui.label(root["status_message"]).classes("text-negative")
        with ui.row().classes("gap-4 trove-root-counts"):
            total = sum(counts.values())
            _count("Files", total)
            for status in ("ready", "processing", "error", "missing"):
                if counts.get(status):
                    _count(status.title(), counts[status])
        failures(root.get("failures") or [])
        scan = root.get("last_scan") or {}
        last = human_time(root.get("last_scan_at"))
        ui.label(
            f"Last scan {last}: {scan.get('new', 0):,} new, {scan.get('changed', 0):,} changed,"
            f" {scan.get('gone', 0):,} gone"
            if last
            else "Never scanned"
        ).classes("text-grey-7 text-caption")
        with ui.row().classes("w-full items-center"):
            if scanning or queued:
                ui.spinner(size="18px")
                ui.label("Scanning…" if scanning else "Scan queued").classes("text-primary")
            ui.space()
            if admin:
                _action(root, "settings", icon="tune").props(
                    "flat round dense color=primary aria-label='Library settings'"
                ).classes("trove-root-settings-button")
                _action(root, "relocate", icon="drive_file_move").props(
                    "flat round dense color=primary aria-label='Relocate library'"
                ).classes("trove-root-relocate-button")
                _action(root, "remove", icon="delete_outline").props(
                    "flat round dense color=negative aria-label='Remove from index'"
                ).classes("trove-root-remove-button")
                _action(root, "scan", "Scan now", icon="refresh").props(
                    "flat no-caps color=primary"
                ).set_enabled(not (scanning or queued))


def _action(root: dict[str, Any], action: str, text: str = "", *, icon: str) -> ui.button:
    """A card's button, sending a ROOT_ACTION event from the browser: each refresh redraws
    the cards, and a click that reached a button as it was replaced was dropped by the
    server (the button was gone), so a click during a scan could do nothing."""
    event = json.dumps({"root": root["id"], "action": action})
    button = ui.button(text, icon=icon)
    button.on("click", js_handler=f"() => emitEvent('{ROOT_ACTION}', {event})")
    return button


def failures(reasons: list[dict[str, Any]]) -> None:
    """Why files failed, the most frequent first: file-derived text, shown as text."""
    if not reasons:
        return
    with ui.column().classes("gap-1 trove-root-failures"):
        for reason in reasons:
            with ui.row().classes("items-baseline no-wrap gap-2"):
                ui.icon("error_outline", color="negative", size="16px")
                ui.label(
                    f"{reason['count']:,} files, {reason['step']}: {reason['message']}"
                ).classes("text-negative trove-failure").tooltip(f"e.g. {reason['example']}")


def _count(label: str, value: int) -> None:
    with ui.column().classes("gap-0 items-start"):
        ui.label(f"{value:,}").classes("text-h6 trove-count-value")
        ui.label(label).classes("text-caption text-grey-7")


async def libraries_page() -> None:
    await LibrariesPage().build()
