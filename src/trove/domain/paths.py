"""Relative paths as stored text, and the seed's URNs.

File names on Linux are bytes. Python hands undecodable bytes over as lone surrogates
(surrogateescape), which neither SQLite's nor PostgreSQL's text type accepts. Such names are
stored with each undecodable byte mapped to a code point at the very end of Unicode's last
private-use plane (U+10FF80 + byte - 0x80), which is valid UTF-8 everywhere, and the asset is
flagged so the mapping is reversed only where it was applied.

The mapping is injective: a name that itself holds a character of that block (U+10FF00 to
U+10FFFF, which a file name can) is escaped too, each such character written after the escape
mark U+10FF00. So every stored text stands for exactly one name, and a name that is stored
unchanged never contains a character of the block.
"""

from __future__ import annotations

import os

_MARK = "\U0010ff00"  # the next character is itself, not a byte
_FIRST_RESERVED = "\U0010ff00"
_FIRST_BYTE = "\U0010ff80"
_PUA_BASE = 0x10FF00
_SURROGATE_BASE = 0xDC00


def to_stored(rel_path: str) -> tuple[str, bool]:
    """Return (text safe for any database, whether it had to be escaped)."""
    if rel_path.isascii():
        return rel_path, False
    try:
        rel_path.encode("utf-8")
    except UnicodeEncodeError:
        pass  # undecodable bytes, as surrogates
    else:
        if max(rel_path) < _FIRST_RESERVED:
            return rel_path, False
    return "".join(map(_escape_char, rel_path)), True


def from_stored(stored: str, *, escaped: bool) -> str:
    """Inverse of `to_stored`: the str (with surrogates) that os functions accept."""
    if not escaped:
        return stored
    decoded = []
    chars = iter(stored)
    for c in chars:
        if c == _MARK:
            decoded.append(next(chars, ""))
        elif c >= _FIRST_BYTE:
            decoded.append(chr(_SURROGATE_BASE + (ord(c) - _PUA_BASE)))
        else:
            decoded.append(c)
    return "".join(decoded)


def display(rel_path: str) -> str:
    """A printable form: undecodable bytes as \\xNN, control characters escaped."""
    raw = os.fsencode(rel_path)
    text = raw.decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _escape_char(c: str) -> str:
    if "\udc80" <= c <= "\udcff":
        return chr(_PUA_BASE + (ord(c) - _SURROGATE_BASE))
    if c >= _FIRST_RESERVED:
        return _MARK + c
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
