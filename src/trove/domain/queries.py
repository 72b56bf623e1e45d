"""What a listing asks for: the same filters for the API, the CLI and (later) the UI."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

SORT_KEYS = ("timeline_at", "filename", "size", "id")
DEFAULT_SORT = "-timeline_at"
MAX_LIMIT = 1000


class InvalidQuery(ValueError):
    """A filter, sort key or cursor the caller sent cannot be used; the message says which."""


@dataclass(frozen=True, kw_only=True)
class AssetQuery:
    asset_types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    root_id: str | None = None
    path_prefix: str | None = None
    mime: str | None = None
    hash: str | None = None
    include_deleted: bool = False
    only_deleted: bool = False
    sort: str = DEFAULT_SORT
    limit: int = 100
    cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sort.lstrip("-") not in SORT_KEYS:
            raise InvalidQuery(
                f"unknown sort {self.sort!r}; use one of "
                + ", ".join(k for key in SORT_KEYS for k in (key, "-" + key))
            )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}")

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")


def encode_cursor(sort_value: Any, asset_id: str) -> str:
    raw = json.dumps([sort_value, asset_id], default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, asset_id = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidQuery("cursor is not one this server issued") from exc
    if not isinstance(asset_id, str):
        raise InvalidQuery("cursor is not one this server issued")
    return value, asset_id
