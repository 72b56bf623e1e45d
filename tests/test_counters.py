"""The maintained counters the status and jobs endpoints (and the gallery's months) read agree
with counting the tables,
whatever wrote the rows: a real scan and pipeline, the raw registration path, soft deletes,
status changes, moved files, removed libraries. Both databases; on PostgreSQL also with two
sessions writing at once while a third folds."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import event, func, select, update

from tests.accounts import add_accounts, with_sign_in
from tests.media import make_library, write_text
from trove.db.database import Database
from trove.db.models import Asset, AssetStep, Root
from trove.domain.access import Viewer
from trove.domain.progress import library_progress
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository
from trove.repositories.counters import CounterRepository
from trove.services.container import Services
from trove.services.library import LibraryService


def counted(database: Database) -> tuple[dict, dict]:
    """(what the counters say, what counting the tables says), in the counters' shape."""
    with database.session() as session:
        tallies = {
            (t.root_id, t.asset_type, t.status, t.live): t.n
            for t in CounterRepository(session).asset_tallies()
        }
        steps = CounterRepository(session).step_counts()
        months = {
            (t.month, t.asset_type, t.root_id): t.n
            for t in CounterRepository(session).month_tallies()
        }
    with database.session() as session:
        live = Asset.deleted_at.is_(None)
        exact = {
            (root_id, asset_type, status, bool(is_live)): n
            for root_id, asset_type, status, is_live, n in session.execute(
                select(Asset.root_id, Asset.asset_type, Asset.status, live, func.count()).group_by(
                    Asset.root_id, Asset.asset_type, Asset.status, live
                )
            )
        }
        exact_steps = {
            (step, status): n
            for step, status, n in session.execute(
                select(AssetStep.step, AssetStep.status, func.count()).group_by(
                    AssetStep.step, AssetStep.status
                )
            )
        }
        month = AssetRepository(session)._month_key()
        exact_months = {
            (str(key), asset_type, root_id): n
            for key, asset_type, root_id, n in session.execute(
                select(month, Asset.asset_type, Asset.root_id, func.count())
                .where(live)
                .group_by(month, Asset.asset_type, Asset.root_id)
            )
        }
    return (tallies, steps, months), (exact, exact_steps, exact_months)


def test_counters_follow_scans_edits_deletes_and_removed_libraries(settings, tmp_path):
    library = make_library(tmp_path / "library", photos=3)
    service = LibraryService(settings)
    service.scan_and_process([str(library)], wait=True)
    database = Database(settings.resolved_database_url)
    try:
        mine, exact = counted(database)
        assert mine == exact and sum(mine[0].values()) > 5 and mine[1]

        status = service.status(viewer=Viewer.system())
        assert status["by_status"] == {"ready": sum(status["by_type"].values())}

        (library / "notes" / "later.txt").write_text("added after the first scan\n")
        (library / "graphics" / "logo.png").rename(library / "notes" / "logo.png")
        write_text(library / "notes" / "readme.txt", "changed\n")
        service.scan_and_process([str(library)], wait=True)
        with database.session() as session:
            first = session.scalars(select(Asset.id).where(Asset.filename == "later.txt")).one()
            session.execute(update(Asset).where(Asset.id == first).values(deleted_at=utcnow()))
            session.execute(
                update(Asset).where(Asset.filename == "empty.dat").values(status="error")
            )
            session.execute(  # to another month, and undated
                update(Asset)
                .where(Asset.filename == "readme.txt")
                .values(timeline_at=datetime(1999, 12, 31))
            )
            session.execute(
                update(Asset).where(Asset.filename == "logo.png").values(timeline_source="none")
            )
        mine, exact = counted(database)
        assert mine == exact and {key[0] for key in mine[2]} >= {"1999-12", ""}

        with database.session() as session:
            session.delete(session.scalars(select(Root)).one())  # cascades to its assets
        mine, exact = counted(database)
        assert mine == exact
        assert not [key for key in mine[0] if key[0] is not None]
    finally:
        database.dispose()


def test_concurrent_writers_and_folding_readers_keep_the_sum(settings, tmp_path):
    library = make_library(tmp_path / "library", photos=2)
    LibraryService(settings).scan_and_process([str(library)], wait=True)
    database = Database(settings.resolved_database_url)
    with database.session() as session:
        ids = list(session.scalars(select(Asset.id).where(Asset.rel_path.is_not(None))))
    errors: list[BaseException] = []

    def flip(offset: int) -> None:
        try:
            for turn in range(15):
                with database.session() as session:
                    status = "error" if turn % 2 == 0 else "ready"
                    for asset_id in ids[offset::2]:
                        session.execute(
                            update(Asset).where(Asset.id == asset_id).values(status=status)
                        )
                with database.session() as session:
                    CounterRepository(session).asset_tallies()  # folds when it gets the lock
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=flip, args=(offset,)) for offset in (0, 1)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors
        mine, exact = counted(database)
        assert mine == exact
    finally:
        database.dispose()


