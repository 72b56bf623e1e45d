"""LocalTime: a date shown in the browser's locale and time zone (local_time.js), so people
read "4 Jul 2021, 17:30" or "04.07.2021, 17:30" as their system writes dates."""

from __future__ import annotations

from nicegui import ui


class LocalTime(ui.element, component="local_time.js"):
    def __init__(self, iso: str, *, wall_clock: bool = False, fallback: str = "") -> None:
        """`iso`: RFC 3339; `wall_clock`: a zone-less clock reading (a camera's), not moved
        into the reader's zone; `fallback`: the text where the value is not a date."""
        super().__init__()
        self._props["iso"] = iso
        self._props["wallclock"] = wall_clock
        self._props["fallback"] = fallback
