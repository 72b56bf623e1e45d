"""The meaning vectors the `ai_semantic` step stored, for an exact nearest-neighbour search.

Exact search over the stored vectors: the vectors travel in the assets' metadata, so both
databases hold them alike and nothing else has to stay in step. Reading them is a scan of the
viewer's assets (the JSON is filtered here, not in SQL, as the two databases differ); an
index file (HNSW) is the next step: bench/ai.py measures the scan at 118 ms for 10k vectors
but 3.3 s for 100k, past what a search may take.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from trove.db.models import Asset
from trove.domain.access import Viewer
from trove.repositories.access import visible_assets


class SemanticRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def vectors(self, viewer: Viewer) -> list[tuple[str, str]]:
        """(asset id, packed vector) of every asset the viewer may see that has one."""
        rows = self.session.execute(
            select(Asset.id, Asset.meta).where(visible_assets(viewer)).order_by(Asset.id)
        )
        found = []
        for asset_id, meta in rows:
            vector = ((meta or {}).get("semantic") or {}).get("vector")
            if vector:
                found.append((asset_id, vector))
        return found
