"""The Trash: what people deleted (soft: `deleted_at` set), to restore or to forget.

Deleting hides an asset everywhere (listings, search, albums, timeline, map, duplicates) and
keeps its record, so a rescan does not bring the file back and restoring returns it with its
tags, albums and links. Forgetting drops the record for good; the file is never touched, so a
forgotten file that is still inside a library is indexed again, as new, by the next scan (the
Trash page says so). Who may do what: anyone who may change an asset (domain/access.py)
restores it; only the owner or an admin forgets (it loses what people typed about it).
"""

from __future__ import annotations

from collections.abc import Sequence

from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.repositories.assets import AssetRepository
from trove.services.assets import AssetPage, AssetService
from trove.services.errors import Conflict, Forbidden, NotFound

# Forgetting the whole Trash goes in transactions of this many records.
EMPTY_BATCH = 500


class TrashService:
    def __init__(self, database: Database, *, assets: AssetService) -> None:
        self.database = database
        self.assets = assets

    def list(self, *, viewer: Viewer, limit: int = 100, cursor: str | None = None) -> AssetPage:
        """One page of the deleted assets the viewer may see, newest first."""
        filters = AssetFilters(deleted=True, limit=limit, cursor=cursor)
        return self.assets.list(filters, viewer=viewer)

    def restore(self, asset_ids: Sequence[str], *, viewer: Viewer) -> int:
        """Back where they were (same id, tags, albums); returns how many were in the Trash
        and the viewer's to change (others are ignored: a selection may be stale)."""
        with self.database.session() as session:
            repo = AssetRepository(session)
            trashed = [
                a
                for a in repo.changeable_many(list(dict.fromkeys(asset_ids)), viewer=viewer)
                if a.deleted_at is not None
            ]
            for asset in trashed:
                repo.restore(asset)
            return len(trashed)

    def forget(self, asset_id: str, *, viewer: Viewer) -> None:
        """Drop one record from the Trash for good (its file stays where it is)."""
        with self.database.session() as session:
            asset = AssetRepository(session).visible(asset_id, viewer, include_deleted=True)
            if asset is None:
                raise NotFound(f"no asset with id {asset_id!r}")
            if asset.deleted_at is None:
                raise Conflict("only an asset in the Trash can be forgotten: delete it first")
            if not viewer.may_manage(asset.owner_id):
                raise Forbidden("only the asset's owner or an admin may forget it")
            self.assets.drop_record(session, asset)

    def empty(self, *, viewer: Viewer) -> int:
        """Forget everything in the Trash this viewer may forget; returns how many."""
        if viewer.share is not None or not (viewer.is_admin or viewer.user_id):
            return 0
        owner = None if viewer.is_admin else viewer.user_id  # an admin: everyone's
        forgotten = 0
        while True:
            with self.database.session() as session:
                batch = AssetRepository(session).trashed(owner_id=owner, limit=EMPTY_BATCH)
                for asset in batch:
                    self.assets.drop_record(session, asset)
            forgotten += len(batch)
            if len(batch) < EMPTY_BATCH:
                return forgotten
