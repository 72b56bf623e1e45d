"""The meaning vectors of the library as one float32 matrix in memory: a search is one
matrix-vector product and a partial sort (exact, no index to tune), on either database.

Chosen by measurement over sqlite-vec (exact, SQLite only) and an HNSW index file (usearch):
docs/decisions.md, bench/vectors.py. Loaded from `asset_vectors` on first use, then kept in
step by reading the rows whose `seq` passed the last one seen (new and re-embedded vectors),
and every `RECONCILE_S` by comparing the row count, which finds deleted rows and rows a
concurrent writer committed late. Nothing here knows who may see what: callers filter the
nearest ids by the viewer and the query's filters (services/semantic.py).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from trove.db.database import Database
from trove.repositories.vectors import VectorRepository

DIMENSIONS = 384
PAGE = 20_000
RECONCILE_S = 30.0


class VectorIndex:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._matrix = np.zeros((0, DIMENSIONS), dtype=np.float32)
        self._ids: list[str | None] = []  # row -> asset id (None: a freed row)
        self._rows: dict[str, int] = {}
        self._freed = 0
        self._seq = 0
        self._reconciled = 0.0

    def __len__(self) -> int:
        return len(self._rows)

    def nearest(self, vector: np.ndarray, *, k: int) -> list[tuple[str, float]]:
        """The `k` stored vectors most similar to `vector` (unit length), best first, with
        their cosine."""
        with self._lock:
            self._refresh()
            used = len(self._ids)
            if not self._rows or k <= 0:
                return []
            scores = self._matrix[:used] @ vector.astype(np.float32)
            k = min(k, used)
            best = np.argpartition(-scores, k - 1)[:k]
            best = best[np.argsort(-scores[best])]
            found = [(self._ids[i], float(scores[i])) for i in best]
        return [(asset_id, score) for asset_id, score in found if asset_id is not None]

    def _refresh(self) -> None:
        with self.database.session() as session:
            repo = VectorRepository(session)
            while rows := repo.changed_since(self._seq, limit=PAGE):
                self._put(rows)
                self._seq = max(self._seq, rows[-1][1])
                if len(rows) < PAGE:
                    break
            if time.monotonic() - self._reconciled < RECONCILE_S:
                return
            self._reconciled = time.monotonic()
            if repo.count() == len(self._rows):
                return
            stored = repo.all_ids()
            for asset_id in [i for i in self._rows if i not in stored]:
                self._drop(asset_id)
            if self._freed > len(self._ids) // 4:
                self._compact()
            self._put(repo.of([i for i in stored if i not in self._rows]))

    def _put(self, rows: list[tuple[str, int, bytes]]) -> None:
        for asset_id, _seq, raw in rows:
            vector = np.frombuffer(raw, dtype=np.float16)
            if vector.shape != (DIMENSIONS,):
                continue
            row = self._rows.get(asset_id)
            if row is None:
                row = self._append(asset_id)
            self._matrix[row] = vector

    def _append(self, asset_id: str) -> int:
        row = len(self._ids)
        if row >= len(self._matrix):
            grown = np.zeros((max(1024, row * 2), DIMENSIONS), dtype=np.float32)
            grown[:row] = self._matrix[:row]
            self._matrix = grown
        self._ids.append(asset_id)
        self._rows[asset_id] = row
        return row

    def _drop(self, asset_id: str) -> None:
        row = self._rows.pop(asset_id)
        self._ids[row] = None
        self._matrix[row] = 0.0
        self._freed += 1

    def _compact(self) -> None:
        keep = [row for row, asset_id in enumerate(self._ids) if asset_id is not None]
        self._matrix = self._matrix[keep].copy()
        self._ids = [self._ids[row] for row in keep]
        self._rows = {asset_id: row for row, asset_id in enumerate(self._ids) if asset_id}
        self._freed = 0
