"""Relative paths as stored text, and the seed's URNs.

File names on Linux are bytes. Python hands undecodable bytes over as lone surrogates
(surrogateescape), which neither SQLite's nor PostgreSQL's text type accepts. Such names are
stored with each undecodable byte mapped to a private-use code point (U+10FF00 + byte), which is
valid UTF-8 everywhere, and the asset is flagged so the mapping is reversed only where it was
applied.
"""

from __future__ import annotations

import os

_PUA_BASE = 0x10FF00
_SURROGATE_BASE = 0xDC00


def to_stored(rel_path: str) -> tuple[str, bool]:
    """Return (text safe for any database, whether bytes had to be escaped)."""
    if rel_path.isascii():
        return rel_path, False
    try:
        rel_path.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_escape_char(c) for c in rel_path), True
    return rel_path, False


def from_stored(stored: str, *, escaped: bool) -> str:
    """Inverse of `to_stored`: the str (with surrogates) that os functions accept."""
    if not escaped:
        return stored
    return "".join(_unescape_char(c) for c in stored)


def display(rel_path: str) -> str:
    """A printable form: undecodable bytes as \\xNN, control characters escaped."""
    raw = os.fsencode(rel_path)
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _escape_char(c: str) -> str:
    code = ord(c)
    if 0xDC80 <= code <= 0xDCFF:
        return chr(_PUA_BASE + (code - _SURROGATE_BASE))
    return c


def _unescape_char(c: str) -> str:
    code = ord(c)
    if _PUA_BASE + 0x80 <= code <= _PUA_BASE + 0xFF:
        return chr(_SURROGATE_BASE + (code - _PUA_BASE))
    return c


def storage_urn(root_path: str, rel_path: str) -> str:
    """`fs://local/<absolute path>` as the seed writes it (display only, never parsed back)."""
    if not rel_path:
        return "fs://local" + root_path
    return f"fs://local{root_path.rstrip('/')}/{rel_path}"


def parent_of(rel_path: str) -> str:
    """Parent folder of a relative path; the root itself is ''."""
    head, _, _ = rel_path.rpartition("/")
    return head
