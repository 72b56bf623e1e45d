"""Sharing one asset or one album from the UI: who sees it (visibility) and its share links
(create with expiry, password and download, copy, revoke; each with its view count). Only
shown to its owner or an admin, as the API allows (ShareService, AssetService.update)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from nicegui import ui

from trove.services.assets import AssetPatch
from trove.services.errors import Forbidden, Invalid, NotFound
from trove.ui.context import call, current_viewer, services

EXPIRY_DAYS = {0: "Never expires", 1: "1 day", 7: "7 days", 30: "30 days"}


class ShareDialog:
    """`asset` is the asset (or the album's asset) as the API returns it."""

    def __init__(self, asset: dict[str, Any], *, album: bool) -> None:
        self.asset = asset
        self.album = album

    async def open(self) -> None:
        with ui.dialog() as self.dialog, ui.card().classes("trove-share-dialog w-96"):
            ui.label("Share").classes("text-h6")
            if not self.album:
                visibility = ui.select(
                    {"private": "Private", "shared": "Shared", "public": "Public"},
                    value=self.asset.get("visibility") or "private",
                    label="Who sees it",
                ).classes("w-full trove-visibility")
                visibility.on_value_change(lambda e: self._set_visibility(e.value))
            ui.label("Share links").classes("text-subtitle2 q-mt-sm")
            if self.album and not current_viewer().is_admin:  # domain/access.py, share links
                ui.label("A link shows the files of this album that are yours.").classes(
                    "text-caption text-grey-7 trove-share-own-only"
                )
            self.links = ui.column().classes("w-full gap-1 trove-share-links")
            with ui.row().classes("items-center w-full gap-2"):
                self.download = ui.checkbox("Allow downloads").classes("trove-share-allow")
                self.expiry = ui.select(EXPIRY_DAYS, value=0).props("dense")
            self.password = ui.input("Password (optional)", password=True).props("dense")
            self.password.classes("w-full")
            with ui.row().classes("w-full"):
                ui.space()
                ui.button("Close", on_click=self.dialog.close).props("flat no-caps")
                ui.button("Create link", on_click=self._create).props("unelevated no-caps")
        await self._refresh()
        self.dialog.open()

    async def _refresh(self) -> None:
        mine = await call(services().shares.mine, viewer=current_viewer()) or []
        key = "album_id" if self.album else "asset_id"
        self.links.clear()
        with self.links:
            shown = [s for s in mine if s[key] == self.asset["id"] and not s["revoked_at"]]
            if not shown:
                ui.label("No links yet.").classes("text-grey-7")
            for share in shown:
                self._link_row(share)

    def _link_row(self, share: dict[str, Any]) -> None:
        with ui.row().classes("items-center w-full no-wrap gap-1 trove-share-link"):
            url = ui.input(value=share["url"]).props("dense readonly").classes("col")
            url.on("focus", js_handler="(e) => e.target.select()")
            views = f"{share['view_count']} view{'s' if share['view_count'] != 1 else ''}"
            ui.label(views).classes("text-caption text-grey-7")
            ui.button(icon="link_off", on_click=lambda s=share: self._revoke(s["id"])).props(
                "flat round dense aria-label=Revoke"
            ).classes("trove-share-revoke")

    async def _create(self) -> None:
        days = int(self.expiry.value or 0)
        target = {"album_id" if self.album else "asset_id": self.asset["id"]}
        try:
            await call(
                services().shares.create,
                viewer=current_viewer(),
                expires_at=datetime.now(UTC) + timedelta(days=days) if days else None,
                password=self.password.value or None,
                allow_download=bool(self.download.value),
                **target,
            )
        except (Invalid, NotFound, Forbidden) as exc:
            ui.notify(str(exc), type="negative")
            return
        self.password.value = ""
        ui.notify("Link created", type="positive")
        await self._refresh()

    async def _revoke(self, share_id: str) -> None:
        await call(services().shares.revoke, share_id, viewer=current_viewer())
        ui.notify("Link revoked", type="info")
        await self._refresh()

    async def _set_visibility(self, value: str) -> None:
        try:
            updated = await call(
                services().assets.update,
                self.asset["id"],
                AssetPatch(visibility=value),
                viewer=current_viewer(),
            )
        except (Invalid, NotFound, Forbidden) as exc:
            ui.notify(str(exc), type="negative")
            return
        self.asset = updated or self.asset
        ui.notify(f"Visibility: {value}", type="positive", timeout=1200)
