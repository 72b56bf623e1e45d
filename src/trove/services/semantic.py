"""Search by meaning, blended into the free-text search: "dog on a beach" finds the photo
labelled `golden retriever` and `seashore` though no word of the query is in it.

A search blends when `ai_semantic` is on, its order is relevance (the default with free words)
and it has free words; a query of filters alone (`type:video`, `-tag:x`) is answered by the
words' search only. The query's free words are embedded (MiniLM) and the nearest vectors
(services/vector_index.py) whose cosine is at least `ai_semantic_min` are kept when they
match the rest of the query (its filters and negations) and the viewer may see them. Their
ranking and the words' ranking (its first `HEAD`) are merged by reciprocal rank fusion
(each list adds 1 / (RRF_K + rank)), which needs no common scale between bm25, ts_rank and a
cosine. Past the fused head the words' results follow in their own order, so paging goes on
to everything the words match.

Editing a title or description embeds the asset again at once (`reembed`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from trove.config import Settings
from trove.db.database import Database
from trove.db.models import Asset
from trove.domain.access import Viewer
from trove.domain.queries import DEFAULT_SORT, RELEVANCE, AssetQuery, encode_cursor
from trove.domain.search_query import SearchQuery
from trove.repositories.assets import AssetRepository, position_of

if TYPE_CHECKING:
    import numpy as np

    from trove.services.vector_index import VectorIndex

HEAD = 200  # the words' best results that are fused with the meaning's
NEAREST = 1000  # vectors read from the index before the viewer and filters narrow them
MEANING_MAX = 200  # results found by meaning at most
RRF_K = 60


@dataclass(frozen=True)
class Blended:
    """A page of a blended search; `cosine` for the results the meaning found."""

    items: list[Asset]
    next_cursor: str | None
    cosine: dict[str, float]
    lexical_rank: dict[str, int]
    fused: dict[str, float]


class SemanticSearch:
    def __init__(
        self, settings: Settings, database: Database, *, hierarchical: Sequence[str] | None = None
    ) -> None:
        self.settings = settings
        self.database = database
        self.hierarchical = hierarchical
        self._index: VectorIndex | None = None
        self._making_index = threading.Lock()

    @property
    def index(self) -> VectorIndex:
        """Made at the first search by meaning: NumPy is imported then, not as the app starts
        (its BLAS starts threads; most servers never search by meaning). Once: two first
        searches at the same moment share one index, not each load every vector."""
        with self._making_index:
            if self._index is None:
                from trove.services.vector_index import VectorIndex

                self._index = VectorIndex(self.database)
            return self._index

    def blends(self, query: AssetQuery) -> bool:
        """Whether this listing is answered by words and meaning together."""
        search = query.search
        return (
            self.settings.ai_semantic
            and query.sort == RELEVANCE
            and not query.only_deleted
            and search is not None
            and bool(free_text(search))
        )

    def page(self, session: Session, query: AssetQuery, *, viewer: Viewer) -> Blended:
        """One page of a blended search (`query.cursor`: a position, as a relevance listing)."""
        assert query.search is not None
        repo = AssetRepository(session, hierarchical=self.hierarchical)
        head = repo.ids_by_relevance(replace(query, limit=HEAD, cursor=None), viewer=viewer)
        ranked = {asset_id: rank for rank, asset_id in enumerate(head)}
        nearest = self._nearest(repo, query, viewer=viewer)
        meaning = [i for i, _ in nearest]
        if len(head) == HEAD:
            # Matched by the words but past the head: they keep their place among the words'.
            beyond = [i for i in meaning if i not in ranked]
            words_match = repo.matching(replace(query, sort=DEFAULT_SORT), beyond, viewer=viewer)
            meaning = [i for i in meaning if i not in words_match]
        fused = _fuse(head, meaning)
        order = sorted(fused, key=lambda i: -fused[i])
        start = position_of(query.cursor)
        want = query.limit + 1
        ids = order[start : start + want]
        items = repo.in_order(ids)
        if len(ids) < want and len(head) == HEAD:
            tail = HEAD + max(0, start - len(order))
            more = replace(query, cursor=encode_cursor(tail, ""), limit=want - len(ids))
            items += repo.list(more, viewer=viewer)[0]
        cursor = encode_cursor(start + query.limit, "") if len(items) > query.limit else None
        return Blended(
            items=items[: query.limit],
            next_cursor=cursor,
            cosine=dict(nearest),
            lexical_rank=ranked,
            fused=fused,
        )

    def _nearest(
        self, repo: AssetRepository, query: AssetQuery, *, viewer: Viewer
    ) -> list[tuple[str, float]]:
        """(asset id, cosine) of the assets nearest the query's free words in meaning that
        match the rest of the query and the viewer may see, best first."""
        assert query.search is not None
        floor = self.settings.ai_semantic_min
        found = self.index.nearest(query_vector(free_text(query.search)), k=NEAREST)
        found = [(i, c) for i, c in found if c >= floor]
        if not found:
            return []
        rest = SearchQuery(tuple(c for c in query.search.clauses if not _free_word(c)))
        filters = replace(query, search=rest or None, sort=DEFAULT_SORT, cursor=None)
        allowed = repo.matching(filters, [i for i, _ in found], viewer=viewer)
        return [(i, c) for i, c in found if i in allowed][:MEANING_MAX]

    def reembed(self, session: Session, asset: Asset) -> None:
        """Embed an asset again after its title or description changed, as its `ai_semantic`
        step would, and record the step (its vector reaches the index with its document)."""
        if not self.settings.ai_semantic or asset.is_virtual:
            return
        from trove.pipeline.ai.semantic import SemanticProcessor
        from trove.pipeline.recording import StepRun, record_step
        from trove.pipeline.runner import view_of

        step = SemanticProcessor(self.settings)
        view = view_of(asset, Path(asset.rel_path or asset.filename))
        result = step.process(view)
        run = StepRun(asset_id=asset.id, result=result, elapsed_ms=0.0)
        record_step(
            session, step=step.name, version=step.version, runs=[run], settings=self.settings
        )
        if result.status == "skipped":  # nothing left to embed: no vector either
            meta = dict(asset.meta or {})
            meta.pop("semantic", None)
            asset.meta = meta
        session.flush()


def free_text(search: SearchQuery) -> str:
    """The words a person typed to be found (not the filters, not the negated words)."""
    return " ".join(c.value for c in search.clauses if _free_word(c)).strip()


def _free_word(clause: Any) -> bool:
    return clause.key == "" and not clause.negated


def _fuse(*rankings: list[str]) -> dict[str, float]:
    """Reciprocal rank fusion: each ranking adds 1 / (RRF_K + rank) to what it holds."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, asset_id in enumerate(ranking, start=1):
            fused[asset_id] = fused.get(asset_id, 0.0) + 1.0 / (RRF_K + rank)
    return fused


@lru_cache(maxsize=256)
def _query_vector_bytes(text: str) -> bytes:
    import numpy as np

    from trove.pipeline.ai.semantic import embed

    return embed([text])[0].astype(np.float32).tobytes()


def query_vector(text: str) -> np.ndarray:
    """The query's embedding (cached: paging through results embeds it once)."""
    import numpy as np

    return np.frombuffer(_query_vector_bytes(text), dtype=np.float32)
