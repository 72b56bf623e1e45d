"""A minimal TUS 1.0 client over httpx (creation, HEAD, PATCH), enough to drive a real server
the way tus-js-client does, and to stop it half-way."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

TUS = "/api/dam/uploads/tus/"
HEADERS = {"Tus-Resumable": "1.0.0"}


def metadata(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


@dataclass
class Upload:
    url: str  # the upload's own URL (Location)

    @property
    def id(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[1]

    def offset(self, base: str) -> int:
        response = httpx.head(self._at(base), headers=HEADERS, timeout=30)
        response.raise_for_status()
        return int(response.headers["Upload-Offset"])

    def patch(
        self, base: str, offset: int, body: bytes | Iterable[bytes], *, timeout: float = 120
    ) -> httpx.Response:
        headers = {
            **HEADERS,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
        }
        if isinstance(body, bytes):
            headers["Content-Length"] = str(len(body))
        return httpx.patch(self._at(base), headers=headers, content=body, timeout=timeout)

    def _at(self, base: str) -> str:
        """The same upload on `base` (a restarted server may listen on another port)."""
        return base + "/" + self.url.split("/", 3)[3]


def create(
    base: str, name: str, size: int, *, filetype: str = "application/octet-stream", **extra: str
) -> httpx.Response:
    headers = {
        **HEADERS,
        "Upload-Length": str(size),
        "Upload-Metadata": metadata(filename=name, filetype=filetype, **extra),
    }
    return httpx.post(base + TUS, headers=headers, timeout=60)


def upload(base: str, name: str, data: bytes, **extra: str) -> httpx.Response:
    """Create and send a whole file in one PATCH; the final PATCH's response (or the
    creation's, if that was refused)."""
    created = create(base, name, len(data), **extra)
    if created.status_code != 201:
        return created
    return Upload(created.headers["Location"]).patch(base, 0, data)
