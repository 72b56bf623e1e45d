"""The header's search box: the search language (domain/search_query.py) with suggestions as
you type (tags, albums, people, cameras, places) for the word being typed.

Suggestions are fetched by the browser from GET /api/dam/search/suggestions, so they are
counted over what the signed-in viewer may see, like the results. Their values come from files
(EXIF, IPTC) and are shown as text, never as HTML.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nicegui import ui

from trove.domain.search_query import completed, current_word

PLACEHOLDER = 'Search: beach, type:video, tag:…, camera:"…", taken:2023-07, -draft'
ICONS = {"tag": "sell", "album": "photo_album", "person": "person", "camera": "photo_camera"}
MIN_CHARS = 2


class SearchBox:
    def __init__(self, *, on_search: Callable[[str], object] | None) -> None:
        self.on_search = on_search
        self.input = (
            ui.input(placeholder=PLACEHOLDER)
            .props("dense outlined rounded clearable debounce=300 type=search autocomplete=off")
            .classes("trove-search")
        )
        with self.input.add_slot("prepend"):
            ui.icon("search")
        with self.input:
            self.menu = ui.menu().props("no-focus no-parent-event fit").classes("trove-suggest")
        self.input.on_value_change(self._changed)

    async def _changed(self, event: Any) -> None:
        text = event.value or ""
        if self.on_search is not None:
            self.on_search(text)
        await self._suggest(text)

    async def _suggest(self, text: str) -> None:
        key, prefix = current_word(text)
        if len(prefix) < MIN_CHARS:
            self.menu.close()
            return
        found = await self._fetch(prefix)
        items = [s for s in found if not key or s.get("kind") == key]
        self.menu.clear()
        if not items:
            self.menu.close()
            return
        with self.menu:
            for item in items:
                self._item(text, item)
        self.menu.open()

    async def _fetch(self, prefix: str) -> list[dict[str, Any]]:
        try:
            answer = await ui.run_javascript(
                "return fetch('/api/dam/search/suggestions?limit=4&q=' + "
                f"encodeURIComponent({_js_string(prefix)}))"
                ".then(r => r.ok ? r.json() : {items: []})",
                timeout=5,
            )
        except TimeoutError:
            return []
        return list((answer or {}).get("items") or [])

    def _item(self, text: str, item: dict[str, Any]) -> None:
        query = str(item.get("query", ""))
        with ui.item(on_click=lambda: self._pick(text, query)).classes("trove-suggestion"):
            with ui.item_section().props("avatar"):
                ui.icon(ICONS.get(str(item.get("kind")), "place"))
            with ui.item_section():
                ui.item_label(str(item.get("value", "")))
                ui.item_label(f"{item.get('kind')} · {item.get('count')}").props("caption")

    def _pick(self, text: str, query: str) -> None:
        self.menu.close()
        self.input.value = completed(text, query)


def _js_string(value: str) -> str:
    """A JavaScript string literal of `value` (JSON, ASCII-escaped, is valid JavaScript)."""
    return json.dumps(value)
