"""What a listing asks for: the same filters for the API, the CLI and (later) the UI."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trove.domain.search_query import SearchQuery

SORT_KEYS = ("timeline_at", "filename", "size", "id")
DEFAULT_SORT = "-timeline_at"
# Best match first (a search with words); paged by position, not by a key.
RELEVANCE = "relevance"
MAX_LIMIT = 1000
# Bounds on what one listing may ask, so that no request can build a statement the database
# refuses or spends seconds on: text filters (search, folder, MIME) and values per filter.
MAX_FILTER_CHARS = 1000
MAX_FILTER_VALUES = 100


class InvalidQuery(ValueError):
    """A filter, sort key or cursor the caller sent cannot be used; the message says which."""


@dataclass(frozen=True, kw_only=True)
class AssetQuery:
    asset_types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    root_id: str | None = None
    path_prefix: str | None = None
    album_id: str | None = None  # what this album includes (its members, one level)
    mime: str | None = None
    hash: str | None = None
    # Case-insensitive substring of the file name or the title, by a scan (what search was
    # before the index; kept as the benchmark's baseline).
    text: str | None = None
    # The search language (domain/search_query.py), answered from the full-text index.
    search: SearchQuery | None = None
    # timeline_at within [since, until): the gallery's date range.
    since: datetime | None = None
    until: datetime | None = None
    include_deleted: bool = False
    only_deleted: bool = False
    # Copies of one file as one item: the preferred copy (or the first) stands for the rest.
    stack: bool = False
    sort: str = DEFAULT_SORT
    limit: int = 100
    cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sort != RELEVANCE and self.sort.lstrip("-") not in SORT_KEYS:
            raise InvalidQuery(
                f"unknown sort {self.sort!r}; use one of "
                + ", ".join(k for key in SORT_KEYS for k in (key, "-" + key))
                + f" or {RELEVANCE}"
            )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}")
        for name in ("asset_types", "statuses", "tags"):
            if len(getattr(self, name)) > MAX_FILTER_VALUES:
                raise InvalidQuery(f"{name}: at most {MAX_FILTER_VALUES} values per filter")
        for name in (
            "root_id",
            "path_prefix",
            "album_id",
            "mime",
            "hash",
            "text",
            "cursor",
            "tags",
        ):
            _check_text(name, getattr(self, name))

    @property
    def sort_key(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")


def _check_text(name: str, value: str | tuple[str, ...] | None) -> None:
    for text in (value,) if isinstance(value, str) else value or ():
        if len(text) > MAX_FILTER_CHARS:
            raise InvalidQuery(f"{name}: at most {MAX_FILTER_CHARS} characters")
        if "\x00" in text:
            raise InvalidQuery(f"{name}: contains a NUL byte")


def parse_date_bound(value: str | None, *, end: bool) -> datetime | None:
    """An ISO date or date-time from a request, as naive UTC like the index keeps.

    A bare date as the end of a range means "through that day", so it becomes the next
    midnight (ranges are half-open).
    """
    if not value:
        return None
    if len(value) > 64:
        raise InvalidQuery(f"{value[:20]!r}... is not an ISO date (YYYY-MM-DD) or date-time")
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day) + timedelta(days=1 if end else 0)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidQuery(f"{value!r} is not an ISO date (YYYY-MM-DD) or date-time") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def encode_cursor(sort_value: Any, asset_id: str) -> str:
    raw = json.dumps([sort_value, asset_id], default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, asset_id = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidQuery("cursor is not one this server issued") from exc
    if not isinstance(asset_id, str) or not _is_sort_value(value):
        raise InvalidQuery("cursor is not one this server issued")
    return value, asset_id


def _is_sort_value(value: Any) -> bool:
    """What a sort column holds: text, a date as text, or a number a 64-bit column takes."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return value is None or isinstance(value, str | float)
