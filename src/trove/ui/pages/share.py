"""The page a share link opens (/s/{token}), for anyone holding the link: the shared asset or
album as a gallery, a lightbox, a download button when the share allows it, and nothing else
(no header, no navigation, no search). Everything it reads goes through ShareService as the
share's holder, so it can show no more than the share's API does.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from nicegui import ui

from trove.domain.access import Viewer
from trove.services.errors import Gone, NotFound, Unauthorized
from trove.services.shares import cookie_name
from trove.ui.context import call, services
from trove.ui.static_files import STATIC_URL

PAGE_SIZE = 60


async def share_page(token: str, request: Request) -> None:
    ui.add_head_html(f'<link rel="stylesheet" href="{STATIC_URL}/trove.css">')
    ui.add_head_html(f'<link rel="stylesheet" href="{STATIC_URL}/theme.css">')
    ui.colors(primary="#1a73e8", secondary="#5f6368", accent="#1a73e8")
    with ui.row().classes("trove-share-header items-center w-full q-pa-md"):
        ui.label("Shared with you").classes("text-h6")
        ui.space()
        ui.label("Trove").classes("text-grey-7")
    key = request.cookies.get(cookie_name(token))
    try:
        holder = await call(services().shares.holder, token, key=key)
    except Unauthorized:
        _password_form(token)
        return
    except (NotFound, Gone) as exc:
        ui.label(str(exc).capitalize() + ".").classes("q-pa-md text-grey-8 trove-share-gone")
        return
    await ShareGallery(token, holder).build()


def _password_form(token: str) -> None:
    """The key comes back as a cookie set by the unlock endpoint, so the browser itself
    posts the password (a websocket callback cannot set a cookie), then reloads."""
    with ui.card().classes("q-ma-md trove-share-password"):
        ui.label("This share is protected by a password.")
        password = ui.input("Password", password=True).props("outlined dense autofocus")
        message = ui.label().classes("text-negative")

        async def unlock() -> None:
            url = json.dumps(f"/api/dam/shared/{token}/unlock")
            body = json.dumps(json.dumps({"password": password.value or ""}))
            # Not NiceGUI's 1 s: the answer waits on a password hash, seconds on a busy server.
            status = await ui.run_javascript(
                f"const r = await fetch({url}, {{method: 'POST', headers: "
                f"{{'Content-Type': 'application/json'}}, body: {body}}}); return r.status;",
                timeout=30,
            )
            if status == 200:
                ui.navigate.reload()
            else:
                message.text = "Wrong password."

        password.on("keydown.enter", unlock)
        ui.button("Open", on_click=unlock).props("unelevated no-caps")


class ShareGallery:
    def __init__(self, token: str, holder: Viewer) -> None:
        self.token = token
        self.holder = holder
        self.cursor: str | None = None

    async def build(self) -> None:
        self.grid = ui.element("div").classes("trove-share-grid q-pa-md")
        self.more = ui.button("Show more", on_click=self.load).props("flat no-caps")
        self.more.set_visibility(False)
        await self.load()

    async def load(self) -> None:
        page = await call(
            services().shares.assets,
            self.token,
            viewer=self.holder,
            limit=PAGE_SIZE,
            cursor=self.cursor,
        )
        with self.grid:
            for item in page["items"]:
                self._tile(item)
        self.cursor = page["next_cursor"]
        self.more.set_visibility(self.cursor is not None)

    def _tile(self, item: dict[str, Any]) -> None:
        small = item["thumbnails"].get("small")
        with (
            ui.element("div")
            .classes("trove-share-tile cursor-pointer")
            .on("click", lambda item=item: self.open(item))
        ):
            if small:
                ui.image(small).props("no-spinner fit=cover ratio=1").classes("trove-share-img")
            else:
                ui.label(item["filename"]).classes("q-pa-sm text-caption")

    def open(self, item: dict[str, Any]) -> None:
        """The lightbox: the largest preview, the name, and the download when allowed."""
        thumbnails = item["thumbnails"]
        picture = thumbnails.get("large") or thumbnails.get("medium") or thumbnails.get("small")
        with ui.dialog() as dialog, ui.card().classes("trove-share-lightbox"):
            if picture:
                ui.image(picture).props("fit=contain no-spinner").classes("trove-share-large")
            with ui.row().classes("items-center w-full"):
                ui.label(item.get("title") or item["filename"]).classes("text-subtitle1")
                ui.space()
                if item.get("file_url"):
                    ui.button(
                        "Download",
                        icon="download",
                        on_click=lambda: ui.download(item["file_url"], item["filename"]),
                    ).props("flat no-caps").classes("trove-share-download")
                ui.button(icon="close", on_click=dialog.close).props("flat round dense")
        dialog.open()
