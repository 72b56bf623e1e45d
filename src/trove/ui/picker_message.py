"""The message the asset picker posts to the page that opened it (docs/picker.md).

    {"type": "trove:picked", "origin": "https://trove.example.org", "assets": [asset, ...]}

Each asset is the API's detail (GET /api/dam/assets/{id}) with `url` (the asset in Trove) and,
where the user has a live share link of it without a password, `public_url`,
`public_file_url` and `public_thumbnails`. The receiving page lives on another origin, so every
URL is made absolute on Trove's.

Where it may go: `target_origins` is this page's own origin and TROVE_PICKER_ORIGINS; the
browser delivers a message only to a window whose origin is the one it is posted to, so the
picker posts one per allowed origin and never to `*` (what a user picks may be private).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urljoin

from trove.api.schemas import PickedAsset, PickedMessage

PICKED = "trove:picked"
CANCELLED = "trove:cancelled"


def picked_message(assets: Sequence[PickedAsset], *, origin: str) -> dict[str, Any]:
    """The JSON posted for `assets`, its URLs absolute on `origin` (Trove's, as the browser
    reached it)."""
    base = origin.rstrip("/") + "/"
    message = PickedMessage(origin=origin.rstrip("/"), assets=[_absolute(a, base) for a in assets])
    return message.model_dump(mode="json")


def _absolute(asset: PickedAsset, base: str) -> PickedAsset:
    def at(url: str | None) -> str | None:
        return urljoin(base, url) if url else None

    web_copy = asset.web_copy
    return asset.model_copy(
        update={
            "url": urljoin(base, f"/?asset={asset.id}"),
            "web_copy": web_copy and web_copy.model_copy(update={"url": at(web_copy.url)}),
            "thumbnails": {size: urljoin(base, u) for size, u in asset.thumbnails.items()},
            "public_url": at(asset.public_url),
            "public_file_url": at(asset.public_file_url),
            "public_thumbnails": {
                size: urljoin(base, u) for size, u in asset.public_thumbnails.items()
            },
        }
    )


def target_origins(own: str, allowed: Iterable[str]) -> list[str]:
    """Where the message is posted: this page's own origin, then the configured ones."""
    return list(dict.fromkeys([own.rstrip("/"), *allowed]))
