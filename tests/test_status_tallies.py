"""The status page's maintained tallies (migration 0018_status_tallies) agree with counting
the tables: the outcomes of files still processing per step and version, and the failed
outcomes per library, step and message. After a real scan and pipeline, failures, a retry,
files changed, fixed and deleted on disk, the Trash and back, a dropped record and a removed
library; and with two sessions changing the same files and their outcomes at once. Both
databases."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, insert, select, update

from tests.media import make_library, write_jpeg, write_text
from tests.migrating import migrate_to
from trove.db.database import Database
from trove.db.engine import make_engine
from trove.db.migrate import ensure_schema
from trove.db.models import Asset, AssetStep, FailureCount, Root
from trove.domain.access import Viewer
from trove.repositories.counters import CounterRepository
from trove.services.assets import AssetService
from trove.services.library import LibraryService
from trove.services.trash import TrashService

ADMIN = Viewer.system()


def tallied(database: Database) -> tuple[dict, dict]:
    with database.session() as session:
        counters = CounterRepository(session)
        processing = counters.processing_outcomes()
        failures = {(t.root_id, t.step, t.message): t.n for t in counters.failure_tallies()}
        session.commit()  # keep what PostgreSQL's fold moved
    return processing, failures


def counted(database: Database) -> tuple[dict, dict]:
    """What the tallies should say, counted by brute force."""
    with database.session() as session:
        outcome_of_file = (
            select().select_from(AssetStep).join(Asset, Asset.id == AssetStep.asset_id)
        )
        processing = {
            (step, version): n
            for step, version, n in session.execute(
                outcome_of_file.add_columns(AssetStep.step, AssetStep.version, func.count())
                .where(Asset.status == "processing", Asset.deleted_at.is_(None))
                .group_by(AssetStep.step, AssetStep.version)
            )
        }
        message = func.coalesce(AssetStep.message, "")
        failures = {
            (root_id, step, text): n
            for root_id, step, text, n in session.execute(
                outcome_of_file.add_columns(Asset.root_id, AssetStep.step, message, func.count())
                .where(
                    AssetStep.status == "failed",
                    Asset.root_id.is_not(None),
                    Asset.deleted_at.is_(None),
                )
                .group_by(Asset.root_id, AssetStep.step, message)
            )
        }
    return processing, failures


def assert_tallies_agree(database: Database) -> tuple[dict, dict]:
    mine = tallied(database)
    assert mine == counted(database)
    with database.session() as session:  # a message none of whose files failed leaves no row
        assert not session.scalar(select(func.count()).where(FailureCount.n == 0))
    return mine


def asset_id(database: Database, rel_path: str) -> str:
    with database.session() as session:
        return session.scalars(select(Asset.id).where(Asset.rel_path == rel_path)).one()


def test_the_tallies_follow_scans_failures_retries_changes_deletions_and_the_trash(
    settings, tmp_path
):
    library = make_library(tmp_path / "library", photos=2)
    good = (library / "2023/2023-01 trip/IMG_0000.jpg").read_bytes()
    (library / "broken").mkdir()
    for name in ("a.jpg", "b.jpg"):
        (library / "broken" / name).write_bytes(good[: len(good) // 3])
    service = LibraryService(settings)
    service.scan_and_process([str(library)], wait=True)
    database = Database(settings.resolved_database_url)
    assets = AssetService(settings, database)
    trash = TrashService(database, assets=assets)
    try:
        processing, failures = assert_tallies_agree(database)
        assert not processing
        ((root_id, step, message), n) = next(
            (k, n) for k, n in failures.items() if k[1] == "thumbnails"
        )
        assert n == 2 and "truncated" in message.lower()
        (root,) = service.status(viewer=ADMIN)["roots"]
        (shown,) = [f for f in root["failures"] if f["step"] == "thumbnails"]
        assert shown["count"] == 2 and shown["example"] in {"broken/a.jpg", "broken/b.jpg"}
        assert service.status(viewer=ADMIN)["jobs"]["steps"]["thumbnails"]["queued"] == 0

        # A retry: the failed step is sent back, its files processing with their outcomes.
        assert service.pipeline().reprocess("thumbnails", force=False) == 2
        processing, _ = assert_tallies_agree(database)
        assert {key[0] for key in processing} >= {"mime", "hash", "thumbnails"}
        assert sum(n for key, n in processing.items() if key[0] == "thumbnails") == 2
        jobs = service.status(viewer=ADMIN)["jobs"]["steps"]
        assert jobs["thumbnails"]["queued"] == 0 and jobs["mime"]["queued"] == 0
        service.pipeline().run_pending()
        assert_tallies_agree(database)

        # The Trash and back, and a file changed on disk (processing again, outcomes kept).
        trashed = asset_id(database, "broken/a.jpg")
        assets.delete(trashed, viewer=ADMIN)
        assert assert_tallies_agree(database)[1][(root_id, step, message)] == 1
        assert trash.restore([trashed], viewer=ADMIN) == 1
        assert assert_tallies_agree(database)[1][(root_id, step, message)] == 2
        write_text(library / "notes" / "readme.txt", "changed\n")
        write_text(library / "notes" / "new.txt", "new\n")
        service.scan_and_process([str(library)], wait=False)
        assert_tallies_agree(database)
        photo = asset_id(database, "2023/2023-02 trip/IMG_0001.jpg")
        with database.session() as session:  # as a worker that died leaves it
            session.execute(update(Asset).where(Asset.id == photo).values(status="processing"))
        assert assert_tallies_agree(database)[0]
        assets.delete(photo, viewer=ADMIN, hard=True)
        assert_tallies_agree(database)
        service.pipeline().run_pending()
        assert assert_tallies_agree(database)[0] == {}

        # One broken file fixed; the other deleted from disk (missing, its record kept, and
        # its failure listed as before the tallies).
        write_jpeg(library / "broken" / "a.jpg", seed=9)
        (library / "broken" / "b.jpg").unlink()
        service.scan_and_process([str(library)], wait=True)
        processing, failures = assert_tallies_agree(database)
        assert not processing and failures[(root_id, step, message)] == 1
        (shown,) = service.status(viewer=ADMIN)["roots"][0]["failures"]
        assert shown["example"] == "broken/b.jpg"

        with database.session() as session:  # outcomes rewritten and dropped by hand
            session.execute(
                update(AssetStep)
                .where(AssetStep.step == "mime")
                .values(status="failed", message="by hand")
            )
            session.execute(update(Asset).values(status="processing"))
        assert assert_tallies_agree(database)[1]
        with database.session() as session:
            session.execute(update(AssetStep).values(version=AssetStep.version + 1))
            session.execute(AssetStep.__table__.delete().where(AssetStep.step == "hash"))
        assert assert_tallies_agree(database)[0]
        with database.session() as session:
            session.delete(session.scalars(select(Root)).one())  # cascades to everything
        assert assert_tallies_agree(database) == ({}, {})
    finally:
        database.dispose()


def test_two_sessions_changing_the_same_files_and_their_outcomes_keep_the_tallies(
    settings, tmp_path
):
    library = make_library(tmp_path / "library", photos=2)
    LibraryService(settings).scan_and_process([str(library)], wait=True)
    database = Database(settings.resolved_database_url)
    with database.session() as session:
        ids = sorted(session.scalars(select(Asset.id).where(Asset.rel_path.is_not(None))))
    errors: list[BaseException] = []

    def flip_files() -> None:
        for turn in range(12):
            with database.session() as session:
                for n, asset in enumerate(ids):
                    values: dict = {"status": "processing" if (turn + n) % 2 else "ready"}
                    if turn % 3 == 2:
                        values["deleted_at"] = None if n % 2 else func.now()
                    session.execute(update(Asset).where(Asset.id == asset).values(**values))

    def rewrite_outcomes() -> None:
        for turn in range(12):
            with database.session() as session:
                for asset in ids:
                    session.execute(
                        update(AssetStep)
                        .where(AssetStep.asset_id == asset)
                        .values(
                            version=AssetStep.version + (1 if turn % 2 else -1),
                            status="failed" if turn % 2 else "ok",
                            message=f"turn {turn % 4}",
                        )
                    )

    def run(work) -> None:
        try:
            work()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in (flip_files, rewrite_outcomes)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors
        assert_tallies_agree(database)
    finally:
        database.dispose()


def test_an_index_upgraded_to_the_tallies_has_them_counted(database_url):
    """Migration 0018 counts what an existing index holds: outcomes of a processing file, of
    a deleted one, and failures of a file in a library and of one in the Trash."""
    ensure_schema(database_url)
    migrate_to(database_url, "0017_month_counts", down=True)
    engine = make_engine(database_url)
    now = datetime(2024, 1, 1)
    files = {
        "busy": ("processing", None),
        "gone": ("processing", now),
        "done": ("ready", None),
        "trashed": ("ready", now),
    }
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(Root.__table__),
                [{"id": "root-1", "path": "/r", "name": "r", "created_at": now}],
            )
            for name, (status, deleted_at) in files.items():
                connection.execute(
                    insert(Asset.__table__),
                    [
                        {
                            "id": name,
                            "root_id": "root-1",
                            "rel_path": name,
                            "filename": name,
                            "storage_urn": f"fs://local/r/{name}",
                            "status": status,
                            "deleted_at": deleted_at,
                            "timeline_at": now,
                            "created_at": now,
                            "updated_at": now,
                        }
                    ],
                )
                for step, outcome in (("mime", "ok"), ("hash", "failed")):
                    connection.execute(
                        insert(AssetStep.__table__),
                        [
                            {
                                "asset_id": name,
                                "step": step,
                                "status": outcome,
                                "version": 2,
                                "message": "unreadable" if outcome == "failed" else None,
                                "updated_at": now,
                            }
                        ],
                    )
    finally:
        engine.dispose()
    migrate_to(database_url, "head")
    database = Database(database_url)
    try:
        processing, failures = assert_tallies_agree(database)
        assert processing == {("mime", 2): 1, ("hash", 2): 1}
        assert failures == {("root-1", "hash", "unreadable"): 2}
    finally:
        database.dispose()
