"""Roots (libraries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text, case, false, func, literal, select, update
from sqlalchemy.orm import Session

from trove.db.models import Asset, Root, RootMember
from trove.domain.access import Viewer
from trove.domain.enums import AssetStatus, AssetType, RootStatus
from trove.domain.ids import new_id
from trove.repositories._sql import insert_if_absent, rowcount, utcnow
from trove.repositories.fast_index import spread

# pg_advisory_xact_lock key: "trove libraries" changing, one transaction at a time.
_LIBRARIES_LOCK = 0x7472_6F76_6C69_62


class RootRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def hold_libraries(self) -> None:
        """Until this transaction ends, no other one adds or moves a library: a check of the
        libraries and the insert after it are then one step (a folder and one inside it,
        added at the same moment, were both accepted). SQLite: the write lock, taken now by
        a write that changes nothing."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(select(func.pg_advisory_xact_lock(_LIBRARIES_LOCK)))
        else:
            self.session.execute(update(Root).where(false()).values(path=Root.path))

    def get(self, root_id: str) -> Root | None:
        return self.session.get(Root, root_id)

    def by_path(self, path: str) -> Root | None:
        return self.session.scalar(select(Root).where(Root.path == path))

    def ping(self) -> None:
        """One round trip to the database (the health check)."""
        self.session.execute(select(1)).one()

    def all(self) -> list[Root]:
        return list(self.session.scalars(select(Root).order_by(Root.path)))

    def visible_to(self, viewer: Viewer) -> list[Root]:
        """The libraries a viewer is shown: all for an admin; for a member, those they own or
        are assigned to; none for a share-link holder."""
        if viewer.share is not None or (viewer.user_id is None and not viewer.is_admin):
            return []
        if viewer.sees_everything:
            return self.all()
        assigned = select(RootMember.root_id).where(RootMember.user_id == viewer.user_id)
        return list(
            self.session.scalars(
                select(Root)
                .where((Root.owner_id == viewer.user_id) | Root.id.in_(assigned))
                .order_by(Root.path)
            )
        )

    def add_if_new(
        self, *, path: str, name: str, device: int | None, is_upload_target: bool = False
    ) -> tuple[Root, bool]:
        """The root at `path` and whether this call registered it (two callers registering
        the same folder at once, e.g. concurrent first uploads, both get the one root).
        `device`: its folder's file system (None while the folder is not there)."""
        created = insert_if_absent(
            self.session,
            Root,
            {
                "id": new_id(),
                "path": path,
                "name": name,
                "is_upload_target": is_upload_target,
                "created_at": utcnow(),
                "device": device,
            },
        )
        root = self.by_path(path)
        assert root is not None  # just inserted, or committed by the caller that won the race
        return root, created

    def set_offline(self, root_id: str, *, reason: str) -> None:
        self.session.execute(
            update(Root)
            .where(Root.id == root_id)
            .values(status=RootStatus.OFFLINE, status_message=reason)
        )

    def record_scan(
        self, root_id: str, *, at: datetime, summary: dict[str, Any], device: int | None = None
    ) -> None:
        """`device`: the folder's file system, where the scan found the root's files (None:
        the one recorded stays)."""
        self.session.execute(
            update(Root)
            .where(Root.id == root_id)
            .values(
                last_scan_at=at,
                last_scan=summary,
                status=RootStatus.ONLINE,
                status_message=None,
                device=func.coalesce(device, Root.device),
            )
        )

    # --- relocation (services/relocation.py) ----------------------------------------------

    def sample_files(self, root_id: str, *, limit: int) -> list[tuple[str, bool, int, str]]:
        """(stored rel_path, escaped, size, hash) of up to `limit` hashed files of a root,
        spread evenly over all of them by id from the oldest to the newest (ids are
        time-ordered: a stale copy holding only the files of a while ago does not pass)."""
        where = (
            Asset.root_id == root_id,
            Asset.hash.is_not(None),
            Asset.size.is_not(None),
            Asset.asset_type != AssetType.COLLECTION,
            Asset.status != AssetStatus.MISSING,
            Asset.deleted_at.is_(None),
        )
        total = self.session.scalar(select(func.count()).select_from(Asset).where(*where)) or 0
        numbered = (
            select(
                Asset.rel_path,
                Asset.path_escaped,
                Asset.size,
                Asset.hash,
                func.row_number().over(order_by=Asset.id).label("n"),
            )
            .where(*where)
            .subquery()
        )
        rows = self.session.execute(
            select(numbered.c.rel_path, numbered.c.path_escaped, numbered.c.size, numbered.c.hash)
            .where(numbered.c.n.in_(spread(total, limit)))
            .order_by(numbered.c.n)
        )
        return [(str(r), bool(e), int(s), str(h)) for r, e, s, h in rows]

    def count_files(self, root_id: str) -> int:
        """Entries indexed in the root besides its own folder."""
        files = select(func.count()).select_from(Asset)
        return int(
            self.session.scalar(files.where(Asset.root_id == root_id, Asset.rel_path != "")) or 0
        )

    def holds_present_files(self, root_id: str) -> bool:
        """Whether the index holds a file or folder of the root that is not missing."""
        present = select(Asset.id).where(
            Asset.root_id == root_id, Asset.rel_path != "", Asset.status != AssetStatus.MISSING
        )
        return self.session.scalar(select(present.exists())) or False

    def relocate(self, root_id: str, *, path: str, name: str) -> int:
        """The root now lives at `path`: its record and every asset's URN follow, ids and
        everything else stay. Returns how many assets were updated."""
        self.session.execute(
            update(Root)
            .where(Root.id == root_id)
            .values(path=path, name=name, status=RootStatus.ONLINE, status_message=None)
        )
        prefix = "fs://local" + path.rstrip("/") + "/"
        urn = case(
            (Asset.rel_path == "", literal("fs://local" + path, Text)),
            else_=literal(prefix, Text).concat(Asset.rel_path),
        )
        result = self.session.execute(
            update(Asset)
            .where(Asset.root_id == root_id, Asset.rel_path.is_not(None))
            .values(storage_urn=urn, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        self.session.execute(
            update(Asset)
            .where(Asset.root_id == root_id, Asset.rel_path == "")
            .values(filename=name)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)
