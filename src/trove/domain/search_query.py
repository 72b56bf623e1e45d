"""The search language of `q` (the gallery's box, `GET /api/dam/assets?q=`, `trove ls --q`),
in the style of PhotoPrism's filters: free words and `"quoted phrases"` mixed with `key:value`
filters, each negated by a leading `-`. Every clause must hold (AND).

    beach -draft type:video camera:"Canon EOS" taken:2023-07 near:35.01,135.77,5
    tag:family -tag:private folder:"2019/Trip" text:"invoice 2023" is:duplicate has:gps

Words match the search document of an asset or of a folder or album above it (so a photo in
a folder named beach is found by `beach`); the filters are listed in `FILTERS`. Parsing is pure:
a clause that cannot be used raises `QuerySyntaxError` with the character it starts at, which the
API answers with a 422 naming that position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from trove.domain.enums import AssetType
from trove.domain.queries import MAX_FILTER_CHARS, InvalidQuery

# Filters whose value is text matched against one part of the search document.
TEXT_FILTERS = ("camera", "lens", "person", "place", "text", "album")
FILTERS = (
    "type",
    *TEXT_FILTERS,
    "taken",
    "after",
    "before",
    "tag",
    "folder",
    "near",
    "ext",
    "is",
    "has",
    "rating",
)
IS_VALUES = ("duplicate", "missing", "corrupted", "favorite")
HAS_VALUES = ("gps", "text", "faces")
# `type:` also takes the words people use for a kind of file.
TYPE_ALIASES = {"photo": "image", "picture": "image", "pdf": "document", "folder": "collection"}
MAX_CLAUSES = 32
DEFAULT_NEAR_KM = 10.0
_KEY = re.compile(r"([a-z]+):")
_RATING = re.compile(r"^(>=|<=|>|<|=)?([0-5])$")
_EXT = re.compile(r"^\.?[a-z0-9]{1,16}$")


class QuerySyntaxError(InvalidQuery):
    """A clause of `q` that cannot be used; `position` is its first character (0-based)."""

    def __init__(self, reason: str, *, position: int) -> None:
        self.reason = reason
        self.position = position
        super().__init__(f"q: {reason} (at character {position + 1})")


@dataclass(frozen=True, kw_only=True)
class Near:
    lat: float
    lon: float
    km: float


@dataclass(frozen=True, kw_only=True)
class Clause:
    """One free word or phrase (`key` empty) or one filter, as typed and as understood."""

    key: str
    value: str
    negated: bool = False
    phrase: bool = False
    position: int = 0
    # What the value means for the filters that take a typed value: a (start, end) range of
    # naive UTC datetimes, a tuple of asset types, a `Near`, or the normalised word.
    parsed: Any = None


@dataclass(frozen=True)
class SearchQuery:
    clauses: tuple[Clause, ...] = field(default_factory=tuple)

    @property
    def words(self) -> tuple[str, ...]:
        """The text the user looks for (free words, phrases and `text:`), for ranking and
        snippets; negated words are not looked for."""
        return tuple(
            c.value for c in self.clauses if not c.negated and c.key in ("", "text", *TEXT_FILTERS)
        )

    @property
    def has_text(self) -> bool:
        return any(not c.negated and c.key == "" for c in self.clauses)

    def __bool__(self) -> bool:
        return bool(self.clauses)


def parse(q: str) -> SearchQuery:
    """`q` as clauses; raises `QuerySyntaxError` at the first one that cannot be used."""
    if len(q) > MAX_FILTER_CHARS:
        raise QuerySyntaxError(f"at most {MAX_FILTER_CHARS} characters", position=MAX_FILTER_CHARS)
    if "\x00" in q:
        raise QuerySyntaxError("contains a NUL character", position=q.index("\x00"))
    clauses: list[Clause] = []
    i = 0
    while i < len(q):
        if q[i].isspace():
            i += 1
            continue
        clause, i = _clause(q, i)
        if clause is not None:
            clauses.append(clause)
        if len(clauses) > MAX_CLAUSES:
            raise QuerySyntaxError(f"at most {MAX_CLAUSES} words and filters", position=i)
    return SearchQuery(tuple(clauses))


def _clause(q: str, start: int) -> tuple[Clause | None, int]:
    i, negated = start, q[start] == "-"
    if negated:
        i += 1
        if i >= len(q) or q[i].isspace():
            raise QuerySyntaxError("'-' must be followed by a word or a filter", position=start)
    key = ""
    match = _KEY.match(q, i)
    if match and match.group(1) in FILTERS:
        key, i = match.group(1), match.end()
    elif match and i + len(match.group(0)) < len(q) and not q[match.end()].isspace():
        # `colour:red` is a typo of a filter rather than a word to look for.
        raise QuerySyntaxError(
            f"unknown filter {match.group(1)!r}; use one of {', '.join(FILTERS)}", position=i
        )
    value_at = i
    value, phrase, i = _value(q, i)
    if not value.strip():
        if key:
            raise QuerySyntaxError(f"{key}: needs a value", position=start)
        return None, i
    clause = Clause(key=key, value=value.strip(), negated=negated, phrase=phrase, position=start)
    return _understood(clause, value_at), i


def _value(q: str, i: int) -> tuple[str, bool, int]:
    if i < len(q) and q[i] == '"':
        end = q.find('"', i + 1)
        if end < 0:
            raise QuerySyntaxError("a quote is not closed", position=i)
        return q[i + 1 : end], True, end + 1
    end = i
    while end < len(q) and not q[end].isspace():
        end += 1
    return q[i:end], False, end


def _understood(clause: Clause, at: int) -> Clause:
    parse_value = _PARSERS.get(clause.key)
    if parse_value is None:
        return clause
    try:
        parsed = parse_value(clause.value)
    except ValueError as exc:
        raise QuerySyntaxError(f"{clause.key}: {exc}", position=at) from None
    return Clause(**{**clause.__dict__, "parsed": parsed})


def _types(value: str) -> tuple[str, ...]:
    known = {t.value for t in AssetType}
    found = []
    for word in value.lower().split(","):
        name = TYPE_ALIASES.get(word, word)
        if name not in known:
            raise ValueError(f"unknown type {word!r}; use one of {', '.join(sorted(known))}")
        found.append(name)
    return tuple(found)


def date_range(value: str) -> tuple[datetime, datetime]:
    """`2023`, `2023-07` or `2023-07-14` as the half-open range of that year, month or day."""
    parts = value.split("-")
    try:
        if len(parts) == 1 and len(parts[0]) == 4:
            year = int(parts[0])
            return datetime(year, 1, 1), datetime(year + 1, 1, 1)
        if len(parts) == 2 and len(parts[0]) == 4:
            year, month = int(parts[0]), int(parts[1])
            start = datetime(year, month, 1)
            return start, datetime(year + month // 12, month % 12 + 1, 1)
        if len(parts) == 3 and len(parts[0]) == 4:
            start = datetime(int(parts[0]), int(parts[1]), int(parts[2]))
            return start, start + timedelta(days=1)
    except (ValueError, OverflowError):
        pass
    raise ValueError(f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")


def _near(value: str) -> Near:
    parts = value.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (2, 3) or any(n != n for n in numbers):
        raise ValueError(f"{value!r} is not lat,lon or lat,lon,km")
    lat, lon = numbers[0], numbers[1]
    km = numbers[2] if len(numbers) == 3 else DEFAULT_NEAR_KM
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("latitude is -90..90 and longitude -180..180")
    if not 0 < km <= 20_000:
        raise ValueError("the distance is more than 0 and at most 20000 km")
    return Near(lat=lat, lon=lon, km=km)


def _one_of(options: tuple[str, ...]) -> Any:
    def check(value: str) -> str:
        if value.lower() not in options:
            raise ValueError(f"unknown value {value!r}; use one of {', '.join(options)}")
        return value.lower()

    return check


def _rating(value: str) -> tuple[str, int]:
    """`4`, `>=4`, `<3`...: (comparison, stars), stars 0 to 5."""
    match = _RATING.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a rating: use 0 to 5, e.g. 4 or >=4")
    return match.group(1) or "=", int(match.group(2))


def _ext(value: str) -> str:
    if not _EXT.match(value.lower()):
        raise ValueError(f"{value!r} is not a file extension")
    return value.lower().lstrip(".")


_PARSERS: dict[str, Any] = {
    "type": _types,
    "taken": date_range,
    "after": date_range,
    "before": date_range,
    "near": _near,
    "is": _one_of(IS_VALUES),
    "has": _one_of(HAS_VALUES),
    "ext": _ext,
    "rating": _rating,
}


# Filters whose values the suggestions complete (a word typed after `tag:` looks among tags).
SUGGESTED = {"tag", "album", "person", "camera", "place"}


def current_word(text: str) -> tuple[str, str]:
    """(filter, prefix) of the last word being typed: `-tag:fam` -> ("tag", "fam")."""
    if not text or text[-1].isspace() or text.count('"') % 2:
        return "", ""
    word = text.split()[-1].lstrip("-")
    key, colon, rest = word.partition(":")
    if colon and key in FILTERS:
        return (key, rest) if key in SUGGESTED else ("", "")
    return "", word


def completed(text: str, query: str) -> str:
    """`text` with its last word replaced by a suggestion's filter (a leading `-` kept)."""
    head, _, last = text.rpartition(" ")
    negated = "-" if last.startswith("-") else ""
    return f"{head} {negated}{query} ".lstrip()
