"""Building graphs for tests: assets written straight into the index, links through the service."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trove.db.database import Database
from trove.domain.enums import AssetCategory, AssetStatus, AssetType
from trove.domain.ids import new_id
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository


def asset_row(name: str, *, asset_type: str = AssetType.IMAGE) -> dict[str, Any]:
    now = utcnow()
    folder = asset_type == AssetType.COLLECTION
    return {
        "id": new_id(),
        "filename": name,
        "asset_type": asset_type,
        "category": AssetCategory.COMPOSITE if folder else AssetCategory.PHYSICAL,
        "status": AssetStatus.READY,
        "storage_urn": f"fs://local/test/{name}",
        "meta": {},
        "thumbnails": {},
        "timeline_at": now,
        "created_at": now,
        "updated_at": now,
    }


def make_assets(
    database: Database, names: Iterable[str], *, asset_type: str = AssetType.IMAGE
) -> dict[str, str]:
    """name -> id of new ready assets (no files behind them: the graph does not need any)."""
    rows = [asset_row(name, asset_type=asset_type) for name in names]
    with database.session() as session:
        repo = AssetRepository(session)
        for start in range(0, len(rows), 5000):
            repo.insert_many(rows[start : start + 5000])
    return {row["filename"]: row["id"] for row in rows}
