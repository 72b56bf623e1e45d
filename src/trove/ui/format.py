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


def exposure(seconds: float | None) -> str | None:
    """1/250 s, 1/8 s, 0.3 s, 2 s, 30 s: fractions below a third of a second, as cameras do."""
    if seconds is None or seconds <= 0:
        return None
    if seconds < 0.3:
        return f"1/{round(1 / seconds)} s"
    return f"{seconds:.1f}".rstrip("0").rstrip(".") + " s"


def aperture(f_number: float | None) -> str | None:
    """f/1.8, f/2, f/11."""
    if f_number is None or f_number <= 0:
        return None
    return "f/" + f"{f_number:.1f}".rstrip("0").rstrip(".")


def millimetres(length: float | None) -> str | None:
    if length is None or length <= 0:
        return None
    return f"{length:.1f}".rstrip("0").rstrip(".") + " mm"


def coordinates(lat: float, lon: float) -> str:
    """48.85822° N, 2.29450° W: five decimals are about a metre."""
    north = "N" if lat >= 0 else "S"
    east = "E" if lon >= 0 else "W"
    return f"{abs(lat):.5f}\u00b0 {north}, {abs(lon):.5f}\u00b0 {east}"
