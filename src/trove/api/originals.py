"""Serving an original: streamed from the descriptor the service opened, with browser limits.

An original opened on its own (an SVG, an HTML file) must not run script with this site's
rights nor make the browser fetch what it points at (an SVG can name a cloud metadata address):
it is rendered sandboxed with nothing allowed to load, never sniffed into another type, and
types a browser would execute are downloaded rather than shown.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import BinaryIO

import anyio
from starlette.responses import FileResponse
from starlette.types import Receive, Scope, Send

ORIGINAL_CSP = "default-src 'none'; sandbox"
# Types a browser renders as a document that can run script or fetch: never shown inline.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "text/ecmascript",
        "application/ecmascript",
        "application/x-shockwave-flash",
        "text/vnd.wap.wml",
        "application/mathml+xml",
        "application/rdf+xml",
    }
)


def disposition_for(mime_type: str) -> str:
    base = mime_type.split(";", 1)[0].strip().lower()
    active = base in ACTIVE_TYPES or base.endswith("+xml")
    return "attachment" if active else "inline"


class OpenFileResponse(FileResponse):
    """Starlette's FileResponse (Range, HEAD, ETag) over a file that is already open.

    Its size and dates come from fstat of that file, and it is read from that file: nothing is
    looked up by name after the service opened it below its root.
    """

    def __init__(self, file: BinaryIO, *, filename: str, mime_type: str | None) -> None:
        self._file = file
        media_type = mime_type or "application/octet-stream"
        super().__init__(
            f"/proc/self/fd/{file.fileno()}",  # named in errors only; never opened
            media_type=media_type,
            filename=filename,
            content_disposition_type=disposition_for(media_type),
            stat_result=os.fstat(file.fileno()),
            headers={
                "Content-Security-Policy": ORIGINAL_CSP,
                "X-Content-Type-Options": "nosniff",
                # Its Last-Modified would let a shared cache keep it for one viewer and serve
                # it to another who may not see it; the browser may still keep it.
                "Cache-Control": "private",
            },
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # `http.response.pathsend` would have the server open the path by name.
        extensions = dict(scope.get("extensions") or {})
        extensions.pop("http.response.pathsend", None)
        try:
            await super().__call__({**scope, "extensions": extensions}, receive, send)
        finally:
            self._file.close()

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[anyio.AsyncFile[bytes]]:
        yield anyio.wrap_file(self._file)
