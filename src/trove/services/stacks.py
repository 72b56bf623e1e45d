"""Stacks of copies: of the files with the same content, the one a person prefers stands for
the others in the gallery (`GET /api/dam/assets?stack=true`); the others are one click away.
No file is ever deleted: preferring is a choice of which copy to show.
"""

from __future__ import annotations

from typing import Any

from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.serialize import asset_summary
from trove.repositories.assets import AssetRepository
from trove.repositories.stacks import StackRepository
from trove.services.assets import AssetService
from trove.services.collages import hidden_collages
from trove.services.errors import Invalid, NotFound


class StackService:
    def __init__(self, database: Database, *, assets: AssetService) -> None:
        self.database = database
        self.assets = assets

    def prefer(self, content_hash: str, asset_id: str, *, viewer: Viewer) -> dict[str, Any]:
        """Show this copy for its file; the other copies stack under it."""
        with self.database.session() as session:
            asset = AssetRepository(session).visible(asset_id, viewer)
            if asset is None:
                raise NotFound(f"no asset with id {asset_id!r}")
            if asset.hash != content_hash:
                raise Invalid(f"asset {asset_id!r} is not a copy of {content_hash[:16]}…")
            StackRepository(session).prefer(content_hash, asset.id, chosen_by=viewer.user_id)
            return {"hash": content_hash, "preferred_id": asset.id}

    def members(self, asset_id: str, *, viewer: Viewer) -> list[dict[str, Any]]:
        """The copies of this asset's file the viewer sees, the preferred first (just the
        asset itself when it has no copies)."""
        with self.database.session() as session:
            asset = AssetRepository(session).visible(asset_id, viewer)
            if asset is None:
                raise NotFound(f"no asset with id {asset_id!r}")
            copies = (
                StackRepository(session).members(asset.hash, viewer=viewer) if asset.hash else []
            )
            preferred = StackRepository(session).preferred([asset.hash] if asset.hash else [])
            shown = not hidden_collages(session, [asset], viewer=viewer)  # an album: itself
            return [
                {
                    **asset_summary(a, collage_shown=shown),
                    "preferred": preferred.get(a.hash or "") == a.id,
                }
                for a in (copies or [asset])
            ]

    def compare(self, content_hash: str, *, viewer: Viewer) -> list[dict[str, Any]]:
        """Every copy of one file side by side: the asset detail of each (size, dates,
        folder, resolution, integrity), with which one is preferred."""
        with self.database.session() as session:
            ids = [a.id for a in StackRepository(session).members(content_hash, viewer=viewer)]
            preferred = StackRepository(session).preferred([content_hash]).get(content_hash)
        return [
            {**self.assets.get(asset_id, viewer=viewer), "preferred": asset_id == preferred}
            for asset_id in ids
        ]
