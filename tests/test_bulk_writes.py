"""Bulk writes through the driver (repositories/_sql.py insert_rows, update_rows) store exactly
what SQLAlchemy's Core statements store, on both databases: the same text for a DateTime on
SQLite, the same JSON, booleans, NULLs and enum values; a row shape that leaves out a column
with a Python default still gets it; upserts replace, ignored conflicts skip, and an update of
a row that is gone changes nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, event, insert, select, text, update

from trove.db.database import Database
from trove.db.models import OWNER_ID, Asset, AssetStep, Link
from trove.domain.enums import AssetCategory, AssetStatus, AssetType
from trove.domain.ids import new_id
from trove.repositories import _sql
from trove.repositories._sql import insert_ignoring_conflicts, insert_rows, update_rows
from trove.repositories.links import edge
from trove.repositories.steps import StepRepository
from trove.services.scan_writer import register_root

ASSETS: Table = Asset.__table__  # type: ignore[assignment]
RENAMED = {"meta": "metadata"}
# Columns whose stored form differs between the two rows on purpose.
OWN = {"id", "rel_path", "filename", "storage_urn"}


@pytest.fixture
def root_id(database: Database, tmp_path: Path) -> str:
    (tmp_path / "lib").mkdir()
    return register_root(database, str(tmp_path / "lib"), upload_folder=str(tmp_path / "up")).id


def asset_row(root_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": new_id(),
        "owner_id": OWNER_ID,
        "root_id": root_id,
        "rel_path": name,
        "path_escaped": True,
        "filename": name,
        "storage_urn": f"fs://local/x/{name}",
        "size": 12,
        "mtime_ns": 1_700_000_000_123_456_789,
        "ctime_ns": None,
        "inode": 42,
        "device": 7,
        "mime_type": "text/plain",
        "asset_type": AssetType.DOCUMENT,
        "category": AssetCategory.PHYSICAL,
        "status": AssetStatus.PROCESSING,
        "error_message": None,
        "is_virtual": False,
        "visibility": "private",
        "thumbnails": {},
        "meta": {"document": {"dates": [], "total": None, "name": "Résumé"}, "n": 1.5},
        "version": 1,
        "timeline_at": datetime(1601, 1, 1, 0, 0, 0),
        "timeline_source": "mtime",
        "created_at": datetime(2026, 12, 2, 3, 4, 5, 60),
        "updated_at": datetime(2026, 12, 2, 3, 4, 5),
        **extra,
    }


def stored(database: Database, table: str, key: str, value: str) -> dict[str, Any]:
    """A row as the database holds it, read without SQLAlchemy's types (DateTime as the text
    SQLite keeps, JSON as the driver returns it)."""
    with database.session() as session:
        row = session.execute(
            text(f"SELECT * FROM {table} WHERE {key} = :v"), {"v": value}
        ).mappings()
        return dict(next(iter(row)))


def test_an_inserted_row_is_stored_as_the_core_insert_stores_it(
    database: Database, root_id: str
) -> None:
    by_core = asset_row(root_id, "core.txt")
    by_driver = asset_row(root_id, "driver.txt")
    with database.session() as session:
        session.execute(insert(ASSETS), [{RENAMED.get(k, k): v for k, v in by_core.items()}])
        insert_rows(session, ASSETS, [by_driver], renamed=RENAMED)
    core = stored(database, "assets", "id", by_core["id"])
    driver = stored(database, "assets", "id", by_driver["id"])
    assert {k: v for k, v in driver.items() if k not in OWN} == {
        k: v for k, v in core.items() if k not in OWN
    }
    with database.session() as session:
        asset = session.get(Asset, by_driver["id"])
        assert asset is not None
        assert asset.meta == by_driver["meta"]
        assert asset.created_at == by_driver["created_at"]
        assert asset.timeline_at == datetime(1601, 1, 1)
        assert asset.path_escaped is True


def test_a_column_with_a_default_left_out_gets_its_default(
    database: Database, root_id: str
) -> None:
    row = asset_row(root_id, "defaults.txt")
    for key in ("version", "thumbnails", "is_virtual", "visibility"):
        del row[key]
    with database.session() as session:
        insert_rows(session, ASSETS, [row], renamed=RENAMED)
        asset = session.get(Asset, row["id"])
        assert asset is not None
        assert (asset.version, asset.thumbnails, asset.is_virtual, asset.visibility) == (
            1,
            {},
            False,
            "private",
        )


def test_upserts_replace_and_ignored_conflicts_skip(database: Database, root_id: str) -> None:
    row = asset_row(root_id, "a.txt")
    with database.session() as session:
        insert_rows(session, ASSETS, [row], renamed=RENAMED)
        folder = session.scalar(select(Asset.id).where(Asset.rel_path == ""))
        assert folder is not None
        steps = StepRepository(session)
        outcome = {"asset_id": row["id"], "step": "mime", "version": 1, "message": None}
        steps.record(
            [{**outcome, "status": "failed", "duration_ms": 1.0, "updated_at": row["created_at"]}]
        )
        steps.record(
            [{**outcome, "status": "ok", "duration_ms": 2.5, "updated_at": row["updated_at"]}]
        )
        first = edge(folder, row["id"], "contains")
        insert_ignoring_conflicts(session, Link, [first])
        insert_ignoring_conflicts(session, Link, [edge(folder, row["id"], "contains")])
    with database.session() as session:
        recorded = session.execute(select(AssetStep.status, AssetStep.duration_ms)).all()
        assert [tuple(r) for r in recorded] == [("ok", 2.5)]
        links = session.scalars(select(Link.id).where(Link.target_id == row["id"])).all()
        assert links == [first["id"]]


def test_an_update_sets_its_columns_and_skips_rows_that_are_gone(
    database: Database, root_id: str
) -> None:
    by_core = asset_row(root_id, "core.txt")
    by_driver = asset_row(root_id, "driver.txt")
    changes = {
        "status": AssetStatus.READY,
        "error_message": None,
        "meta": {"hash": {"algo": "sha256"}, "flag": True},
        "updated_at": datetime(2026, 12, 2, 4, 5, 6, 789),
    }
    with database.session() as session:
        insert_rows(session, ASSETS, [by_core, by_driver], renamed=RENAMED)
    with database.session() as session:
        session.execute(
            update(ASSETS)
            .where(ASSETS.c.id == by_core["id"])
            .values({RENAMED.get(k, k): v for k, v in changes.items()})
        )
        update_rows(
            session,
            ASSETS,
            [{"id": by_driver["id"], **changes}, {"id": new_id(), **changes}, {"id": "x"}],
            renamed=RENAMED,
        )
    core = stored(database, "assets", "id", by_core["id"])
    driver = stored(database, "assets", "id", by_driver["id"])
    assert {k: v for k, v in driver.items() if k not in OWN} == {
        k: v for k, v in core.items() if k not in OWN
    }
    assert driver["status"] == "ready"


def test_a_batch_meeting_one_key_twice_keeps_its_last_upsert_and_its_first_ignored_row(
    database: Database, root_id: str
) -> None:
    """PostgreSQL takes a batch as one statement (INSERT ... SELECT FROM unnest), where an
    upsert may not meet the same key twice: the batch's last row of a key wins, as the later
    of one statement per row did."""
    row = asset_row(root_id, "a.txt")
    outcome = {"asset_id": row["id"], "step": "mime", "version": 1}
    with database.session() as session:
        insert_rows(session, ASSETS, [row], renamed=RENAMED)
        folder = session.scalar(select(Asset.id).where(Asset.rel_path == ""))
        assert folder is not None
        failed = {**outcome, "message": "x", "status": "failed", "duration_ms": 1.0}
        failed["updated_at"] = row["created_at"]
        ok = {**outcome, "message": None, "status": "ok", "duration_ms": 2.5}
        ok["updated_at"] = row["updated_at"]
        StepRepository(session).record([failed, ok])
        first = edge(folder, row["id"], "contains")
        insert_ignoring_conflicts(session, Link, [first, edge(folder, row["id"], "contains")])
    with database.session() as session:
        recorded = session.execute(select(AssetStep.status, AssetStep.duration_ms)).all()
        assert [tuple(r) for r in recorded] == [("ok", 2.5)]
        links = session.scalars(select(Link.id).where(Link.target_id == row["id"])).all()
        assert links == [first["id"]]


def test_an_update_batch_is_one_statement_a_shape_and_a_row_met_twice_keeps_its_last_values(
    database: Database, root_id: str
) -> None:
    """Each row shape is one UPDATE ... FROM unnest on PostgreSQL, one UPDATE ... FROM VALUES
    on SQLite (executemany ran a statement per row); a row met twice in one statement is
    updated once, so its last values are the ones kept, as the later statement set them."""
    rows = [asset_row(root_id, f"{n}.txt") for n in range(5)]
    with database.session() as session:
        insert_rows(session, ASSETS, rows, renamed=RENAMED)
    first, second, third = (rows[n]["id"] for n in range(3))
    later = datetime(2026, 12, 2, 5, 6, 7, 8)
    statements: list[tuple[str, bool]] = []

    def seen(_conn: Any, _cursor: Any, sql: str, _params: Any, _ctx: Any, many: bool) -> None:
        statements.append((sql.split(" ", 1)[0], many))

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with database.session() as session:
            update_rows(
                session,
                ASSETS,
                [
                    {"id": first, "status": AssetStatus.READY, "meta": {"n": 1}},
                    {"id": second, "status": AssetStatus.ERROR, "meta": {"n": 2}},
                    {"id": first, "status": AssetStatus.MISSING, "meta": {"n": 3}},
                    {"id": third, "error_message": None, "updated_at": later},
                    {"id": second, "error_message": "unreadable", "updated_at": later},
                ],
                renamed=RENAMED,
            )
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    updates = [many for verb, many in statements if verb == "UPDATE"]
    assert updates == [False, False]
    with database.session() as session:
        stored = {
            a.id: (a.status, a.meta, a.error_message, a.updated_at)
            for a in session.scalars(select(Asset).where(Asset.id.in_([first, second, third])))
        }
    assert stored == {
        first: (AssetStatus.MISSING, {"n": 3}, None, rows[0]["updated_at"]),
        second: (AssetStatus.ERROR, {"n": 2}, "unreadable", later),
        third: (AssetStatus.PROCESSING, rows[2]["meta"], None, later),
    }


def test_batches_longer_than_a_statement_keep_every_row_and_the_last_of_each_key(
    database: Database, root_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite takes a batch as multi-row statements of at most SQLITE_ROWS_PER_STATEMENT rows
    (executemany's statement a row kept a statement journal a row): rows in later statements
    are stored, a key met again in a later statement or in the same one ends with its last
    values, and the counters the triggers keep agree with the rows."""
    monkeypatch.setattr(_sql, "SQLITE_ROWS_PER_STATEMENT", 7)
    rows = [asset_row(root_id, f"{n}.txt") for n in range(30)]
    ids = [r["id"] for r in rows]
    outcome = {"step": "mime", "version": 1, "message": None, "duration_ms": 1.0}
    at = rows[0]["updated_at"]
    outcomes = [{**outcome, "asset_id": i, "status": "failed", "updated_at": at} for i in ids]
    # Met again: ids 0-4 in later statements, id 29 in its own statement.
    outcomes += [{**outcome, "asset_id": i, "status": "ok", "updated_at": at} for i in ids[:5]]
    outcomes.append({**outcome, "asset_id": ids[29], "status": "ok", "updated_at": at})
    with database.session() as session:
        insert_rows(session, ASSETS, rows, renamed=RENAMED)
        StepRepository(session).record(outcomes)
        changes = [
            {"id": i, "status": AssetStatus.READY, "meta": {"n": n}} for n, i in enumerate(ids)
        ]
        changes += [
            {"id": ids[n], "status": AssetStatus.ERROR, "meta": {"n": -n}} for n in (0, 1, 28)
        ]
        update_rows(session, ASSETS, changes, renamed=RENAMED)
    with database.session() as session:
        assets = {
            a.id: (a.status, a.meta)
            for a in session.scalars(select(Asset).where(Asset.id.in_(ids)))
        }
        steps = {i: s for i, s in session.execute(select(AssetStep.asset_id, AssetStep.status))}
        counts = StepRepository(session).counts()
    again = {ids[0], ids[1], ids[28]}
    assert assets == {
        i: (AssetStatus.ERROR, {"n": -n}) if i in again else (AssetStatus.READY, {"n": n})
        for n, i in enumerate(ids)
    }
    ok = {*ids[:5], ids[29]}
    assert steps == {i: "ok" if i in ok else "failed" for i in ids}
    assert counts == {("mime", "ok"): 6, ("mime", "failed"): 24}
