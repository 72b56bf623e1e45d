"""`/picker?types=image&multiple=1[&album=<id>]`: the asset picker as a page another
application opens in a window or a frame (docs/picker.md).

What the user picks is posted to the opener (or the parent frame) as
`{"type": "trove:picked", "origin": ..., "assets": [...]}` (ui/picker_message.py); Cancel posts
`{"type": "trove:cancelled"}`. Messages go only to this site's origin and the origins in
TROVE_PICKER_ORIGINS, which are also the only pages allowed to frame this one
(api/web_safety.py).
"""

from __future__ import annotations

import json
from typing import Any

from nicegui import ui

from trove.api.schemas import PickedAsset
from trove.domain.filters import FILE_TYPES
from trove.ui.components.asset_picker import asset_picker
from trove.ui.context import services
from trove.ui.layout import embedded_frame
from trove.ui.picker_message import CANCELLED, picked_message, target_origins

TRUE = ("1", "true", "yes", "on")


class PickerPage:
    def __init__(self) -> None:
        self.allowed = services().settings.picker_origin_list

    def build(self, *, types: list[str], multiple: bool, album: str | None) -> None:
        with embedded_frame(title="Choose from Trove"):
            asset_picker(
                self._picked, multiple=multiple, types=types, album=album, on_cancel=self._cancel
            )
            where = ", ".join(["this site", *self.allowed])
            ui.label(f"Picks are sent to: {where}").classes("trove-picker-where")

    async def _picked(self, assets: list[PickedAsset]) -> None:
        origin = await ui.run_javascript("return location.origin", timeout=5)
        message = picked_message(assets, origin=str(origin))
        if await self._post(message, origin=str(origin)):
            ui.notify(f"Picked {len(assets)} item(s)", type="positive", position="bottom")

    async def _cancel(self) -> None:
        origin = await ui.run_javascript("return location.origin", timeout=5)
        await self._post({"type": CANCELLED}, origin=str(origin))

    async def _post(self, message: dict[str, Any], *, origin: str) -> bool:
        origins = target_origins(origin, self.allowed)
        posted = await ui.run_javascript(
            f"return trovePost({json.dumps(message)}, {json.dumps(origins)})", timeout=10
        )
        if not posted:
            ui.notify(
                "No application to hand the pick to: open this page from one (docs/picker.md).",
                type="warning",
            )
        return bool(posted)


async def picker_page(types: str = "", multiple: str = "0", album: str | None = None) -> None:
    """`types`: asset types, comma-separated (`image,video`; none: every kind of file);
    `multiple=1`: several at once; `album`: the album it opens on."""
    wanted = [t.strip() for t in types.split(",") if t.strip() in FILE_TYPES]
    PickerPage().build(types=wanted, multiple=multiple.lower() in TRUE, album=album or None)
