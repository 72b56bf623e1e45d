"""Drag-and-drop upload: a QUploader that sends each file in its own request (so each file
has its own progress bar) into the same AssetService.upload the REST API uses."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, BinaryIO

from nicegui import ui

from trove.services.errors import Invalid, TooLarge
from trove.ui.context import call, services


def store_upload(filename: str, content: BinaryIO) -> dict[str, Any]:
    """Store and register one file, then let the background indexer fingerprint it."""
    try:
        return services().upload(filename, content)
    finally:
        content.close()


class UploadDialog:
    """A dialog with the drop zone; `on_uploaded` gets each stored asset."""

    def __init__(self, *, on_uploaded: Callable[[dict[str, Any]], Any]) -> None:
        self.on_uploaded = on_uploaded
        with ui.dialog() as self.dialog, ui.card().classes("trove-upload-card"):
            with ui.row().classes("w-full items-center"):
                ui.label("Upload").classes("text-h6")
                ui.space()
                ui.button(icon="close", on_click=self.dialog.close).props("flat round dense")
            ui.label("Drop files here, or click + to choose. They go into the upload library.")
            self.upload = (
                ui.upload(
                    multiple=True,
                    auto_upload=True,
                    on_upload=self._stored,
                    label="Files",
                )
                .props("flat bordered hide-upload-btn")
                .classes("w-full trove-uploader")
            )
        # Files dragged anywhere onto the page open the drop zone; a drop outside it is ignored
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

    def open(self) -> None:
        self.dialog.open()

    async def _stored(self, event: Any) -> None:
        file = event.file
        try:
            asset = await call(store_upload, file.name, await _stream(file))
        except (Invalid, TooLarge) as exc:
            ui.notify(f"{file.name}: {exc}", type="negative")
            return
        if asset is not None:
            self.on_uploaded(asset)


async def _stream(file: Any) -> BinaryIO:
    """The upload's bytes as a file object: large uploads are already a temporary file."""
    path = getattr(file, "_path", None)  # NiceGUI's LargeFileUpload spools to disk
    if path is not None:
        return open(path, "rb")  # closed by store_upload
    return io.BytesIO(await file.read())
