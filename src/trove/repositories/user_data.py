"""Reads for `trove export`: what users made, streamed in batches (a library of a million
files exports without holding it in memory)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from trove.db.models import Asset, AssetTag, Entity, Link, Root, RootMember, Share, User
from trove.domain.access import LOCAL_OWNER_ID
from trove.domain.enums import AssetCategory, AssetType, Relation, Visibility
from trove.domain.ids import new_id
from trove.repositories._sql import utcnow
from trove.repositories.albums import is_album

BATCH = 2000


class UserDataRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def physical_assets_with_user_data(
        self, writable_namespaces: Sequence[str]
    ) -> Iterator[tuple[Asset, str, list[str]]]:
        """(asset, its root's path, its own tags) for every file or folder a user uploaded,
        titled, described, tagged, shared or gave a value in a writable namespace; keyset
        batches."""
        tagged = select(AssetTag.asset_id)
        touched = or_(
            Asset.owner_id != LOCAL_OWNER_ID,  # an upload: who made it
            Asset.title.is_not(None),
            Asset.description.is_not(None),
            Asset.visibility != Visibility.PRIVATE,
            Asset.id.in_(tagged),
            *(self._has_namespace(name) for name in writable_namespaces),
        )
        for rows in self._live_files(touched):
            tags = self._tags([asset.id for asset, _ in rows])
            for asset, root_path in rows:
                yield asset, root_path, tags.get(asset.id, [])

    def files_with_found_regions(self, namespace: str) -> Iterator[list[tuple[Asset, str]]]:
        """Keyset batches of (file, its root's path) for the live files whose `namespace`
        read face regions or keeps declined ones (pipeline/found.py)."""
        found = or_(
            self._has_key(namespace, "regions"), self._has_key(namespace, "declined_regions")
        )
        for rows in self._live_files(Asset.hash.is_not(None), found):
            yield [(asset, str(root_path)) for asset, root_path in rows]

    def _live_files(self, *conditions: ColumnElement[bool]) -> Iterator[list[Any]]:
        """Keyset batches of (file, its root's path) for the live files that meet
        `conditions`, in id order."""
        after = ""
        while True:
            rows = self.session.execute(
                select(Asset, Root.path)
                .join(Root, Root.id == Asset.root_id)
                .where(Asset.is_virtual.is_(False), Asset.deleted_at.is_(None), Asset.id > after)
                .where(*conditions)
                .order_by(Asset.id)
                .limit(BATCH)
            ).all()
            if not rows:
                return
            yield list(rows)
            after = rows[-1][0].id

    def virtual_assets_with_tags(
        self, asset_types: Sequence[str]
    ) -> Iterator[tuple[Asset, list[str]]]:
        """(asset, its tags) for the live virtual assets of these types, oldest first."""
        after = ""
        while True:
            batch = list(
                self.session.scalars(
                    select(Asset)
                    .where(
                        Asset.is_virtual.is_(True),
                        Asset.deleted_at.is_(None),
                        Asset.asset_type.in_(list(asset_types)),
                        Asset.id > after,
                    )
                    .order_by(Asset.id)
                    .limit(BATCH)
                )
            )
            if not batch:
                return
            tags = self._tags([a.id for a in batch])
            for asset in batch:
                yield asset, tags.get(asset.id, [])
            after = batch[-1].id

    def virtual_assets(
        self, asset_type: str, *, owner_id: str, filename: str | None
    ) -> list[tuple[str, dict[str, Any]]]:
        """(id, metadata) of one owner's live virtual assets of a type (and name, when given),
        oldest first."""
        stmt = select(Asset.id, Asset.meta).where(
            Asset.is_virtual.is_(True),
            Asset.deleted_at.is_(None),
            Asset.asset_type == asset_type,
            Asset.owner_id == owner_id,
        )
        if filename is not None:
            stmt = stmt.where(Asset.filename == filename)
        oldest_first = stmt.order_by(Asset.created_at, Asset.id)
        return [(str(i), meta or {}) for i, meta in self.session.execute(oldest_first)]

    def shares(self) -> list[Share]:
        return list(self.session.scalars(select(Share).order_by(Share.created_at, Share.id)))

    def root_paths(self) -> list[str]:
        return [str(p) for p in self.session.scalars(select(Root.path).order_by(Root.path))]

    # --- accounts --------------------------------------------------------------------------

    def library_members(self) -> list[tuple[str, str, bool]]:
        """(library path, user id, can write) of every library assigned to a user."""
        rows = self.session.execute(
            select(Root.path, RootMember.user_id, RootMember.can_write)
            .join(RootMember, RootMember.root_id == Root.id)
            .order_by(Root.path, RootMember.user_id)
        )
        return [(path, user_id, bool(can_write)) for path, user_id, can_write in rows]

    def root_id_at(self, path: str) -> str | None:
        return self.session.scalar(select(Root.id).where(Root.path == path))

    def assign_library(self, root_id: str, user_id: str, *, can_write: bool) -> None:
        self.session.merge(RootMember(root_id=root_id, user_id=user_id, can_write=can_write))

    def set_owners(self, owners: dict[str, str]) -> None:
        """Asset id -> the user it belongs to (who uploaded it): one UPDATE per user."""
        by_user: dict[str, list[str]] = {}
        for asset_id, user_id in owners.items():
            by_user.setdefault(user_id, []).append(asset_id)
        for user_id, asset_ids in by_user.items():
            self.session.execute(
                update(Asset).where(Asset.id.in_(asset_ids)).values(owner_id=user_id)
            )

    def users(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.created_at, User.id)))

    def user_names(self) -> dict[str, str]:
        return {str(i): str(n) for i, n in self.session.execute(select(User.id, User.name))}

    def user_id_named(self, name: str) -> str | None:
        return self.session.scalar(select(User.id).where(func.lower(User.name) == name.lower()))

    def local_owner_unclaimed(self) -> bool:
        owner = self.session.get(User, LOCAL_OWNER_ID)
        return owner is not None and owner.password_hash is None

    def claim_local_owner(
        self,
        *,
        name: str,
        is_admin: bool,
        upload_quota: int | None,
        disabled_at: datetime | None,
    ) -> str:
        """The placeholder owner becomes this account (what the placeholder owns stays its)."""
        self.session.execute(
            update(User)
            .where(User.id == LOCAL_OWNER_ID)
            .values(
                name=name, is_admin=is_admin, upload_quota=upload_quota, disabled_at=disabled_at
            )
        )
        return LOCAL_OWNER_ID

    def add_user(
        self,
        *,
        name: str,
        is_admin: bool,
        upload_quota: int | None,
        disabled_at: datetime | None,
    ) -> str:
        """An account without a password (it cannot sign in until one is set)."""
        user = User(
            id=new_id(),
            name=name,
            password_hash=None,
            is_admin=is_admin,
            upload_quota=upload_quota,
            disabled_at=disabled_at,
            created_at=utcnow(),
        )
        self.session.add(user)
        self.session.flush()
        return user.id

    def set_password_if_none(self, user_id: str, password_hash: str) -> None:
        self.session.execute(
            update(User)
            .where(User.id == user_id, User.password_hash.is_(None))
            .values(password_hash=password_hash)
        )

    # --- albums ----------------------------------------------------------------------------

    def albums(self) -> list[Asset]:
        return list(
            self.session.scalars(
                select(Asset)
                .where(is_album(), Asset.deleted_at.is_(None))
                .order_by(Asset.created_at, Asset.id)
            )
        )

    def album_parents(self) -> dict[str, str]:
        """album id -> the album it is nested in."""
        parent = aliased(Asset)
        rows = self.session.execute(
            select(Link.target_id, Link.source_id)
            .join(parent, parent.id == Link.source_id)
            .where(
                Link.relation == Relation.CONTAINS,
                parent.asset_type == AssetType.COLLECTION,
                parent.category == AssetCategory.VIRTUAL,
            )
        )
        return {str(child): str(source) for child, source in rows}

    def members_in_order(self, album_id: str) -> list[str]:
        return list(
            self.session.scalars(
                select(Link.target_id)
                .where(Link.source_id == album_id, Link.relation == Relation.INCLUDES)
                .order_by(Link.position, Link.target_id)
            )
        )

    def albums_named(self, name: str, *, owner_id: str, parent_id: str | None) -> list[str]:
        """One owner's live albums of this name at this place, oldest first (what an import
        may find again for an album record)."""
        candidates = self.session.scalars(
            select(Asset.id)
            .where(is_album(), Asset.filename == name, Asset.owner_id == owner_id)
            .order_by(Asset.created_at, Asset.id)
        ).all()
        parents = self.album_parents()
        return [c for c in candidates if parents.get(c) == parent_id]

    def entities_named(self, entity_type: str, name: str) -> list[tuple[str, dict[str, Any]]]:
        """(id, metadata) of the entities of this type and name, oldest first."""
        rows = self.session.execute(
            select(Entity.id, Entity.meta)
            .where(Entity.type == entity_type, Entity.name == name)
            .order_by(Entity.created_at, Entity.id)
        )
        return [(str(i), meta or {}) for i, meta in rows]

    def entity_ids(self, ids: Sequence[str]) -> set[str]:
        return set(self.session.scalars(select(Entity.id).where(Entity.id.in_(list(ids)))))

    def tags_of(self, asset_ids: Sequence[str]) -> dict[str, list[str]]:
        return self._tags(list(asset_ids))

    def links(self, *, relations: Sequence[str], exclude: bool) -> Iterator[Link]:
        """Links of these relations (or, `exclude`, of every other relation), in order."""
        chosen = Link.relation.not_in(relations) if exclude else Link.relation.in_(relations)
        after = ""
        while True:
            batch = list(
                self.session.scalars(
                    select(Link).where(chosen, Link.id > after).order_by(Link.id).limit(BATCH)
                )
            )
            if not batch:
                return
            yield from batch
            after = batch[-1].id

    def entities(self) -> list[Entity]:
        return list(self.session.scalars(select(Entity).order_by(Entity.created_at, Entity.id)))

    def assets_by_id(self, asset_ids: Sequence[str]) -> dict[str, tuple[Asset, str | None]]:
        rows = self.session.execute(
            select(Asset, Root.path)
            .outerjoin(Root, Root.id == Asset.root_id)
            .where(Asset.id.in_(list(asset_ids)))
        ).all()
        return {asset.id: (asset, root_path) for asset, root_path in rows}

    # --- import: finding the files again --------------------------------------------------

    def live_ids_with_hashes(
        self, digests: Sequence[str]
    ) -> dict[str, list[tuple[str, str, str | None]]]:
        """hash -> (id, root path, relative path) of the present copies with that content,
        in one query a batch."""
        found: dict[str, list[tuple[str, str, str | None]]] = {}
        wanted = list(dict.fromkeys(digests))
        for start in range(0, len(wanted), BATCH):
            rows = self.session.execute(
                select(Asset.hash, Asset.id, Root.path, Asset.rel_path)
                .join(Root, Root.id == Asset.root_id)
                .where(Asset.hash.in_(wanted[start : start + BATCH]), Asset.deleted_at.is_(None))
                .order_by(Asset.id)
            )
            for digest, asset_id, root, rel in rows:
                found.setdefault(str(digest), []).append((str(asset_id), str(root), rel))
        return found

    def id_at_path(self, root_path: str, rel_path: str) -> str | None:
        return self.session.scalar(
            select(Asset.id)
            .join(Root, Root.id == Asset.root_id)
            .where(and_(Root.path == root_path, Asset.rel_path == rel_path))
        )

    def _has_namespace(self, name: str) -> ColumnElement[bool]:
        """The asset's metadata has this key. Not `meta[name] IS NOT NULL`: SQLAlchemy reads a
        JSON path on SQLite through JSON_QUOTE, which turns an absent key into 'null'."""
        if self.session.get_bind().dialect.name == "postgresql":
            return Asset.meta.op("?")(name)
        return func.json_type(Asset.meta, f'$."{name}"').is_not(None)

    def _has_key(self, namespace: str, key: str) -> ColumnElement[bool]:
        """`_has_namespace` for a key inside a namespace."""
        if self.session.get_bind().dialect.name == "postgresql":
            return Asset.meta[namespace].op("?")(key)
        return func.json_type(Asset.meta, f'$."{namespace}"."{key}"').is_not(None)

    def _tags(self, asset_ids: list[str]) -> dict[str, list[str]]:
        tags: dict[str, list[str]] = {}
        rows = self.session.execute(
            select(AssetTag.asset_id, AssetTag.tag)
            .where(AssetTag.asset_id.in_(asset_ids))
            .order_by(AssetTag.asset_id, AssetTag.tag)
        )
        for asset_id, tag in rows:
            tags.setdefault(asset_id, []).append(tag)
        return tags
