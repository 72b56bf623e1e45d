"""Planner statistics follow a library growing from nothing (repositories/statistics.py): a
scan that registers hundreds of files leaves the asset table analyzed on PostgreSQL, so
that plans made afterwards (and those cached before, which ANALYZE invalidates) see its size;
a queue-like table full of dead rows is vacuumed. SQLite: nothing is done."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from tests.media import write_text
from trove.db.database import Database
from trove.repositories import statistics
from trove.services.scanner import ScanService


def test_a_bulk_registration_leaves_the_tables_analyzed(settings, tmp_path):
    library = tmp_path / "library"
    for i in range(600):
        write_text(library / f"d{i % 6}" / f"note-{i}.txt", f"note {i}")
    ScanService(settings).scan(library)
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        assert statistics.refresh(url) == []
        return
    database = Database(url)
    try:
        # The scan analyzes what its writes made stale; where its final pass did not see them
        # yet, later refreshes (the pipeline's, the workers') do.
        _refresh_until_analyzed(database, ("assets", "links"))
        with database.session() as session:
            # Churn a queue-like table: its dead rows get it vacuumed, then nothing is stale.
            session.execute(text("DELETE FROM asset_count_deltas"))
        with database.session() as session:
            session.execute(
                text(
                    "INSERT INTO asset_count_deltas (root_key, asset_type, status, live, n)"
                    " SELECT '', 'other', 'ready', 1, 1 FROM generate_series(1, 3000)"
                )
            )
        with database.session() as session:
            session.execute(text("DELETE FROM asset_count_deltas"))
            # Its dead rows in pg_stat before the commit returns: left to itself, an idle
            # backend whose flush meets a busy stats entry retries only after 10 s.
            session.execute(text("SELECT pg_stat_force_next_flush()"))
        deadline = time.monotonic() + 10
        while not any(t == "asset_count_deltas" for t, vacuum in _stale(url) if vacuum):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert "asset_count_deltas" in statistics.refresh(url)
        with database.session() as session:
            vacuumed = session.scalar(
                text(
                    "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables"
                    " WHERE relname = 'asset_count_deltas'"
                )
            )
        assert vacuumed
    finally:
        database.dispose()


def _stale(url: str) -> list[tuple[str, bool]]:
    from trove.repositories import fast_index

    with fast_index.connect(url) as conn:
        return statistics.stale_tables(conn)


def _analyzed(database: Database) -> dict[str, bool]:
    with database.session() as session:
        rows = session.execute(
            text(
                "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables"
                " WHERE relname IN ('assets', 'links')"
            )
        ).all()
    return {name: done for name, done in rows}


@pytest.mark.databases("postgresql")
def test_a_first_scan_of_a_few_hundred_files_is_analyzed_too(settings, tmp_path):
    """A library of a few hundred documents was left unanalyzed (the rule wanted 500 changed
    rows) and PostgreSQL planned its first searches as over empty tables: a nested loop
    reading every document per asset, 3.4 s a search of 300 documents instead of 54 ms."""
    library = tmp_path / "library"
    for i in range(150):
        write_text(library / f"note-{i}.txt", f"note {i}")
    ScanService(settings).scan(library)
    database = Database(settings.resolved_database_url)
    try:
        _refresh_until_analyzed(database, ("assets",))
    finally:
        database.dispose()


def _refresh_until_analyzed(database: Database, tables: tuple[str, ...]) -> None:
    """A scan's writes reach pg_stat_user_tables up to ~10 s after its connections went idle
    (PostgreSQL 15 batches them), so its own final refresh may not see them yet: refreshed
    here until they show, the tables must then be analyzed."""
    deadline = time.monotonic() + 20
    while not all(_analyzed(database).get(table) for table in tables):
        assert time.monotonic() < deadline, _analyzed(database)
        time.sleep(0.5)
        statistics.refresh(database.url)
