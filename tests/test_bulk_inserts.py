"""New assets written in bulk (repositories/bulk_inserts.py): SQLite's insert triggers skip
them and the writer does their work once per batch. The counters, the status tallies and both
FTS5 indexes end exactly as the row triggers leave them, whatever the rows hold (processing,
failed, soft-deleted, undated files), and a scan's new files are found by search."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

import trove.pipeline.light as light
from tests.test_counters import counted
from tests.test_light_lane import _scan
from tests.test_status_tallies import assert_tallies_agree
from trove.config import Settings
from trove.db.database import Database
from trove.db.models import Asset, AssetStep
from trove.domain.ids import new_id
from trove.repositories.bulk_inserts import bulk_inserted
from trove.services import search

COUNTERS = (
    "asset_counts",
    "month_counts",
    "step_counts",
    "processing_outcome_counts",
    "failure_counts",
)


def _settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'trove.db'}",
        allowed_hosts="testserver",
        auth=False,
    )


def _fts_intact(database: Database) -> None:
    """FTS5's own check that each index holds exactly its documents' words (raises if not)."""
    with database.session() as session:
        for table in ("search_fts", "search_trigram"):
            session.execute(text(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')"))


def _state(database: Database) -> dict[str, Any]:
    """The counters and what each FTS5 index finds, with the ids made comparable."""
    with database.session() as session:
        state: dict[str, Any] = {name: _rows(session, name) for name in COUNTERS}
        for table, query in (("search_fts", "tree*"), ("search_trigram", '"ree-"')):
            state[table] = sorted(
                session.execute(
                    text(
                        f"SELECT d.asset_id FROM {table} JOIN search_documents d"
                        f" ON d.doc_id = {table}.rowid WHERE {table} MATCH :q"
                    ),
                    {"q": query},
                ).scalars()
            )
        state["listed"] = session.scalar(text("SELECT count(*) FROM bulk_inserts"))
    return state


def _rows(session: Any, table: str) -> list[tuple]:
    """A counter's rows without its surrogate key (numbered in the order they were made)."""
    result = session.execute(text(f"SELECT * FROM {table}"))
    keep = [i for i, name in enumerate(result.keys()) if name != "id"]
    return sorted(tuple(row[i] for i in keep) for row in result)


