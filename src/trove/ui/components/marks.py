"""A heart and 0 to 5 stars for one asset: the lightbox's toolbar places them.

Both are views of `metadata.gallery` (AssetService.update with `favorite` / `rating`), so the
grid's heart, the API and export see the same marks. `toggle_favorite` and `rate` are what the
lightbox's `f` and `r` keys call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from trove.services.assets import AssetPatch
from trove.services.errors import Invalid, NotFound
from trove.ui.context import call, current_viewer, services

STARS = 5


class AssetMarks:
    def __init__(self, *, on_changed: Callable[[dict[str, Any]], Any], dark: bool = True) -> None:
        """`on_changed(asset)` hears the asset as saved (the grid patches its tile)."""
        self.on_changed = on_changed
        self.asset: dict[str, Any] | None = None
        color = "white" if dark else "grey-8"
        with ui.row().classes("items-center no-wrap gap-0 trove-marks") as self.row:
            self.heart = ui.button(icon="favorite_border", on_click=self.toggle_favorite)
            self.heart.props(f"flat round color={color} aria-label=Favourite aria-pressed=false")
            self.heart.classes("trove-marks-heart").tooltip("Favourite (f)")
            self.stars = [
                ui.button(icon="star_border", on_click=lambda n=n: self.rate(n))
                .props(f"flat round dense color={color} aria-label='{n} star{'s' * (n > 1)}'")
                .classes("trove-marks-star")
                for n in range(1, STARS + 1)
            ]
        self.row.set_visibility(False)

    def show(self, asset: dict[str, Any] | None) -> None:
        """The asset now open (None hides the marks: a folder, an album)."""
        self.asset = asset
        self.row.set_visibility(asset is not None and asset.get("asset_type") != "collection")
        if asset is None:
            return
        favorite, rating = bool(asset.get("favorite")), int(asset.get("rating") or 0)
        self.heart.props(f"icon={'favorite' if favorite else 'favorite_border'}")
        self.heart.props(f"aria-pressed={'true' if favorite else 'false'}")
        _lit(self.heart, on=favorite)
        for n, star in enumerate(self.stars, start=1):
            star.props(f"icon={'star' if n <= rating else 'star_border'}")
            _lit(star, on=n <= rating)

    async def toggle_favorite(self) -> None:
        if self.asset is not None:
            await self._save(AssetPatch(favorite=not self.asset.get("favorite")))

    async def rate(self, stars: int | None = None) -> None:
        """`stars` 0 to 5; the same again clears it. None (the `r` key) steps 1 → 5 → 0."""
        if self.asset is None:
            return
        current = int(self.asset.get("rating") or 0)
        if stars is None:
            stars = (current + 1) % (STARS + 1)
        elif stars == current:
            stars = 0
        await self._save(AssetPatch(rating=stars))

    async def _save(self, patch: AssetPatch) -> None:
        assert self.asset is not None
        try:
            saved = await call(
                services().assets.update, self.asset["id"], patch, viewer=current_viewer()
            )
        except (Invalid, NotFound) as exc:
            ui.notify(str(exc), type="negative")
            return
        self.show(saved)
        self.on_changed(saved)


def _lit(button: ui.button, *, on: bool) -> None:
    button.classes(remove="trove-marks-on")
    if on:
        button.classes("trove-marks-on")
