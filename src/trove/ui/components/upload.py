"""Upload: Uppy's Dashboard over the resumable TUS endpoint (static/uploader.js), so each file
has its own progress, can be paused, resumed and retried, and continues after a reload or a
server restart.

What the page learns comes from the server's answers only: a file is stored when its last
PATCH was answered 204 (the file placed and registered by then), and a refusal reaches the
page with the server's `detail`, shown in a red notification beside the red file in the list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nicegui import ui

from trove.services.errors import NotFound
from trove.ui.context import call, current_viewer, services
from trove.ui.static_files import STATIC_URL


class UploadDialog:
    """Opens the uploader (after asking where to, when the user may upload into more than
    their own folder); `on_uploaded` gets each stored asset."""

    def __init__(self, *, on_uploaded: Callable[[dict[str, Any]], Any]) -> None:
        self.on_uploaded = on_uploaded
        # Uppy itself is loaded by uploader.js when the uploader first opens.
        ui.add_head_html(f'<script defer src="{STATIC_URL}/uploader.js"></script>')
        self._slot = ui.context.slot  # where the chooser goes, once it is needed
        self.chooser: ui.dialog | None = None
        ui.on("trove_upload_stored", self._stored)
        ui.on("trove_upload_failed", self._failed)
        # Files dragged anywhere onto the page open the uploader; a drop outside it is ignored
        # instead of the browser navigating away to the file.
        ui.on("trove_files_dragged", self.open)
        ui.add_body_html(
            """<script>
            window.addEventListener('dragenter', (e) => {
              if (e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files'))
                emitEvent('trove_files_dragged');
            });
            window.addEventListener('dragover', (e) => e.preventDefault());
            window.addEventListener('drop', (e) => e.preventDefault());
            </script>"""
        )

    async def open(self) -> None:
        destinations = await call(services().uploads.destinations, current_viewer())
        if len(destinations) <= 1:
            self._open_uploader(None)
            return
        if self.chooser is None:
            with self._slot, ui.dialog() as self.chooser, ui.card().classes("trove-upload-card"):
                ui.label("Upload into").classes("text-h6")
                self.choices = ui.column().classes("w-full gap-1")
        self.choices.clear()
        with self.choices:
            for destination in destinations:
                ui.button(
                    destination["name"],
                    icon="folder",
                    on_click=lambda _, root=destination["root_id"]: self._choose(root),
                ).props("flat no-caps align=left").classes("w-full")
        self.chooser.open()

    def _choose(self, root_id: str | None) -> None:
        if self.chooser is not None:
            self.chooser.close()
        self._open_uploader(root_id)

    @staticmethod
    def _open_uploader(root_id: str | None) -> None:
        ui.run_javascript(f"window.troveUploader.open({json.dumps(root_id or '')})")

    async def _stored(self, event: Any) -> None:
        try:
            asset = await call(
                services().assets.get, str(event.args["id"]), viewer=current_viewer()
            )
        except NotFound:
            return
        self.on_uploaded(asset)

    def _failed(self, event: Any) -> None:
        name = str(event.args.get("name") or "a file")
        reason = str(event.args.get("reason") or "unknown reason")
        ui.notify(f"{name}: not uploaded ({reason})", type="negative", multi_line=True)