def _crafted_rows(template: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """Assets in every state a counter tells apart, and their step outcomes."""
    assets, steps = [], []
    now = datetime(2026, 12, 3, 12, 0)
    for n, (status, deleted, source) in enumerate(
        [
            ("ready", None, "file"),
            ("processing", None, "file"),
            ("processing", now, "file"),
            ("error", None, "none"),
            ("ready", now, "none"),
            ("processing", None, "name"),
        ]
        * 3
    ):
        asset_id = new_id()
        rel_path = f"crafted/tree-{n:02d}.txt"
        assets.append(
            {
                **template,
                "id": asset_id,
                "rel_path": rel_path,
                "filename": rel_path.rpartition("/")[2],
                "storage_urn": f"{template['storage_urn']}-crafted-{n}",
                "status": status,
                "deleted_at": deleted,
                "timeline_source": source,
                "timeline_at": datetime(2020 + n % 4, 1 + n % 12, 5),
                "inode": None,
            }
        )
        for step, outcome, message in (
            ("mime", "ok", None),
            ("hash", "failed" if n % 2 else "ok", f"cannot read ({n % 3})" if n % 2 else None),
            ("thumbnails", "skipped", "not a picture"),
        ):
            steps.append(
                {
                    "asset_id": asset_id,
                    "step": step,
                    "status": outcome,
                    "version": 1 + n % 2,
                    "message": message,
                    "duration_ms": 1.0,
                    "updated_at": now,
                }
            )
    return assets, steps


def _insert(database: Database, assets: list[dict], steps: list[dict], *, bulk: bool) -> None:
    with database.session() as session:
        counted_before = _rows(session, "asset_counts")
        listed = bulk_inserted(session, [a["id"] for a in assets])
        with listed if bulk else contextlib.nullcontext():
            session.execute(insert(Asset.__table__), assets)
            # The row triggers skipped the listed rows: the block's end counts them.
            assert (_rows(session, "asset_counts") == counted_before) is bulk
            session.execute(insert(AssetStep.__table__), steps)
            search.index_new_files(session, [{**a, "meta": {}} for a in assets])
            _change_some(session, assets)
        session.commit()


def _change_some(session: Any, assets: list[dict]) -> None:
    """Rows changed and deleted after their insert, before the block ends: counted as they
    stand at its end, once."""
    table = Asset.__table__
    session.execute(
        update(table).where(table.c.id == assets[1]["id"]).values(status="ready", root_id=None)
    )
    session.execute(update(table).where(table.c.id == assets[2]["id"]).values(deleted_at=None))
    session.execute(
        update(AssetStep.__table__)
        .where(AssetStep.__table__.c.asset_id == assets[3]["id"])
        .values(status="failed", message="changed its mind")
    )
    session.execute(delete(table).where(table.c.id == assets[4]["id"]))
    session.execute(
        text("UPDATE search_documents SET name = 'renamed tree' WHERE asset_id = :id"),
        {"id": assets[5]["id"]},
    )


def test_rows_inserted_in_bulk_are_counted_and_indexed_as_the_row_triggers_do(
    tmp_path: Path,
) -> None:
    root = tmp_path / "library"
    (root / "notes").mkdir(parents=True)
    for n in range(5):
        (root / "notes" / f"note-{n}.txt").write_text(f"note {n}\n")
    scanned = _settings(tmp_path / "scanned")
    _scan(scanned, root)
    with Database(scanned.resolved_database_url).session() as session:
        template = dict(
            session.execute(select(Asset.__table__).where(Asset.rel_path == "notes/note-0.txt"))
            .mappings()
            .one()
        )
    assets, steps = _crafted_rows(template)

    states = {}
    for bulk in (True, False):
        data_dir = tmp_path / f"bulk-{bulk}"
        shutil.copytree(tmp_path / "scanned", data_dir)
        database = Database(_settings(data_dir).resolved_database_url)
        try:
            _insert(database, assets, steps, bulk=bulk)
            _fts_intact(database)
            mine, exact = counted(database)
            assert mine == exact
            assert_tallies_agree(database)
            states[bulk] = _state(database)
        finally:
            database.dispose()

    assert states[True] == states[False]
    assert len(states[True]["search_fts"]) == len(states[True]["search_trigram"]) == len(assets) - 1
    assert states[True]["listed"] == 0
    failed = [row for row in states[True]["failure_counts"] if row[-1]]
    assert failed and states[True]["processing_outcome_counts"]


def test_a_block_that_fails_leaves_nothing_behind(tmp_path: Path) -> None:
    root = tmp_path / "library"
    root.mkdir()
    (root / "a.txt").write_text("a\n")
    settings = _settings(tmp_path / "data")
    _scan(settings, root)
    database = Database(settings.resolved_database_url)
    try:
        before = _state(database)
        with database.session() as session:
            with pytest.raises(RuntimeError), bulk_inserted(session, [new_id()]):
                raise RuntimeError("the batch's insert failed")
            session.rollback()
        assert _state(database) == before
    finally:
        database.dispose()


def test_a_scan_through_the_light_pass_keeps_counters_tallies_and_search_exact(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from trove.app import create_app

    root = tmp_path / "library"
    for n in range(120):
        folder = root / f"tree-{n % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"leaf-{n:03d}.txt").write_text(f"leaf {n}\n")
    monkeypatch.setattr(light, "OPEN_AFTER_FILES", 0)
    settings = dataclasses.replace(settings, scan_batch_size=25)

    _scan(settings, root)

    database = Database(settings.resolved_database_url)
    try:
        if database.url.startswith("sqlite"):
            _fts_intact(database)
            assert _state(database)["listed"] == 0
        mine, exact = counted(database)
        assert mine == exact and sum(mine[0].values()) == 120 + 5
        assert_tallies_agree(database)
    finally:
        database.dispose()
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/dam/assets", params={"q": "leaf-07", "limit": 100})
    assert response.status_code == 200
    found = {i["filename"] for i in response.json()["items"]}
    assert found == {f"leaf-07{n}.txt" for n in range(10)}
