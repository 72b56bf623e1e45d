"""What an admin changes about a library: its rules, who it is assigned to, and forgetting it
(its records, never its files)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from trove.db.models import Asset, AssetTag, Link, Root, RootMember, User
from trove.domain.enums import AssetType, Relation


class LibraryAdminRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def root(self, root_id: str) -> Root | None:
        return self.session.get(Root, root_id)

    def forgettable(self, root_id: str) -> dict[str, int]:
        """What forgetting the library drops: its files' and folders' records, the tags
        set on them, and their places in albums."""
        in_root = select(Asset.id).where(Asset.root_id == root_id)
        folders = self.session.scalar(
            select(func.count()).where(
                Asset.root_id == root_id, Asset.asset_type == AssetType.COLLECTION
            )
        )
        everything = self.session.scalar(select(func.count()).where(Asset.root_id == root_id))
        tags = self.session.scalar(
            select(func.count()).select_from(AssetTag).where(AssetTag.asset_id.in_(in_root))
        )
        memberships = self.session.scalar(
            select(func.count())
            .select_from(Link)
            .where(Link.relation == Relation.INCLUDES, Link.target_id.in_(in_root))
        )
        return {
            "files": int(everything or 0) - int(folders or 0),
            "folders": int(folders or 0),
            "tags": int(tags or 0),
            "album_memberships": int(memberships or 0),
        }

    def asset_ids(self, root_id: str, *, limit: int) -> list[str]:
        return list(
            self.session.scalars(select(Asset.id).where(Asset.root_id == root_id).limit(limit))
        )

    def delete_assets(self, asset_ids: Sequence[str]) -> None:
        """Rows that reference an asset by key (tags, steps, findings, grants) go with it."""
        self.session.execute(delete(Asset).where(Asset.id.in_(asset_ids)))

    def delete_root(self, root_id: str) -> None:
        self.session.execute(delete(Root).where(Root.id == root_id))

    def set_rules(
        self,
        root_id: str,
        *,
        include_globs: list[str] | None,
        exclude_globs: list[str] | None,
        is_upload_target: bool | None,
    ) -> None:
        values: dict[str, object] = {}
        if include_globs is not None:
            values["include_globs"] = include_globs
        if exclude_globs is not None:
            values["exclude_globs"] = exclude_globs
        if is_upload_target is not None:
            values["is_upload_target"] = is_upload_target
        if values:
            self.session.execute(update(Root).where(Root.id == root_id).values(**values))

    def members(self, root_id: str) -> list[tuple[RootMember, User]]:
        rows = self.session.execute(
            select(RootMember, User)
            .join(User, User.id == RootMember.user_id)
            .where(RootMember.root_id == root_id)
            .order_by(User.name)
        )
        return [(member, user) for member, user in rows]

    def users(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.name)))

    def user(self, user_id: str) -> User | None:
        return self.session.get(User, user_id)

    def set_member(self, root_id: str, user_id: str, *, can_write: bool) -> None:
        member = self.session.get(RootMember, (root_id, user_id))
        if member is None:
            self.session.add(RootMember(root_id=root_id, user_id=user_id, can_write=can_write))
        else:
            member.can_write = can_write

    def remove_member(self, root_id: str, user_id: str) -> bool:
        member = self.session.get(RootMember, (root_id, user_id))
        if member is None:
            return False
        self.session.delete(member)
        return True
