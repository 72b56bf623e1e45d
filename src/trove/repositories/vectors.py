"""The meaning vectors (`asset_vectors`): kept in step with the vectors assets carry in their
metadata, and read by the in-memory index (services/vector_index.py) in full once, then by
`seq` (what changed since it last looked)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from trove.db.models import Asset, AssetVector

BATCH = 500


class VectorRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def stored_in_metadata(self, asset_ids: Sequence[str]) -> dict[str, str | None]:
        """asset -> the base64 vector its metadata holds (None: none), for these assets."""
        path = Asset.meta["semantic"]["vector"].as_string()
        found: dict[str, str | None] = {}
        ids = list(dict.fromkeys(asset_ids))
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            found.update(
                {
                    asset_id: vector
                    for asset_id, vector in self.session.execute(
                        select(Asset.id, path).where(Asset.id.in_(chunk))
                    )
                }
            )
        return {asset_id: found.get(asset_id) for asset_id in ids}

    def sync(self, vectors: dict[str, bytes | None]) -> None:
        """Make the rows of these assets hold these vectors (None: no row); a row whose
        vector is unchanged keeps its `seq`, so the index does not read it again."""
        ids = list(vectors)
        current: dict[str, bytes] = {}
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            stored = self.session.execute(
                select(AssetVector.asset_id, AssetVector.vector).where(
                    AssetVector.asset_id.in_(chunk)
                )
            )
            current.update((str(i), bytes(v)) for i, v in stored)
        changed = {i: v for i, v in vectors.items() if v is not None and current.get(i) != v}
        gone = [i for i, v in vectors.items() if v is None and i in current]
        stale = [*gone, *(i for i in changed if i in current)]
        for start in range(0, len(stale), BATCH):
            self.session.execute(
                delete(AssetVector).where(AssetVector.asset_id.in_(stale[start : start + BATCH]))
            )
        if changed:  # new rows: the database numbers them past every `seq` it gave
            rows = [{"asset_id": i, "vector": v} for i, v in changed.items()]
            self.session.execute(insert(AssetVector), rows)

    def changed_since(self, seq: int, *, limit: int) -> list[tuple[str, int, bytes]]:
        """Rows written after `seq`, oldest first."""
        rows = self.session.execute(
            select(AssetVector.asset_id, AssetVector.seq, AssetVector.vector)
            .where(AssetVector.seq > seq)
            .order_by(AssetVector.seq)
            .limit(limit)
        )
        return [(str(i), int(s), bytes(v)) for i, s, v in rows]

    def of(self, asset_ids: Sequence[str]) -> list[tuple[str, int, bytes]]:
        found: list[tuple[str, int, bytes]] = []
        ids = list(asset_ids)
        for start in range(0, len(ids), BATCH):
            rows = self.session.execute(
                select(AssetVector.asset_id, AssetVector.seq, AssetVector.vector).where(
                    AssetVector.asset_id.in_(ids[start : start + BATCH])
                )
            )
            found.extend((str(i), int(s), bytes(v)) for i, s, v in rows)
        return found

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(AssetVector)) or 0)

    def all_ids(self) -> set[str]:
        return set(self.session.scalars(select(AssetVector.asset_id)))
