"""Breadcrumbs 2.0 (seed 5.3): where an asset sits, as parts a person can click.

A file: its library, each folder down to it, then the file (`Photos > 2023 > Holiday >
IMG_0042.jpg`). An album: "Albums", the albums it is inside, then the album. Anything else
(a proxy, an entity): its name alone.
"""

from __future__ import annotations

from typing import Any

from trove.db.database import Database
from trove.db.models import Asset
from trove.domain.access import Viewer
from trove.domain.enums import AssetCategory, AssetType
from trove.domain.paths import display, from_stored
from trove.domain.serialize import asset_summary
from trove.repositories.albums import AlbumRepository
from trove.repositories.assets import AssetRepository
from trove.repositories.roots import RootRepository
from trove.services.errors import NotFound


class Breadcrumbs:
    def __init__(self, database: Database) -> None:
        self.database = database

    def of(self, asset_id: str, *, viewer: Viewer) -> list[dict[str, Any]]:
        """Outermost first; each part `{"label", "kind", "id", "root_id", "path"}` where kind
        is library / folder / albums / album / asset. An album's trail stops below the first
        album above it the viewer may not see (its name is not theirs to read)."""
        with self.database.session() as session:
            asset = AssetRepository(session).visible(asset_id, viewer)
            if asset is None:
                raise NotFound(f"no asset with id {asset_id!r}")
            name = asset_summary(asset)["filename"]
            if asset.root_id is not None and asset.rel_path is not None:
                parts = self._folders(session, asset)
            elif (
                asset.asset_type == AssetType.COLLECTION and asset.category == AssetCategory.VIRTUAL
            ):
                parts = self._albums(session, asset, viewer)
            else:
                parts = []
            kind = "album" if parts and parts[0]["kind"] == "albums" else "asset"
            return [*parts, _part(asset.title or name, kind, id=asset.id)]

    @staticmethod
    def _folders(session: Any, asset: Asset) -> list[dict[str, Any]]:
        root = RootRepository(session).get(asset.root_id or "")
        if root is None:
            return []
        segments = (asset.rel_path or "").split("/")[:-1]
        prefixes = ["/".join(segments[: i + 1]) for i in range(len(segments))]
        folders = AssetRepository(session).folders_at(root.id, ["", *prefixes])
        parts = [_part(root.name, "library", id=folders.get(""), root_id=root.id, path="")]
        for segment, prefix in zip(segments, prefixes, strict=True):
            label = display(from_stored(segment, escaped=asset.path_escaped))
            parts.append(
                _part(label, "folder", id=folders.get(prefix), root_id=root.id, path=prefix)
            )
        return parts

    @staticmethod
    def _albums(session: Any, album: Asset, viewer: Viewer) -> list[dict[str, Any]]:
        above = AlbumRepository(session, viewer=viewer).ancestors(album.id)
        return [_part("Albums", "albums"), *(_part(a.filename, "album", id=a.id) for a in above)]


def _part(
    label: str, kind: str, *, id: str | None = None, root_id: str | None = None, path: str = ""
) -> dict[str, Any]:
    return {"label": label, "kind": kind, "id": id, "root_id": root_id, "path": path}
