"""Uploads in flight and what each user has uploaded: the rows behind quotas and resumable
uploads. An upload in flight is an asset with status `uploading` and no location yet (no root,
no path), so no scan or watcher ever sees it; it gets its place when its last byte arrives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trove.db.models import Asset, Root, RootMember, User
from trove.domain.enums import AssetCategory, AssetStatus, AssetType
from trove.domain.ids import new_id
from trove.domain.paths import parent_of, storage_urn, to_stored
from trove.repositories._sql import rowcount, utcnow


class UploadRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def user(self, user_id: str) -> User | None:
        return self.session.get(User, user_id)

    def used_bytes(self, user_id: str) -> int:
        """What counts against the user's quota: the files they uploaded into upload
        libraries (present, not deleted) and the declared size of their uploads in flight."""
        in_upload_root = Asset.root_id.in_(select(Root.id).where(Root.is_upload_target))
        total = self.session.scalar(
            select(func.coalesce(func.sum(Asset.size), 0)).where(
                Asset.owner_id == user_id,
                Asset.deleted_at.is_(None),
                Asset.asset_type != AssetType.COLLECTION,
                or_(
                    Asset.status == AssetStatus.UPLOADING,
                    and_(in_upload_root, Asset.status != AssetStatus.MISSING),
                ),
            )
        )
        return int(total or 0)

    def writable_roots(self, user_id: str, *, is_admin: bool) -> list[Root]:
        """Upload libraries the user may put files in: an admin any, a member those assigned
        to them with `can_write`."""
        query = select(Root).where(Root.is_upload_target).order_by(Root.name)
        if not is_admin:
            query = query.where(
                Root.id.in_(
                    select(RootMember.root_id).where(
                        RootMember.user_id == user_id, RootMember.can_write
                    )
                )
            )
        return list(self.session.scalars(query))

    def begin(self, *, owner_id: str, filename: str, size: int, modified: datetime | None) -> str:
        """An asset that is `uploading`: listed from now on, placed when complete."""
        now = utcnow()
        asset_id = new_id()
        self.session.add(
            Asset(
                id=asset_id,
                owner_id=owner_id,
                filename=filename,
                size=size,
                status=AssetStatus.UPLOADING,
                category=AssetCategory.PHYSICAL,
                asset_type=AssetType.OTHER,
                storage_urn=f"upload:{asset_id}",
                thumbnails={},
                meta={},
                timeline_at=modified or now,
                created_at=now,
                updated_at=now,
            )
        )
        return asset_id

    def in_flight(self, asset_id: str) -> Asset | None:
        asset = self.session.get(Asset, asset_id)
        if asset is None or asset.status != AssetStatus.UPLOADING:
            return None
        return asset

    def all_in_flight(self) -> list[Asset]:
        return list(
            self.session.scalars(select(Asset).where(Asset.status == AssetStatus.UPLOADING))
        )

    def claim_path(self, asset_id: str, *, root: Root, rel_path: str) -> bool:
        """Give the upload its place, unless another asset holds that path (then False, and
        nothing changed): the database's unique (root, path) decides between racing uploads."""
        stored, escaped = to_stored(rel_path)
        try:
            with self.session.begin_nested():
                self.session.execute(
                    update(Asset)
                    .where(Asset.id == asset_id)
                    .values(
                        root_id=root.id,
                        rel_path=stored,
                        path_escaped=escaped,
                        filename=stored.rpartition("/")[2],
                        storage_urn=storage_urn(root.path, stored),
                        updated_at=utcnow(),
                    )
                )
        except IntegrityError:
            return False
        return True

    def put_in_folder(self, asset_id: str) -> None:
        """The placed upload joins its folder (the `contains` edge a scan would have made for
        a new file; the upload's record existed before its file did)."""
        from trove.repositories.sync import SyncRepository

        asset = self.session.get(Asset, asset_id)
        if asset is None or asset.root_id is None or asset.rel_path is None:
            return
        parent = self.session.scalar(
            select(Asset.id).where(
                Asset.root_id == asset.root_id,
                Asset.rel_path == parent_of(asset.rel_path),
                Asset.asset_type == AssetType.COLLECTION,
            )
        )
        if parent is not None:
            SyncRepository(self.session).rehome([(asset_id, parent)])

    def forget(self, asset_id: str) -> bool:
        """Drop an upload that never completed (cancelled, expired, or refused at the end)."""
        result = self.session.execute(
            delete(Asset).where(Asset.id == asset_id, Asset.status == AssetStatus.UPLOADING)
        )
        return rowcount(result) > 0
