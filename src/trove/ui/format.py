"""Numbers and times as people read them (no I/O, no NiceGUI)."""

from __future__ import annotations

from datetime import datetime


def human_size(size: int | None) -> str | None:
    if size is None:
        return None
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return None


def human_duration(seconds: float | None) -> str | None:
    if not seconds:
        return None
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def human_time(iso: str | None) -> str | None:
    """An ISO timestamp from the API as "14 May 2023, 10:02" (UTC, as the index keeps it)."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return moment.strftime("%-d %b %Y, %H:%M")
