"""Planner statistics of the tables a scan or a pipeline pass grows, kept fresh by Trove itself
on PostgreSQL.

A new library fills `assets`, `asset_steps` and `pipeline_leases` from nothing to a million
rows in minutes. PostgreSQL plans with the statistics of its last ANALYZE; until one runs, the
tables look empty and every plan made then (cached in pooled connections as prepared
statements) stays as if they were: measured at 100,000 files on PostgreSQL 15 with
autovacuum off (bench/million.py), the status page's count of processing assets ran for
minutes instead of a second. Autovacuum, where it is on, analyzes only once per naptime and
may lag a bulk load; so the writers ask here, every few seconds, and the tables changed by more
than a tenth since their last ANALYZE are analyzed (and the queue-like tables vacuumed when
dead rows pile up in them). SQLite plans without such statistics: nothing to do there.
"""

from __future__ import annotations

import logging
import time

from trove.repositories import fast_index

log = logging.getLogger(__name__)

# The tables bulk work grows or churns. The names are ours: they are put into the SQL as they are.
TABLES = (
    "assets",
    "asset_steps",
    "pipeline_leases",
    "links",
    "search_documents",
    "asset_count_deltas",
    "step_count_deltas",
    "month_count_deltas",
    "processing_outcome_count_deltas",
    "failure_count_deltas",
)
# Queue-like tables whose rows are all deleted again and again (leases of finished batches,
# folded counter deltas): read whole, so their dead rows cost every read until a VACUUM. The
# others are only analyzed here: vacuuming the asset table is autovacuum's (or the operator's)
# job, and would hold up the scan that asked.
CHURNED = frozenset(
    {
        "pipeline_leases",
        "asset_count_deltas",
        "step_count_deltas",
        "month_count_deltas",
        "processing_outcome_count_deltas",
        "failure_count_deltas",
    }
)
# A table is stale once more rows than this, plus a tenth of its live ones, changed since its
# last ANALYZE: autovacuum's own default threshold, applied now rather than within a naptime. A
# library of a few hundred documents searched right after its first scan was otherwise planned
# as empty: a nested loop over every document per asset, 3.4 s a search instead of 54 ms.
STALE_ROWS = 50
# A VACUUM that could not remove the dead rows (an old transaction still sees them) is not
# tried again sooner than this.
VACUUM_EVERY_S = 60
# pg_try_advisory_lock key: one process refreshes at a time, the others skip.
_LOCK = 0x7472_6F76_6573_7461


def stale_tables(conn: fast_index.Connection) -> list[tuple[str, bool]]:
    """(table, needs VACUUM too) for each table changed by more than a tenth (plus STALE_ROWS)
    since it was last analyzed, or a churned table with dead rows over a fifth of its live
    ones (plus 1000) not vacuumed in the last minute."""
    rows = conn.execute(
        "SELECT relname, n_live_tup, n_dead_tup, n_mod_since_analyze,"
        " coalesce(extract(epoch FROM now() - greatest(last_vacuum, last_autovacuum)), 1e9)"
        " FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ANY(?)",
        (list(TABLES),),
    ).fetchall()
    stale = []
    for name, live, dead, modified, vacuumed_s_ago in rows:
        vacuum = (
            name in CHURNED and dead > 1000 + 0.2 * live and float(vacuumed_s_ago) > VACUUM_EVERY_S
        )
        if vacuum or modified > STALE_ROWS + 0.1 * live:
            stale.append((str(name), bool(vacuum)))
    return stale


def refresh(url: str) -> list[str]:
    """ANALYZE (or VACUUM ANALYZE) the stale tables; returns the ones done. Does nothing on
    SQLite, or while another process is at it."""
    if url.startswith("sqlite"):
        return []
    done: list[str] = []
    with fast_index.connect(url) as conn:
        conn.raw.autocommit = True  # VACUUM refuses to run inside a transaction
        if not conn.execute("SELECT pg_try_advisory_lock(?)", (_LOCK,)).fetchone()[0]:
            return []
        try:
            for table, vacuum in stale_tables(conn):
                conn.execute(f"{'VACUUM (ANALYZE)' if vacuum else 'ANALYZE'} {table}")
                done.append(table)
        finally:
            conn.execute("SELECT pg_advisory_unlock(?)", (_LOCK,))
    return done


class StatisticsKeeper:
    """Calls `refresh` at most every `interval` seconds, for a loop that writes in batches."""

    def __init__(self, url: str, *, interval: float = 10.0) -> None:
        self.url, self.interval = url, interval
        self._last = time.monotonic()

    def tick(self, *, force: bool = False) -> list[str]:
        if self.url.startswith("sqlite"):
            return []
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return []
        self._last = now
        try:
            done = refresh(self.url)
        except Exception:  # statistics are an optimisation: never fail the work for them
            log.warning("could not refresh planner statistics", exc_info=True)
            return []
        if done:
            log.info("refreshed planner statistics of %s", ", ".join(done))
        return done
