"""Where a result matched, as plain text with the matched ranges (no markup: the page renders
the text as text and marks the ranges itself, so file-derived text never becomes HTML)."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from trove.domain.search_document import SEARCH_FIELDS, fold, words

SNIPPET_CHARS = 160
MAX_HIGHLIGHTS = 50
# Characters of a text that is not ASCII folded at a time to find where its first match is,
# then within that block.
BLOCK = 4096
PIECE = 256


@dataclass(frozen=True, kw_only=True)
class Snippet:
    field: str
    text: str
    # [start, end) character ranges of `text` that matched a searched word.
    highlights: list[tuple[int, int]]


def snippet(texts: Mapping[str, str], searched: Sequence[str]) -> Snippet | None:
    """The first field (by weight) in which a searched word occurs, around its first match."""
    wanted = _wanted(tuple(searched))
    if not wanted:
        return None
    for name in SEARCH_FIELDS:
        text = texts.get(name) or ""
        ranges = _matches(text, wanted) if text else None
        if ranges:
            return _window(name, text, ranges)
    return None


@functools.lru_cache(maxsize=64)
def _wanted(searched: tuple[str, ...]) -> tuple[str, ...]:
    """The searched words, longest first: asked once for each result of a page."""
    return tuple(sorted({w for p in searched for w in words(p)}, key=len, reverse=True))


def _folded_with_origin(text: str) -> tuple[str, list[int]]:
    """`text` folded like the index folds it, and for each folded character its index in `text`."""
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            for folded in part.casefold():
                out.append(folded)
                origin.append(i)
    return "".join(out), origin


def _matches(text: str, wanted: Sequence[str]) -> list[tuple[int, int]]:
    """The ranges of `text` that match, from its first match on (enough for the window)."""
    if text.isascii():  # the common case: folding is lower() and keeps every offset
        return _found(text.lower(), wanted, origin=None)
    block = _first_block(text, wanted, start=0, end=len(text), size=BLOCK)
    if block is None:
        return []
    # The match is in that block or across its end: narrowed down to a few hundred characters.
    piece = _first_block(text, wanted, start=block, end=block + 2 * BLOCK, size=PIECE)
    if piece is None:  # only for a searched word longer than a block: no window then
        return []
    reach = SNIPPET_CHARS + 2 * len(wanted[0])
    begin = max(0, piece - reach)
    region = text[begin : piece + PIECE + reach]
    folded, origin = _folded_with_origin(region)
    return _found(folded, wanted, origin=[begin + i for i in origin])


def _first_block(
    text: str, wanted: Sequence[str], *, start: int, end: int, size: int
) -> int | None:
    """Where the block of `size` characters holding the first match in text[start:end]
    begins, found in that text folded a block at a time up to the match: folded character by
    character (which keeps where each one came from), a 175 KB French document took 93 ms,
    a page of 100 of them nine seconds."""
    carried = max(len(word) for word in wanted) - 1  # a match across two blocks
    tail = ""
    for at in range(start, min(end, len(text)), size):
        folded = tail + fold(text[at : at + size])
        starts = [where for word in wanted if (where := folded.find(word)) >= 0]
        if starts:
            return at if min(starts) >= len(tail) else at - size
        tail = folded[len(folded) - carried :] if carried else ""
    return None


def _found(
    folded: str, wanted: Sequence[str], *, origin: list[int] | None
) -> list[tuple[int, int]]:
    """Each word's first MAX_HIGHLIGHTS matches in `folded`, as ranges of the text it was
    folded from (`origin`: the index there of each folded character; None: the same)."""
    found: list[tuple[int, int]] = []
    for word in wanted:
        start, count = folded.find(word), 0
        while start >= 0 and count < MAX_HIGHLIGHTS:
            end = start + len(word)
            found.append((start, end) if origin is None else (origin[start], origin[end - 1] + 1))
            start, count = folded.find(word, end), count + 1
    return _merged(sorted(found)) if found else found


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _window(name: str, text: str, ranges: list[tuple[int, int]]) -> Snippet:
    first = ranges[0][0]
    start = max(0, min(first - SNIPPET_CHARS // 3, len(text) - SNIPPET_CHARS))
    end = min(len(text), start + SNIPPET_CHARS)
    piece = text[start:end]
    prefix = "…" if start > 0 else ""
    shift = len(prefix) - start
    highlights = [(s + shift, min(e, end) + shift) for s, e in ranges if start <= s < end]
    body = prefix + piece.replace("\n", " ") + ("…" if end < len(text) else "")
    return Snippet(field=name, text=body, highlights=highlights)
