"""Drag-and-drop upload: a QUploader that posts each file in its own request to the REST API's
`POST /api/dam/upload`, so each file has its own progress bar and its own outcome.

The browser's request goes to the API itself (not to a NiceGUI handler that answers "success"
before the file is stored): QUploader marks a file done only on a 2xx answer, and shows any
other answer as a failed file in red, with the server's `detail` in a notification.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nicegui import ui

UPLOAD_URL = "/api/dam/upload"

# QUploader's `uploaded` and `failed` events carry the XMLHttpRequest; only its status and body
# (and the file names) are sent on to the server.
# Each request carries its file's modification time, which the server keeps as the stored
# file's (a picture without a capture date is then dated by it, not by the upload).
_MODIFIED = '(files) => [{name: "modified", value: String(files[0].lastModified)}]'
_OUTCOME = (
    "(e) => emit({names: e.files.map((f) => f.name),"
    " status: e.xhr ? e.xhr.status : 0, body: e.xhr ? e.xhr.responseText : ''})"
)


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
                ui.upload(multiple=True, auto_upload=True, label="Files")
                .props(f"flat bordered hide-upload-btn url={UPLOAD_URL} field-name=file")
                .props(f":form-fields='{_MODIFIED}'")
                .classes("w-full trove-uploader")
            )
            self.upload.on("uploaded", self._uploaded, js_handler=_OUTCOME)
            self.upload.on("failed", self._failed, js_handler=_OUTCOME)
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

    def _uploaded(self, event: Any) -> None:
        outcome = event.args
        asset = _json(outcome["body"])
        if outcome["status"] != 201 or not isinstance(asset, dict) or "id" not in asset:
            self._failed(event)
            return
        self.on_uploaded(asset)

    def _failed(self, event: Any) -> None:
        outcome = event.args
        names = ", ".join(outcome["names"])
        ui.notify(
            f"{names}: not uploaded ({failure_reason(outcome['status'], outcome['body'])})",
            type="negative",
            multi_line=True,
        )


def failure_reason(status: int, body: str) -> str:
    """What to tell the user about an upload the server did not store."""
    if status == 0:
        return "the connection to the server failed"
    detail = (_json(body) or {}).get("detail") if body.startswith("{") else None
    if isinstance(detail, list):  # a request validation error: one message per field
        detail = "; ".join(str(item.get("msg", item)) for item in detail)
    return detail if isinstance(detail, str) and detail else f"the server answered {status}"


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
