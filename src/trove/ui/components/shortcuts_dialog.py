"""The `?` dialog: every keyboard shortcut (trove/ui/shortcuts.py), grouped by where it works.

Built when asked for, not with every page: static/trove.js emits `trove_shortcuts` on `?`.
"""

from __future__ import annotations

from nicegui import ui

from trove.ui.shortcuts import Shortcut, by_place


def show_shortcuts() -> None:
    with ui.dialog() as dialog, ui.card().classes("trove-shortcuts q-pa-lg gap-2"):
        with ui.row().classes("items-center no-wrap w-full"):
            ui.label("Keyboard shortcuts").classes("text-h6")
            ui.space()
            ui.button(icon="close", on_click=dialog.close).props(
                "flat round dense aria-label=Close"
            )
        for place, shortcuts in by_place().items():
            ui.label(place).classes("trove-filter-title q-mt-sm")
            with ui.element("div").classes("trove-shortcut-list"):
                for shortcut in shortcuts:
                    _line(shortcut)
    dialog.on_value_change(lambda e: None if e.value else dialog.delete())
    dialog.open()


def _line(shortcut: Shortcut) -> None:
    with ui.row().classes("items-center no-wrap gap-1"):
        for i, combination in enumerate(shortcut.keys):
            if i:
                ui.label("or").classes("trove-shortcut-sep")
            for j, key in enumerate(_caps(combination)):
                if j:
                    ui.label("+").classes("trove-shortcut-sep")
                ui.label(key).classes("trove-kbd")
    ui.label(shortcut.action).classes("trove-shortcut-action")


def _caps(combination: str) -> list[str]:
    """The keycaps of "Ctrl+A" (a lone "+" is one key)."""
    return combination.split("+") if len(combination) > 1 else [combination]
