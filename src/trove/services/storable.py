"""Text and JSON that both databases store alike.

SQLite keeps what PostgreSQL refuses (a NUL character, NaN in JSON), and a lone surrogate (a
JSON `\\ud800` escape) is UTF-8 to neither: checked before the write, each is the same 422 on
both databases instead of an oddity kept by one and an error from the other.
"""

from __future__ import annotations

import json
import re
from typing import Any

from trove.services.errors import Invalid

# A NUL character as json.dumps writes it (an escape not itself escaped): PostgreSQL's jsonb
# refuses it.
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def storable_text(text: str, *, field: str) -> str:
    """`text` unchanged, or Invalid naming `field`."""
    if "\x00" in text:
        raise Invalid(f"{field} must not contain a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Invalid(f"{field} is not valid Unicode text (a lone surrogate)") from exc
    return text


def storable_json(value: Any, *, field: str) -> str:
    """`value` as the JSON text the database will hold, or Invalid naming `field`."""
    try:
        dumped = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:  # NaN or Infinity: not JSON, and refused by PostgreSQL
        raise Invalid(f"{field}: numbers must be finite") from exc
    encoded = storable_text(dumped, field=field)
    if _JSON_NUL.search(encoded):
        raise Invalid(f"{field} must not contain a NUL character")
    return encoded
