"""Keyboard shortcuts: the one list the `?` dialog shows (components/shortcuts_dialog.py).

A page or component that answers a key adds its line here, so that the list stays whole. The
keys are handled where they act: `/`, `?` and Ctrl+A in static/trove.js (the grid selects on
Ctrl+A), the lightbox's in components/viewer.py.
"""

from __future__ import annotations

from dataclasses import dataclass

EVERYWHERE = "Everywhere"
GALLERY = "Gallery"
LIGHTBOX = "Lightbox"


@dataclass(frozen=True)
class Shortcut:
    keys: tuple[str, ...]  # alternatives, each as on the keycaps ("Ctrl+A": held together)
    action: str
    where: str


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut(("/",), "Search", EVERYWHERE),
    Shortcut(("?",), "Show these shortcuts", EVERYWHERE),
    Shortcut(("Ctrl+A", "⌘+A"), "Select everything loaded", GALLERY),
    Shortcut(("←", "→"), "Previous / next", LIGHTBOX),
    Shortcut(("Esc",), "Close", LIGHTBOX),
    Shortcut(("F",), "Favourite", LIGHTBOX),
    Shortcut(("R, then 0 to 5",), "Rate", LIGHTBOX),
    Shortcut(("Delete",), "Move to the Trash", LIGHTBOX),
    Shortcut(("Z", "Double-click"), "Zoom to 1:1 (the original) / fit again", LIGHTBOX),
    Shortcut(("Space",), "Slideshow: play / pause", LIGHTBOX),
)


def by_place(shortcuts: tuple[Shortcut, ...] = SHORTCUTS) -> dict[str, list[Shortcut]]:
    """The shortcuts grouped by where they work, in the order the list first names each."""
    groups: dict[str, list[Shortcut]] = {}
    for shortcut in shortcuts:
        groups.setdefault(shortcut.where, []).append(shortcut)
    return groups
