"""Search by meaning, blended with the words: "dog on a beach" finds the photo labelled
`golden retriever` and `seashore` though neither word is in it.

Each result's score is `LEXICAL_WEIGHT` x its word-search rank score (1 for the best match,
falling as 1/(1 + rank)) plus `1 - LEXICAL_WEIGHT` x the cosine of its meaning vector with the
query's; a file the words do not match is kept when its cosine is at least `ai_semantic_min`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trove.config import Settings
from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.repositories.semantic import SemanticRepository
from trove.services.assets import AssetService
from trove.services.errors import Invalid

LEXICAL_WEIGHT = 0.5
LEXICAL_PAGE = 200


class SemanticSearch:
    def __init__(self, settings: Settings, database: Database, *, assets: AssetService) -> None:
        self.settings = settings
        self.database = database
        self.assets = assets

    def search(self, q: str, *, viewer: Viewer, limit: int = 50) -> list[dict[str, Any]]:
        """The best `limit` assets for `q`, each with `score`, `lexical` and `semantic`."""
        if not self.settings.ai_semantic:
            raise Invalid("search by meaning is off (TROVE_AI_SEMANTIC)")
        from trove.pipeline.ai.semantic import embed, unpack

        lexical = self.assets.list(AssetFilters(q=q, limit=LEXICAL_PAGE), viewer=viewer).items
        words = {a["id"]: 1.0 / (1 + rank) for rank, a in enumerate(lexical)}
        with self.database.session() as session:
            stored = SemanticRepository(session).vectors(viewer)
        meaning: dict[str, float] = {}
        pairs = [(asset_id, unpack(v)) for asset_id, v in stored]
        valid = [(asset_id, v) for asset_id, v in pairs if v is not None]
        if valid:
            cosines = np.stack([v for _, v in valid]) @ embed([q])[0]
            meaning = {asset_id: float(c) for (asset_id, _), c in zip(valid, cosines, strict=True)}
        floor = self.settings.ai_semantic_min
        candidates = set(words) | {i for i, c in meaning.items() if c >= floor}
        scored = sorted(
            (
                LEXICAL_WEIGHT * words.get(i, 0.0) + (1 - LEXICAL_WEIGHT) * meaning.get(i, 0.0),
                i,
            )
            for i in candidates
        )
        best = [i for _, i in reversed(scored)][:limit]
        found = []
        for asset_id in best:
            asset = self.assets.get(asset_id, viewer=viewer)
            found.append({
                **asset,
                "score": round(LEXICAL_WEIGHT * words.get(asset_id, 0.0)
                               + (1 - LEXICAL_WEIGHT) * meaning.get(asset_id, 0.0), 4),
                "lexical": round(words.get(asset_id, 0.0), 4),
                "semantic": round(meaning.get(asset_id, 0.0), 4),
            })  # fmt: skip
        return found
