"""Signing in and out, the one-time set-up of the first admin, the user's API tokens, and the
admins' user list.

The session cookie is HttpOnly, so it is set and cleared by real HTTP responses: the forms
here post JSON to /api/dam/auth/... from the browser (`troveAuthPost` in trove.js) and then
navigate, rather than going through the page's websocket.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import ui

from trove.api.authentication import is_local_request
from trove.domain.access import Role, TokenScope
from trove.services.errors import Conflict, Invalid, NotFound
from trove.ui.context import call, current_viewer, services
from trove.ui.format import human_time
from trove.ui.layout import frame, plain_frame

LOGIN_API = "/api/dam/auth/login"
SETUP_API = "/api/dam/auth/setup"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never `//other.example`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def login_page(request: Request, next: str | None = None) -> RedirectResponse | None:
    target = safe_next(next)
    settings = services().settings
    viewer = current_viewer()
    if viewer.is_signed_in and settings.auth:
        return RedirectResponse(target, status_code=303)
    needs_setup = settings.auth and await call(services().users.needs_setup)
    if needs_setup and is_local_request(request):
        return RedirectResponse("/setup", status_code=303)
    with plain_frame(title="Sign in"):
        if not settings.auth:
            ui.label("This Trove runs without sign-in (TROVE_AUTH=off), on this machine only.")
            ui.link("Open Trove", "/")
            return None
        if needs_setup:
            ui.label("No one can sign in yet. On the server, create the first admin with")
            ui.code("trove users add NAME --admin", language="bash")
            return None
        _credentials_form(button="Sign in", api=LOGIN_API, target=target)
    return None


async def setup_page(request: Request) -> RedirectResponse | None:
    """Create the first admin: only while no one can sign in, only from this machine."""
    if not services().settings.auth or not await call(services().users.needs_setup):
        return RedirectResponse("/login", status_code=303)
    with plain_frame(title="Set up Trove"):
        if not is_local_request(request):
            ui.label("The first admin can be created only from the server itself, or with")
            ui.code("trove users add NAME --admin", language="bash")
            return None
        ui.label(
            "Create the first admin. Everything indexed so far, and every library added from"
            " the command line, will belong to this account."
        ).classes("text-grey-8")
        _credentials_form(button="Create admin", api=SETUP_API, target="/", new_password=True)
    return None


def _credentials_form(*, button: str, api: str, target: str, new_password: bool = False) -> None:
    name = ui.input("User name").props("outlined autofocus autocomplete=username")
    name.classes("w-full trove-login-name")
    password = ui.input("Password", password=True, password_toggle_button=True)
    password.props(
        f"outlined autocomplete={'new-password' if new_password else 'current-password'}"
    ).classes("w-full trove-login-password")
    message = ui.label().classes("text-negative trove-login-error")

    async def submit() -> None:
        body = {"username": (name.value or "").strip(), "password": password.value or ""}
        result = await ui.run_javascript(
            f"return await troveAuthPost({json.dumps(api)}, {json.dumps(body)})", timeout=30
        )
        if result and result.get("status") in (200, 201):
            ui.navigate.to(target)
            return
        message.text = (result or {}).get("detail") or "Signing in failed; try again."
        password.value = ""

    password.on("keydown.enter", submit)
    ui.button(button, on_click=submit).props("unelevated no-caps color=primary").classes(
        "w-full trove-login-submit"
    )


# --- API tokens --------------------------------------------------------------------------------


async def tokens_page() -> None:
    viewer = current_viewer()
    with frame(active="/tokens", title="API tokens"):
        pass
    page = TokensPage(viewer_name=viewer.name)
    await page.build()


class TokensPage:
    def __init__(self, *, viewer_name: str | None) -> None:
        self.viewer_name = viewer_name
        self.viewer = current_viewer()

    async def build(self) -> None:
        with ui.column().classes("trove-page w-full gap-4"):
            ui.label("API tokens").classes("text-h5 trove-page-title")
            ui.label(
                "Scripts send a token as `Authorization: Bearer <token>`. A read token can only"
                " read; a write token can do what you can. The token is shown once."
            ).classes("text-grey-8")
            if not services().settings.auth:
                ui.label("Trove runs without sign-in (TROVE_AUTH=off): tokens are not needed.")
                return
            with ui.row().classes("items-center gap-2"):
                self.label = ui.input("Name (what uses it)").props("dense outlined")
                self.scope = ui.select(
                    {TokenScope.READ: "read", TokenScope.WRITE: "read and write"},
                    value=TokenScope.READ,
                ).props("dense outlined")
                ui.button("Create token", icon="key", on_click=self.create).props(
                    "unelevated no-caps color=primary"
                ).classes("trove-token-create")
            self.created = ui.column().classes("w-full")
            self.table = ui.column().classes("w-full gap-1")
        await self.refresh()

    async def create(self) -> None:
        if self.viewer_name is None:
            return
        secret, _record = await call(
            services().users.create_token,
            self.viewer_name,
            scope=TokenScope(self.scope.value),
            name=self.label.value or "",
        )
        self.created.clear()
        with self.created, ui.card().classes("w-full trove-token-new"):
            ui.label("Copy it now: it will not be shown again.").classes("text-weight-medium")
            ui.code(secret).classes("w-full trove-token-secret")
        self.label.value = ""
        await self.refresh()

    async def revoke(self, token_id: str) -> None:
        try:
            await call(services().users.revoke_token, token_id, viewer=self.viewer)
        except NotFound as exc:
            ui.notify(str(exc), type="warning")
        await self.refresh()

    async def refresh(self) -> None:
        tokens: list[dict[str, Any]] = await call(services().users.list_tokens, viewer=self.viewer)
        self.table.clear()
        with self.table:
            if not tokens:
                ui.label("No tokens yet.").classes("text-grey-7")
            for token in tokens:
                self._row(token)

    def _row(self, token: dict[str, Any]) -> None:
        with ui.row().classes("items-center gap-3 w-full trove-token-row"):
            ui.icon("key_off" if token["revoked"] else "key").classes("text-grey-7")
            ui.label(token["name"]).classes("text-weight-medium")
            ui.label(token["scope"]).classes("text-grey-8")
            ui.label(f"created {human_time(str(token['created_at']))}").classes("text-grey-7")
            used = token["last_used_at"]
            ui.label(f"last used {human_time(str(used))}" if used else "never used").classes(
                "text-grey-7"
            )
            ui.space()
            if token["revoked"]:
                ui.label("revoked").classes("text-grey-7")
            else:
                ui.button("Revoke", on_click=lambda t=token["id"]: self.revoke(t)).props(
                    "flat no-caps color=negative"
                )


# --- users (admins) ----------------------------------------------------------------------------


async def users_page() -> None:
    with frame(active="/users", title="Users"):
        pass
    await UsersPage().build()


class UsersPage:
    """An admin adds household members, disables them and sets new passwords; the same
    service calls as `trove users ...`."""

    def __init__(self) -> None:
        self.viewer = current_viewer()

    async def build(self) -> None:
        with ui.column().classes("trove-page w-full gap-4"):
            ui.label("Users").classes("text-h5 trove-page-title")
            with ui.row().classes("items-center gap-2"):
                self.name = ui.input("User name").props("dense outlined").classes("trove-user-name")
                self.password = (
                    ui.input("Password", password=True)
                    .props("dense outlined autocomplete=new-password")
                    .classes("trove-user-password")
                )
                self.admin = ui.checkbox("Admin")
                ui.button("Add user", icon="person_add", on_click=self.add).props(
                    "unelevated no-caps color=primary"
                ).classes("trove-user-add")
            self.table = ui.column().classes("w-full gap-1")
            self.dialogs = ui.element("div")
        await self.refresh()

    def _allowed(self) -> bool:
        return current_viewer().is_admin

    async def add(self) -> None:
        if not self._allowed():
            return
        try:
            user = await call(
                services().users.add_user,
                (self.name.value or "").strip(),
                self.password.value or "",
                admin=bool(self.admin.value),
            )
        except (Invalid, Conflict) as exc:
            ui.notify(str(exc), type="negative")
            return
        self.name.value, self.password.value, self.admin.value = "", "", False
        ui.notify(f"Added {user['role']} {user['name']}", type="positive")
        await self.refresh()

    async def set_disabled(self, name: str, *, disabled: bool) -> None:
        if self._allowed():
            await call(services().users.set_disabled, name, disabled=disabled)
            await self.refresh()

    def new_password(self, name: str) -> None:
        self.dialogs.clear()
        with self.dialogs, ui.dialog() as dialog, ui.card().classes("trove-new-password"):
            ui.label(f"New password for {name}").classes("text-h6")
            password = ui.input("Password", password=True).props("outlined")

            async def save() -> None:
                if not self._allowed():
                    return
                try:
                    await call(services().users.set_password, name, password.value or "")
                except Invalid as exc:
                    ui.notify(str(exc), type="negative")
                    return
                dialog.close()
                ui.notify(f"Password changed; {name} is signed out everywhere", type="positive")

            with ui.row().classes("w-full"):
                ui.space()
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Save", on_click=save).props("unelevated no-caps color=primary")
        dialog.open()

    async def refresh(self) -> None:
        users: list[dict[str, Any]] = await call(services().users.list_users)
        self.table.clear()
        with self.table:
            for user in users:
                self._row(user)

    def _row(self, user: dict[str, Any]) -> None:
        name = user["name"]
        with ui.row().classes("items-center gap-3 w-full trove-user-row"):
            ui.icon("admin_panel_settings" if user["role"] == Role.ADMIN else "person").classes(
                "text-grey-7"
            )
            ui.label(name).classes("text-weight-medium")
            ui.label(str(user["role"])).classes("text-grey-8")
            if user["disabled"]:
                ui.label("disabled").classes("text-negative")
            ui.space()
            ui.button("New password", on_click=lambda: self.new_password(name)).props(
                "flat no-caps"
            )
            if user["id"] == self.viewer.user_id:
                return  # an admin does not lock themselves out
            if user["disabled"]:
                ui.button("Enable", on_click=lambda: self.set_disabled(name, disabled=False)).props(
                    "flat no-caps color=primary"
                )
            else:
                ui.button("Disable", on_click=lambda: self.set_disabled(name, disabled=True)).props(
                    "flat no-caps color=negative"
                )
