"""The sidecars a scan saw (`sidecar_files`), and sending their pictures back to be read."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from trove.db.models import Asset, AssetStep, SidecarFile
from trove.domain.enums import AssetStatus, AssetType
from trove.repositories._sql import utcnow

_LIVE = (AssetStatus.READY, AssetStatus.ERROR, AssetStatus.PROCESSING)


class SidecarRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def save(self, root_id: str, files: dict[str, tuple[int, int]]) -> None:
        """Remember these sidecars (stored rel_path -> size, mtime_ns), replacing earlier."""
        if not files:
            return
        self.forget(root_id, list(files))
        self.session.add_all(
            SidecarFile(root_id=root_id, rel_path=rel, size=size, mtime_ns=mtime)
            for rel, (size, mtime) in files.items()
        )

    def forget(self, root_id: str, rel_paths: Sequence[str]) -> None:
        if rel_paths:
            self.session.execute(
                delete(SidecarFile).where(
                    SidecarFile.root_id == root_id, SidecarFile.rel_path.in_(list(rel_paths))
                )
            )

    def read_again(self, root_id: str, image_paths: Sequence[str], steps: Sequence[str]) -> int:
        """The pictures at these stored paths forget these steps' outcomes and wait in
        `processing` for the pipeline (those missing or deleted are left alone); how many."""
        if not image_paths:
            return 0
        ids = list(
            self.session.scalars(
                select(Asset.id).where(
                    Asset.root_id == root_id,
                    Asset.rel_path.in_(list(image_paths)),
                    Asset.asset_type != AssetType.COLLECTION,
                    Asset.deleted_at.is_(None),
                    Asset.status.in_(_LIVE),
                )
            )
        )
        if not ids:
            return 0
        self.session.execute(
            delete(AssetStep).where(AssetStep.asset_id.in_(ids), AssetStep.step.in_(list(steps)))
        )
        self.session.execute(
            update(Asset)
            .where(Asset.id.in_(ids))
            .values(status=AssetStatus.PROCESSING, error_message=None, updated_at=utcnow())
        )
        return len(ids)
