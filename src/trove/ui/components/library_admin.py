"""Library management on the Libraries page (admins): a folder picker over the server's folders
below TROVE_ALLOWED_ROOTS, a library's settings (globs, uploads, members) and its removal,
whose confirmation says what the index forgets (and that no file is touched)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from nicegui import ui
from nicegui.events import ClickEventArguments

from trove.domain.access import Viewer
from trove.services.errors import Forbidden, Invalid, NotFound
from trove.ui.context import call, current_viewer, services

_REFUSED = (Forbidden, Invalid, NotFound)
T = TypeVar("T")


async def as_admin(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """An admin's action on a library, run only while the viewer is still an admin. The
    buttons are drawn for admins only, but a page outlives its viewer's demotion or
    disabling: so each call checks the session now, as the API's AdminDep checks each
    request."""
    admin_only(current_viewer(fresh=True))
    return await call(function, *args, **kwargs)


def admin_only(viewer: Viewer) -> None:
    """Libraries are added, changed and removed by admins, here as through the API."""
    if not viewer.is_admin:
        raise Forbidden("Only an admin may do this.")


def one_at_a_time(
    action: Callable[[], Awaitable[Any]],
) -> Callable[[ClickEventArguments], Awaitable[None]]:
    """A button's click handler running `action` with the button disabled until it is done.
    A double-click otherwise adds, relocates or removes a library twice at once (two
    notifications, two rescans), and a slow relocation's sample check gave no sign it had
    started. A click sent before the button was disabled is dropped here."""

    async def clicked(event: ClickEventArguments) -> None:
        button = cast(ui.button, event.sender)
        if not button.enabled:
            return
        button.disable()
        try:
            await action()
        finally:
            button.enable()

    return clicked


class FolderPicker:
    """A dialog walking the server's folders; `on_choose` gets the chosen folder's path."""

    def __init__(self, *, on_choose: Callable[[str], Any]) -> None:
        self.on_choose = on_choose
        self.path: str | None = None
        with ui.dialog() as self.dialog, ui.card().classes("trove-folder-picker"):
            ui.label("Choose a folder").classes("text-h6")
            self.where = ui.label().classes("trove-root-path")
            self.listing = ui.column().classes("w-full gap-0 trove-folder-list")
            with ui.row().classes("w-full"):
                ui.space()
                ui.button("Cancel", on_click=self.dialog.close).props("flat no-caps")
                self.choose = ui.button("Choose this folder", on_click=self._chosen).props(
                    "unelevated no-caps color=primary"
                )

    async def open(self) -> None:
        if await self._show(None):
            self.dialog.open()

    async def _show(self, path: str | None) -> bool:
        try:
            listing = await as_admin(services().library_admin.browse, path)
        except _REFUSED as exc:
            ui.notify(str(exc), type="negative")
            return False
        self.path = listing["path"]
        self.where.set_text(self.path or "Folders Trove may index")
        self.choose.set_enabled(self.path is not None)
        self.listing.clear()
        with self.listing:
            if listing["parent"]:
                self._entry("..", listing["parent"], icon="arrow_upward")
            for folder in listing["folders"]:
                self._entry(folder["name"], folder["path"], icon="folder")
            if not listing["folders"]:
                ui.label("No folders here").classes("text-grey-7")
        return True

    def _entry(self, name: str, path: str, *, icon: str) -> None:
        ui.button(name, icon=icon, on_click=lambda: self._show(path)).props(
            "flat no-caps align=left"
        ).classes("w-full trove-folder-entry")

    def _chosen(self) -> None:
        if self.path:
            self.dialog.close()
            self.on_choose(self.path)


async def confirm_removal(
    root: dict[str, Any], *, on_removed: Callable[[], Awaitable[Any]]
) -> None:
    """Ask, saying what is forgotten; then forget the library."""
    try:
        forgotten = await as_admin(services().library_admin.removal_preview, root["id"])
    except _REFUSED as exc:
        ui.notify(str(exc), type="negative")
        return
    with ui.dialog() as dialog, ui.card().classes("trove-remove-root"):
        ui.label(f"Remove {root['name']} from Trove?").classes("text-h6")
        ui.label(
            f"The index forgets {forgotten['files']:,} file(s) and {forgotten['folders']:,}"
            f" folder(s), {forgotten['tags']:,} tag(s) set on them and"
            f" {forgotten['album_memberships']:,} place(s) in albums."
        ).classes("trove-removal-counts")
        ui.label(f"Nothing in {root['path']} is deleted or changed.").classes("text-grey-8")

        async def remove() -> None:
            dialog.close()
            try:
                await as_admin(services().remove_library, root["id"])
            except _REFUSED as exc:
                ui.notify(str(exc), type="negative")
                return
            ui.notify(f"{root['name']} removed from the index", type="positive")
            await on_removed()

        with ui.row().classes("w-full"):
            ui.space()
            ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
            ui.button("Remove from index", on_click=one_at_a_time(remove)).props(
                "unelevated no-caps color=negative"
            )
    dialog.open()


async def open_relocation(
    root: dict[str, Any], *, relocate: Callable[[str], Awaitable[bool]]
) -> None:
    """Ask where the library's folder is now; `relocate(new_path)` checks a sample of its
    files there and moves it (True when done: the dialog closes)."""
    with ui.dialog() as dialog, ui.card().classes("trove-relocate-root"):
        ui.label(f"Relocate {root['name']}").classes("text-h6")
        ui.label(
            f"Its folder was at {root['path']}. Where is it now? A sample of its files is"
            " compared there first; ids, tags, albums and previews are kept."
        ).classes("text-grey-8")
        where = (
            ui.input(placeholder="/new/path/to/the/folder")
            .props("dense outlined aria-label='New folder of the library'")
            .classes("w-full trove-relocate-path")
        )

        async def go() -> None:
            path = (where.value or "").strip()
            if not path:
                ui.notify("Type the folder where the library is now", type="warning")
            elif await relocate(path):
                dialog.close()

        with ui.row().classes("w-full"):
            ui.space()
            ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
            button = ui.button("Relocate", icon="drive_file_move", on_click=one_at_a_time(go))
            button.props("unelevated no-caps color=primary").classes("trove-relocate-button")
        # Enter clicks the button: disabled while a relocation runs, like a second click.
        where.on("keydown.enter", lambda: button.run_method("click"))
    dialog.open()


def relocation_banner(
    offer: dict[str, Any],
    *,
    on_relocate: Callable[[], Awaitable[Any]],
    on_as_new: Callable[[], Awaitable[Any]],
    on_dismiss: Callable[[], Any],
) -> None:
    """A folder being added holds a library whose folder is gone: relocate it, or not."""
    with ui.card().classes("w-full trove-relocation-offer").props("flat bordered"):
        with ui.row().classes("items-center no-wrap w-full gap-2"):
            ui.icon("drive_file_move", size="28px", color="warning")
            ui.label(
                f"{offer['new_path']} holds the files of library {offer['name']} (its folder"
                f" was at {offer['old_path']}; {offer['matched']} of {offer['sampled']} sampled"
                " files match). Relocate the library here to keep its tags, albums and ids?"
            ).classes("flex-1")
        with ui.row().classes("w-full"):
            ui.space()
            ui.button("Dismiss", on_click=on_dismiss).props("flat no-caps")
            ui.button("Add as a new library", on_click=one_at_a_time(on_as_new)).props(
                "flat no-caps"
            )
            ui.button(f"Relocate {offer['name']} here", on_click=one_at_a_time(on_relocate)).props(
                "unelevated no-caps color=primary"
            ).classes("trove-accept-relocation")


async def open_settings(root: dict[str, Any], *, on_saved: Callable[[], Awaitable[Any]]) -> None:
    """Globs, whether members may upload into it, and who it is assigned to."""
    admin = services().library_admin
    try:
        members, users = await as_admin(admin.members, root["id"]), await as_admin(admin.users)
    except _REFUSED as exc:
        ui.notify(str(exc), type="negative")
        return
    with ui.dialog() as dialog, ui.card().classes("trove-root-settings"):
        ui.label(f"{root['name']}: settings").classes("text-h6")
        include = ui.textarea(
            "Only index (one pattern per line, e.g. *.jpg)",
            value="\n".join(root.get("include_globs", [])),
        ).classes("w-full trove-include-globs")
        exclude = ui.textarea(
            "Skip (one pattern per line, e.g. cache/ or *.tmp)",
            value="\n".join(root.get("exclude_globs", [])),
        ).classes("w-full trove-exclude-globs")
        uploads = ui.switch("Members with write access may upload here").props("dense")
        uploads.value = bool(root.get("is_upload_target"))
        ui.label("Members").classes("text-subtitle1")
        rows = ui.column().classes("w-full gap-1 trove-members")
        names = {u["id"]: u["name"] for u in users}

        def draw(current: list[dict[str, Any]]) -> None:
            rows.clear()
            with rows:
                for member in current:
                    with ui.row().classes("w-full items-center no-wrap"):
                        ui.label(member["name"]).classes("flex-1")
                        ui.switch(
                            "may edit",
                            value=member["can_write"],
                            on_change=lambda e, m=member: assign(m["user_id"], e.value),
                        ).props("dense").tooltip(
                            "Change its files' titles, tags, edits and Trash, and upload here"
                        )
                        ui.button(
                            icon="person_remove", on_click=lambda m=member: unassign(m["user_id"])
                        ).props("flat round dense")
                if not current:
                    ui.label("Only admins see this library.").classes("text-grey-7")

        async def assign(user_id: str, can_write: bool) -> None:
            try:
                draw(await as_admin(admin.set_member, root["id"], user_id, can_write=can_write))
            except _REFUSED as exc:
                ui.notify(str(exc), type="negative")

        async def unassign(user_id: str) -> None:
            try:
                draw(await as_admin(admin.remove_member, root["id"], user_id))
            except _REFUSED as exc:
                ui.notify(str(exc), type="negative")

        draw(members)
        add = ui.select(names, label="Assign to…").props("dense outlined").classes("w-full")
        add.on_value_change(lambda e: assign(e.value, False) if e.value else None)

        async def save() -> None:
            try:
                await as_admin(
                    services().update_library,
                    root["id"],
                    include_globs=_lines(include.value),
                    exclude_globs=_lines(exclude.value),
                    is_upload_target=bool(uploads.value),
                )
            except _REFUSED as exc:
                ui.notify(str(exc), type="negative")
                return
            dialog.close()
            ui.notify("Saved; new patterns apply from the next scan", type="positive")
            await on_saved()

        with ui.row().classes("w-full"):
            ui.space()
            ui.button("Close", on_click=dialog.close).props("flat no-caps")
            ui.button("Save", on_click=save).props("unelevated no-caps color=primary")
    dialog.open()


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
