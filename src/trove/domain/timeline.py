"""Where a file sits on the timeline, and what said so (no I/O).

In order of trust: the capture time the file records (EXIF, XMP, IPTC, QuickTime, PDF: the
metadata processor), else the one a sidecar beside it records (an XMP sidecar, Google
Takeout's JSON: the sidecar processor), a date in the file's name (`IMG_20190814_153012.jpg`,
`IMG-20190814-WA0001.jpg`, `Screenshot_20190814-153012.png`, ...), a date in a folder's name
(`2019-08-14 Trip/`, `2019/08/`), the file's modification time. Never the moment Trove indexed
the file: an mtime that cannot be true (before 1971, or later than the scan that saw it) leaves
the file *undated*, sorted after every dated one and shown apart. Times from names are
wall-clock times, like EXIF without an offset.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple


class TimelineSource(StrEnum):
    EXIF = "exif"
    XMP = "xmp"
    IPTC = "iptc"
    QUICKTIME = "quicktime"
    DOCUMENT = "document"  # a PDF's own creation date
    SIDECAR = "sidecar"  # an XMP sidecar's capture time, for a file that records none
    TAKEOUT = "takeout"  # Google Takeout's photoTakenTime, for a file that records none
    FILENAME = "filename"
    FOLDER = "folder"
    MTIME = "mtime"
    NONE = "none"


# The undated sort after every dated asset in the gallery's newest-first order: one fixed,
# earliest value keeps the column NOT NULL (both databases order NULLs differently, and the
# keyset cursor compares values), and it is never shown: the API says null.
UNDATED_AT = datetime(1, 1, 1)
_EARLIEST_MTIME = datetime(1971, 1, 1)
_CLOCK_SLACK = timedelta(days=1)


# Sources that came from the file itself: a sidecar's capture time does not replace them.
FROM_THE_FILE = frozenset(
    {
        TimelineSource.EXIF,
        TimelineSource.XMP,
        TimelineSource.IPTC,
        TimelineSource.QUICKTIME,
        TimelineSource.DOCUMENT,
    }
)


class Placed(NamedTuple):
    at: datetime
    source: TimelineSource


# A date (YYYYMMDD, YYYY-MM-DD, YYYY_MM_DD, YYYY.MM.DD) not inside a longer number, then
# optionally a time (HHMMSS, HH-MM-SS, HH.MM.SS, "at 3.04.05 PM").
_NAME_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<s>[-_.]?)(?P<m>[01]\d)(?P=s)(?P<d>[0-3]\d)"
    r"(?:(?:[-_ T]|\sat\s)?(?P<H>[0-2]?\d)(?P<t>[-_.:]?)(?P<M>[0-5]\d)(?P=t)(?P<S>[0-5]\d)"
    r"(?:\d{0,3})(?:\s?(?P<ampm>[AaPp][Mm]))?)?(?!\d)"
)
_FOLDER_DATE = re.compile(r"^(?P<y>(?:19|20)\d\d)([-_. ]?)(?P<m>[01]\d)(?:\2(?P<d>[0-3]\d))?(?!\d)")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_MONTH = re.compile(r"^(?:0[1-9]|1[0-2])(?!\d)")


def place(rel_path: str, *, mtime: datetime | None, seen_at: datetime) -> Placed:
    """The timeline position a scan gives a file before its metadata is read."""
    folders, _, name = rel_path.rpartition("/")
    latest = seen_at + _CLOCK_SLACK
    named = date_in_name(name, latest=latest)
    if named is not None:
        return Placed(named, TimelineSource.FILENAME)
    foldered = date_in_folders(folders, latest=latest)
    if foldered is not None:
        return Placed(foldered, TimelineSource.FOLDER)
    if mtime is not None and _EARLIEST_MTIME <= mtime <= latest:
        return Placed(mtime, TimelineSource.MTIME)
    return Placed(UNDATED_AT, TimelineSource.NONE)


def date_in_name(name: str, *, latest: datetime) -> datetime | None:
    """The first plausible date (and time, when it follows) in a file name."""
    for match in _NAME_DATE.finditer(name):
        found = _moment(match, latest=latest)
        if found is not None:
            return found
    return None


def date_in_folders(folders: str, *, latest: datetime) -> datetime | None:
    """A date that starts the nearest folder name holding one (`2019-08-14 Trip`,
    `2019-08 Holiday`), or a `YYYY/MM` pair of folders."""
    for found in _folder_dates(folders):
        if found <= latest:
            return found
    return None


@functools.lru_cache(maxsize=4096)
def _folder_dates(folders: str) -> tuple[datetime, ...]:
    """Every valid date the folders name, nearest folder first (a scan asks once per folder,
    not once per file)."""
    dates: list[datetime] = []
    parts = [p for p in folders.split("/") if p]
    for i in range(len(parts) - 1, -1, -1):
        match = _FOLDER_DATE.match(parts[i])
        if match:
            found = _date(match["y"], match["m"], match["d"] or "01", latest=datetime.max)
            if found is not None:
                dates.append(found)
        if i > 0 and _MONTH.match(parts[i]) and _YEAR.match(parts[i - 1]):
            found = _date(parts[i - 1], parts[i][:2], "01", latest=datetime.max)
            if found is not None:
                dates.append(found)
    return tuple(dates)


def _moment(match: re.Match[str], *, latest: datetime) -> datetime | None:
    day = _date(match["y"], match["m"], match["d"], latest=latest)
    if day is None or match["H"] is None:
        return day
    hour = int(match["H"])
    if match["ampm"]:
        if not 1 <= hour <= 12:
            return day
        hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    if hour > 23:
        return day
    return day.replace(hour=hour, minute=int(match["M"]), second=int(match["S"]))


def _date(year: str, month: str, day: str, *, latest: datetime) -> datetime | None:
    try:
        found = datetime(int(year), int(month), int(day))
    except ValueError:
        return None
    return found if found <= latest else None