def test_status_shows_one_denominator_and_why_files_failed(settings, tmp_path):
    library = make_library(tmp_path / "library", photos=2)
    good = (library / "2023/2023-01 trip/IMG_0000.jpg").read_bytes()
    (library / "broken").mkdir()
    (library / "broken/truncated.jpg").write_bytes(good[: len(good) // 3])
    service = LibraryService(settings)
    service.scan_and_process([str(library)], wait=True)

    status = service.status(viewer=Viewer.system())

    progress = status["progress"]
    assert progress["files"] == 6 and progress["processing"] == 0
    assert progress["fraction"] == 1.0 and progress["eta_seconds"] is None
    assert {step["fraction"] for step in progress["steps"].values()} == {1.0}
    assert progress["steps"]["thumbnails"]["failed"] == 1
    (root,) = status["roots"]
    (failure,) = [f for f in root["failures"] if f["step"] == "thumbnails"]
    assert failure["count"] == 1 and failure["example"] == "broken/truncated.jpg"
    assert "truncated" in failure["message"].lower()


def test_a_members_files_per_library_are_those_the_counters_count(settings, tmp_path):
    """An admin's files per library are read from the counters (files in a library: no
    folder, proxy, link or note); a member's are counted, and must count the same files of
    the libraries they see, not their own links and notes under a library "None"."""
    library = make_library(tmp_path / "library", photos=2)
    services = Services.create(with_sign_in(settings))
    try:
        services.library.scan_and_process([str(library)], wait=True)
        users = add_accounts(services)
        admin = Viewer(user_id=users["alice"]["id"], is_admin=True)
        member = Viewer(user_id=users["bob"]["id"], is_admin=False)
        (root,) = services.library.roots()
        services.library_admin.set_member(root["id"], users["bob"]["id"], can_write=True)
        services.assets.ingest_virtual("url", {"url": "https://example.org/a"}, viewer=member)
        note = {"text": "seen", "related_to": [], "at": "2024-05-01T10:00:00Z"}
        services.assets.ingest_virtual("log_entry", note, viewer=member)

        counted = services.assets.counts_by_root(viewer=member)

        assert counted == services.assets.counts_by_root(viewer=admin) == {root["id"]: {"ready": 5}}
        progress = services.library.status(viewer=member)["progress"]
        assert (progress["files"], progress["processing"]) == (5, 0)
    finally:
        services.database.dispose()


# Statements of one status refresh: the leases; the asset, outcome, step and failure
# counters once each; the recent outcomes; the libraries; the open integrity findings; an
# example file per failure reason shown (one here). PostgreSQL first folds its counters'
# deltas: the lock, one statement moving all five, and the failure rows fallen to zero.
STATUS_STATEMENTS = {"sqlite": 9, "postgresql": 12}


def test_a_status_refresh_reads_each_counter_once(settings, tmp_path):
    library = make_library(tmp_path / "library", photos=2)
    good = (library / "2023/2023-01 trip/IMG_0000.jpg").read_bytes()
    (library / "truncated.jpg").write_bytes(good[: len(good) // 3])
    service = LibraryService(settings)
    service.scan_and_process([str(library)], wait=True)
    service.status(viewer=Viewer.system())  # schema checked, processors loaded
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(service.database.engine, "before_cursor_execute", note)
    try:
        status = service.status(viewer=Viewer.system())
    finally:
        event.remove(service.database.engine, "before_cursor_execute", note)
        service.database.dispose()

    assert status["progress"]["files"] == 6
    (failure,) = status["roots"][0]["failures"]
    assert failure["example"] == "truncated.jpg"
    dialect = service.database.engine.dialect.name
    assert len(statements) <= STATUS_STATEMENTS[dialect], "\n".join(statements)
    asset_counter_reads = [s for s in statements if "FROM asset_counts" in s]
    assert len(asset_counter_reads) == 1


def test_progress_is_over_all_files_with_an_eta_at_the_recent_rate():
    jobs = {
        "assets_per_s": 2.0,
        "steps": {
            "hash": {"queued": 10, "running": 2, "done": 88, "failed": 0},
            "thumbnails": {"queued": 0, "running": 0, "done": 5, "failed": 1},
        },
    }
    progress = library_progress(files=400, processing=12, jobs=jobs)
    assert progress.fraction == 0.97 and progress.eta_seconds == 6.0
    assert progress.steps["hash"].pending == 12 and progress.steps["hash"].fraction == 0.97
    assert progress.steps["thumbnails"].fraction == 1.0
    idle = library_progress(files=0, processing=0, jobs={"assets_per_s": 0, "steps": {}})
    assert idle.fraction == 1.0 and idle.eta_seconds is None
