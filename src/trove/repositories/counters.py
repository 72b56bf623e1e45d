"""The maintained counters (models.AssetCount, StepCount, MonthCount, and the status tallies
ProcessingOutcomeCount and FailureCount): a few rows read instead of a million counted, for
the status and jobs endpoints a browser polls every 2 s.

On PostgreSQL the triggers append deltas; `fold()` moves them into the counters under an
advisory lock, so one reader folds while others read counters and deltas together. On SQLite
the delta tables stay empty and folding does nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, text, union_all
from sqlalchemy.orm import Session

from trove.db.models import (
    AssetCount,
    AssetCountDelta,
    FailureCount,
    FailureCountDelta,
    MonthCount,
    MonthCountDelta,
    ProcessingOutcomeCount,
    ProcessingOutcomeCountDelta,
    StepCount,
    StepCountDelta,
)

# pg_try_advisory_xact_lock key: "trove counters" folding, one session at a time.
_FOLD_LOCK = 0x7472_6F76_6563_6E74 & 0x7FFF_FFFF_FFFF_FFFF
_FOLDED = "trove.counters.folded"
_READINGS = "trove.counters.readings"


@dataclass(frozen=True)
class AssetTally:
    root_id: str | None
    asset_type: str
    status: str
    live: bool
    n: int


@dataclass(frozen=True)
class MonthTally:
    month: str
    asset_type: str
    root_id: str | None
    n: int


@dataclass(frozen=True)
class FailureTally:
    """Failed outcomes of one step with one message ('' for none) in one library."""

    root_id: str
    step: str
    message: str
    n: int


# What fold() moves: (counters, deltas, key columns, the counters' unique key). A message may
# be too long for a PostgreSQL btree entry: failure_counts is keyed by its md5 there.
_FOLDED_TABLES = (
    ("asset_counts", "asset_count_deltas", "root_key, asset_type, status, live", None),
    ("step_counts", "step_count_deltas", "step, status", None),
    ("month_counts", "month_count_deltas", "month, asset_type, root_key, live", None),
    ("processing_outcome_counts", "processing_outcome_count_deltas", "step, version", None),
    (
        "failure_counts",
        "failure_count_deltas",
        "step, message, root_id",
        "step, md5(message), root_id",
    ),
)

# Every fold in one statement: each data-modifying WITH runs to completion whether or not
# the final SELECT reads it, and each moves its own tables.
_FOLD_ALL = text(
    "WITH "
    + ", ".join(
        f"moved_{i} AS (DELETE FROM {deltas} RETURNING {keys}, n), "
        f"added_{i} AS (INSERT INTO {counts} ({keys}, n) "
        f"SELECT {keys}, sum(n) FROM moved_{i} GROUP BY {keys} ORDER BY {keys} "
        f"ON CONFLICT ({unique or keys}) DO UPDATE SET n = {counts}.n + excluded.n)"
        for i, (counts, deltas, keys, unique) in enumerate(_FOLDED_TABLES)
    )
    + " SELECT 1"
)


class CounterRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def asset_tallies(self) -> list[AssetTally]:
        """Every non-empty (library, type, status, liveness) group of assets."""
        self.fold()
        keys = ("root_key", "asset_type", "status", "live")
        rows = self._summed(AssetCount, AssetCountDelta, keys)
        return [
            AssetTally(root_key or None, asset_type, status, bool(live), n)
            for root_key, asset_type, status, live, n in rows
        ]

    def step_counts(self) -> dict[tuple[str, str], int]:
        """Outcomes per (step, status), as StepRepository.counts() would count them."""
        self.fold()
        rows = self._summed(StepCount, StepCountDelta, ("step", "status"))
        return {(step, status): n for step, status, n in rows}

    def month_tallies(self) -> list[MonthTally]:
        """Every non-empty (month, type, library) group of assets not soft-deleted; the
        month is "" for an undated asset."""
        self.fold()
        keys = ("month", "asset_type", "root_key", "live")
        rows = self._summed(MonthCount, MonthCountDelta, keys)
        return [
            MonthTally(month, asset_type, root_key or None, n)
            for month, asset_type, root_key, live, n in rows
            if live
        ]

    def processing_outcomes(self) -> dict[tuple[str, int], int]:
        """Outcomes per (step, version) of the files still processing (not soft-deleted)."""
        self.fold()
        keys = ("step", "version")
        rows = self._summed(ProcessingOutcomeCount, ProcessingOutcomeCountDelta, keys)
        return {(step, int(version)): n for step, version, n in rows}

    def failure_tallies(self) -> list[FailureTally]:
        """Failed outcomes per (library, step, message) of the files in a library and not
        soft-deleted, the most frequent first."""
        self.fold()
        keys = ("root_id", "step", "message")
        rows = self._summed(FailureCount, FailureCountDelta, keys)
        tallies = [FailureTally(*row) for row in rows]
        return sorted(tallies, key=lambda t: (-t.n, t.step, t.root_id, t.message))

    def fold(self) -> None:
        """Move PostgreSQL's deltas into the counters, unless another session is doing it.

        Other sessions see the deltas gone and the counters grown at once, at this session's
        commit (until then, both as they were): the sum they read is right either way."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        if self.session.info.get(_FOLDED):  # once a session: status reads them five times
            return
        self.session.info[_FOLDED] = True
        if not self.session.scalar(select(func.pg_try_advisory_xact_lock(_FOLD_LOCK))):
            return
        self.session.execute(_FOLD_ALL)
        # One row per message ever seen: those whose files were all fixed or deleted go.
        # (A statement of its own: the one above cannot see the sums it writes.)
        self.session.execute(text("DELETE FROM failure_counts WHERE n = 0"))

    def only_reading(self) -> None:
        """This session only reads, after `fold()` ran in a transaction of its own: it folds
        no more, and reads each kind of counter once (status reads the asset counters for
        its files, types and statuses and for the jobs' backlog: the same rows each time).
        A session that writes must not: its readings would miss its own changes."""
        self.session.info[_FOLDED] = True
        self.session.info.setdefault(_READINGS, {})

    def _summed(self, counts: Any, deltas: Any, keys: tuple[str, ...]) -> list[Any]:
        readings = self.session.info.get(_READINGS)
        if readings is None:
            return self._read_summed(counts, deltas, keys)
        if counts.__tablename__ not in readings:
            readings[counts.__tablename__] = self._read_summed(counts, deltas, keys)
        return list(readings[counts.__tablename__])

    def _read_summed(self, counts: Any, deltas: Any, keys: tuple[str, ...]) -> list[Any]:
        stmt = _summed_statement(counts, deltas, keys)
        return [(*row[:-1], int(row[-1])) for row in self.session.execute(stmt)]


@functools.cache
def _summed_statement(counts: Any, deltas: Any, keys: tuple[str, ...]) -> Select[Any]:
    """Counters and deltas summed per key: built once. Building it (a UNION's subquery and
    its column proxies) cost more CPU than running it, several times per status refresh."""
    both = union_all(_columns(counts, keys), _columns(deltas, keys)).subquery()
    key_columns = [both.c[key] for key in keys]
    total = func.sum(both.c.n)
    return select(*key_columns, total).group_by(*key_columns).having(total != 0)


def _columns(table: Any, keys: tuple[str, ...]) -> Select[Any]:
    return select(*(getattr(table, key) for key in keys), table.n.label("n"))
