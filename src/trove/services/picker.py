"""PickerService: what the asset picker hands back for the assets a user chose.

Each asset as GET /api/dam/assets/{id} shows it to that user, plus the links anyone may open
where one exists: a live share link of that asset alone, without a password, made by the user
(an admin: by anyone). Trove's `public` visibility means "every signed-in user", not the web,
so it gives no such link by itself (docs/picker.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trove.db.database import Database
from trove.domain.access import ShareScope, Viewer
from trove.repositories.shares import ShareRepository
from trove.services.assets import AssetService
from trove.services.errors import NotFound
from trove.services.shares import SHARE_PAGE, shared_asset

# How many assets one pick may hand back (a "select all" over a large listing stops here).
MAX_PICKED = 500


class PickerService:
    def __init__(self, database: Database, *, assets: AssetService) -> None:
        self.database = database
        self.assets = assets

    def picked(self, asset_ids: Sequence[str], *, viewer: Viewer) -> list[dict[str, Any]]:
        """The chosen assets in the order given, each once; one the viewer no longer sees (or
        that was deleted since the grid showed it) is left out rather than failing the pick."""
        found: list[dict[str, Any]] = []
        for asset_id in dict.fromkeys(asset_ids[:MAX_PICKED]):
            try:
                asset = self.assets.get(asset_id, viewer=viewer)
            except NotFound:
                continue
            if not asset.get("deleted"):
                found.append(asset)
        shares = self._open_shares([a["id"] for a in found], viewer=viewer)
        return [{**asset, **_public_links(asset, shares.get(asset["id"]))} for asset in found]

    def _open_shares(self, asset_ids: list[str], *, viewer: Viewer) -> dict[str, tuple[str, bool]]:
        """Asset id -> (token, allows downloads) of the share link it is picked with."""
        if not asset_ids or viewer.share is not None:
            return {}
        if viewer.user_id is None and not viewer.is_admin:
            return {}
        owner = None if viewer.is_admin else viewer.user_id
        with self.database.session() as session:
            shares = ShareRepository(session).open_links(asset_ids, created_by=owner)
            return {asset_id: (s.token, s.allow_download) for asset_id, s in shares.items()}


_NO_LINKS: dict[str, Any] = {"public_url": None, "public_file_url": None, "public_thumbnails": {}}


def _public_links(asset: dict[str, Any], share: tuple[str, bool] | None) -> dict[str, Any]:
    """The share's page, and its URLs of the previews and (when it allows downloads) the file."""
    if share is None:
        return _NO_LINKS
    token, allow_download = share
    scope = ShareScope(
        share_id="",
        asset_id=asset["id"],
        is_album=False,
        allow_download=allow_download,
        owner_id=None,  # only its URLs are made from it
    )
    shown = shared_asset(token, asset, scope=scope)
    return {
        "public_url": SHARE_PAGE + token,
        "public_file_url": shown["file_url"],
        "public_thumbnails": shown["thumbnails"],
    }
