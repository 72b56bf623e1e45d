"""What the search index holds for one asset: its text, field by field (no I/O).

`document_of()` reads an asset's own values: its name, the folders along its path, title,
description, tags (own; a folder's or album's also the tags it inherits), and what the pipeline
extracted into metadata namespaces. A file's inherited tags and album names are not copied
into its document: a word matches the document of a folder or album above it too (one hop down
the hierarchical links), so tagging a folder of 100k files re-indexes that folder, not 100k rows.

How another step adds text: return it in the step's own metadata namespace under the key
`search_text`, a mapping of document field to text (or list of texts), e.g. a reverse
geocoder's `StepResult.ok(metadata={"place": {..., "search_text": {"place": "Kyoto, Japan"}}})`
or a labeller's `{"ai": {..., "search_text": {"labels": ["dog", "seashore"]}}}`. The fields
are `SEARCH_FIELDS` (`place`, `labels` and `people` are there for such steps; anything else
goes to `extra`). The document is rebuilt when the asset's pipeline pass finishes. The known
namespaces (`NAMESPACE_FIELDS`) are read without it.

Text is folded for matching (`fold`: case and diacritics removed, like SQLite's unicode61
tokenizer with remove_diacritics) and split into `words` the same way on both databases.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

# Document fields in the order of their weight: a match in the name counts more than one in
# a PDF's text. Each is a column of `search_documents`.
SEARCH_FIELDS = (
    "name",
    "title",
    "tags",
    "folders",
    "description",
    "camera",
    "lens",
    "caption",
    "place",
    "labels",
    "people",
    "content",
    "extra",
)
# Relative weights for ranking (SQLite bm25 column weights; PostgreSQL's A-D classes).
FIELD_WEIGHT = {
    "name": 10.0,
    "title": 10.0,
    "tags": 8.0,
    "folders": 5.0,
    "description": 4.0,
    "camera": 4.0,
    "lens": 4.0,
    "caption": 4.0,
    "place": 4.0,
    "labels": 3.0,
    "people": 5.0,
    "content": 1.0,
    "extra": 1.0,
}
# The short fields also kept as one folded string for substring (trigram) matching: a part of
# a file name ("0714" of IMG_20230714) is found though it is not a word of its own.
SUBSTRING_FIELDS = ("name", "title", "tags", "folders")
# Per field, at most this much text is indexed (a 500-page PDF's first pages are enough to
# find it; the index stays small).
MAX_FIELD_CHARS = 100_000
MAX_SUBSTRING_CHARS = 2_000
# (namespace, keys, field): where the pipeline's namespaces hold searchable text.
NAMESPACE_FIELDS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("exif", ("Make", "Model"), "camera"),
    ("exif", ("LensID", "LensModel", "LensMake", "Lens"), "lens"),
    ("iptc", ("Caption-Abstract", "Keywords", "Headline", "ObjectName"), "caption"),
    ("iptc", ("City", "Sub-location", "Province-State", "Country-PrimaryLocationName"), "place"),
    ("xmp", ("Subject", "Title", "Description", "Headline"), "caption"),
    ("xmp", ("City", "State", "Country", "Location"), "place"),
    ("place", ("name", "city", "region", "country"), "place"),
    ("web_scraper", ("title", "description", "site_name"), "caption"),
    ("log_entry", ("text",), "content"),
    ("document", ("sub_type",), "caption"),
    ("text", ("content",), "content"),
    ("ocr", ("content",), "content"),
)
SEARCH_TEXT_KEY = "search_text"
_WORD = re.compile(r"[^\W_]+")


# Past this many characters a text's combining marks are filtered by NumPy, not one by one.
LONG_TEXT = 1_000


def fold(text: str) -> str:
    """Lower case without diacritics: "Café Ångström" -> "cafe angstrom"."""
    if text.isascii():  # NFKD leaves ASCII as it is, and it has no combining marks
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    if len(decomposed) > LONG_TEXT:
        return _without_marks(decomposed).casefold()
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _without_marks(text: str) -> str:
    """`text` without its combining marks: 175 KB of French in 4 ms, instead of the 45 ms of a
    Python loop over its characters."""
    import numpy as np

    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return points[~combining_marks()[points]].tobytes().decode("utf-32-le")


@functools.cache
def combining_marks() -> Any:
    """Which code points are combining marks, as a NumPy mask. Looked up only in the blocks
    where Unicode puts them (below U+20000, and plane 14): the whole range takes 250 ms."""
    import numpy as np

    marks = np.zeros(sys.maxunicode + 1, dtype=bool)
    for point in itertools.chain(range(0x300, 0x20000), range(0xE0000, 0xE1000)):
        if unicodedata.combining(chr(point)):
            marks[point] = True
    return marks


def words(text: str) -> list[str]:
    """The folded words of `text` (letters and digits; `_`, `.`, `-` and the rest separate)."""
    return _WORD.findall(fold(text))


@dataclass(frozen=True, kw_only=True)
class SearchDocument:
    asset_id: str
    fields: dict[str, str] = field(default_factory=dict)
    ext: str | None = None
    lat: float | None = None
    lon: float | None = None
    # A folder or album: a word that matches it matches what it holds (one hop down).
    holder: bool = False
    # The asset's place on the timeline, kept beside its words (repositories/search.py).
    timeline_at: datetime | None = None

    @property
    def substrings(self) -> str:
        joined = " ".join(self.fields.get(name, "") for name in SUBSTRING_FIELDS)
        return fold(joined)[:MAX_SUBSTRING_CHARS]

    def row(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            **{name: self.fields.get(name, "") for name in SEARCH_FIELDS},
            "substrings": self.substrings,
            "ext": self.ext,
            "lat": self.lat,
            "lon": self.lon,
            "timeline_at": self.timeline_at,
        }


def document_of(
    *,
    asset_id: str,
    filename: str,
    rel_path: str | None,
    is_folder: bool,
    title: str | None,
    description: str | None,
    tags: Sequence[str],
    meta: Mapping[str, Any],
    timeline_at: datetime | None = None,
) -> SearchDocument:
    found: dict[str, list[str]] = {name: [] for name in SEARCH_FIELDS}
    found["name"].append(filename)
    found["folders"].extend(_folders(rel_path, is_folder=is_folder))
    found["title"].append(title or "")
    found["description"].append(description or "")
    found["tags"].extend(tags)
    for namespace, keys, name in NAMESPACE_FIELDS:
        values = meta.get(namespace)
        if _is_mapping(values):
            found[name].extend(_texts(values.get(k) for k in keys))
    for values in meta.values():
        if _is_mapping(values) and _is_mapping(values.get(SEARCH_TEXT_KEY)):
            for name, text in values[SEARCH_TEXT_KEY].items():
                target = name if name in found else "extra"
                found[target].extend(_texts([text]))
    geo = meta.get("geo")
    geo = geo if _is_mapping(geo) else {}
    return SearchDocument(
        asset_id=asset_id,
        fields={
            name: _joined(parts)[:MAX_FIELD_CHARS] for name, parts in found.items() if any(parts)
        },
        ext=None if is_folder else _extension(filename),
        lat=_coordinate(geo.get("lat"), 90),
        lon=_coordinate(geo.get("lon"), 180),
        holder=is_folder,
        timeline_at=timeline_at,
    )


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """isinstance(value, Mapping), without the ABC's check for what is most often a dict or
    None (16 checks a document: a fifth of building a new file's)."""
    return type(value) is dict or (value is not None and isinstance(value, Mapping))


def _folders(rel_path: str | None, *, is_folder: bool) -> list[str]:
    parts = [p for p in (rel_path or "").split("/") if p]
    return parts if is_folder else parts[:-1]


def _texts(values: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for value in values:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out.append(str(value))
        elif isinstance(value, list | tuple):
            out.extend(_texts(value))
    return out


def _joined(parts: list[str]) -> str:
    unique = dict.fromkeys(p.replace("\x00", "").strip() for p in parts)
    return "\n".join(p for p in unique if p)


def _extension(filename: str) -> str | None:
    stem, dot, ext = filename.rpartition(".")
    return ext.lower()[:16] if dot and stem and ext else None


def _coordinate(value: Any, bound: float) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and -bound <= value <= bound:
        return float(value)
    return None
