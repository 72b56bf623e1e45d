"""The whole pipeline over a scanned library, on SQLite and PostgreSQL: what the index holds
afterwards, what the API serves, and how steps are re-run, shared and recovered."""

from __future__ import annotations

import dataclasses
import io
import shutil
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.pipeline_media import camera_exif, photo, text_image, text_pdf, video, write_photo
from trove.db.database import Database
from trove.db.migrate import ensure_schema
from trove.db.models import Asset, AssetStep, Link, PipelineLease
from trove.domain.enums import AssetStatus, StepStatus
from trove.repositories._sql import utcnow
from trove.repositories.pipeline import PipelineRepository
from trove.services.library import LibraryService
from trove.storage import cache

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> Path:
    """One library for every test here (read-only to Trove, so safely shared)."""
    root = tmp_path_factory.mktemp("media") / "library"
    original = photo((1600, 1200), seed=11)
    write_photo(root / "trip/original.jpg", image=original, exif=camera_exif(orientation=6))
    # An export of it, as a viewer shows it (upright), smaller and recompressed.
    upright = original.transpose(Image.Transpose.ROTATE_270)
    copy = upright.resize((480, 640), Image.Resampling.LANCZOS)
    write_photo(root / "trip/edited/resized-copy.jpg", image=copy, quality=60)
    write_photo(root / "trip/unrelated.jpg", size=(1600, 1200), seed=99)
    (root / "icons").mkdir()
    photo((100, 80), seed=5).save(root / "icons/tiny.png")
    video(root / "clips/clip.mp4", size=(320, 240), seconds=2)
    video(root / "clips/phone.mov", size=(320, 240), seconds=1, rotate=90)
    text_pdf(root / "docs/report.pdf", ["Annual report of the Trove society", "Members 42"])
    text_image(root / "docs/receipt.png")
    good = (root / "trip/original.jpg").read_bytes()
    (root / "broken").mkdir()
    (root / "broken/truncated.jpg").write_bytes(good[: len(good) // 3])
    return root


@pytest.fixture
def scanned(settings, media, monkeypatch):
    # The pipeline starts beside the walk once it has registered something (progress after
    # every file, written two at a time) and takes the files as they are written (the light
    # lane holds a scan's first new files and gives them back when the walk ends): all done.
    monkeypatch.setattr("trove.services.scanner.PROGRESS_EVERY", 1)
    library = LibraryService(dataclasses.replace(settings, scan_batch_size=2))
    run = library.scan_and_process([str(media)], wait=True)
    yield library, run
    library.database.dispose()


def assets_by_path(database: Database) -> dict[str, Asset]:
    with database.session() as session:
        rows = session.query(Asset).all()
        return {a.rel_path or a.storage_urn: a for a in rows}


def steps_of(database: Database, asset_id: str) -> dict[str, AssetStep]:
    with database.session() as session:
        rows = session.query(AssetStep).filter(AssetStep.asset_id == asset_id).all()
        return {row.step: row for row in rows}


def links(database: Database, relation: str) -> set[tuple[str, str]]:
    with database.session() as session:
        rows = session.query(Link).filter(Link.relation == relation).all()
        return {(row.source_id, row.target_id) for row in rows}


def test_every_asset_is_processed_with_its_metadata(scanned):
    library, run = scanned
    assert run.pipeline is not None and run.pipeline.errors == 0
    found = assets_by_path(library.database)
    files = [a for a in found.values() if a.rel_path and a.asset_type != "collection"]
    assert run.pipeline.assets >= len(files) >= 9
    assert not [a.rel_path for a in files if a.status == AssetStatus.PROCESSING]
    photo_ = found["trip/original.jpg"]
    assert photo_.status == AssetStatus.READY
    assert photo_.meta["exif"]["Make"] == "Canon"
    assert photo_.meta["exif"]["Model"] == "EOS 5D Mark IV"
    assert photo_.meta["geo"]["lat"] == pytest.approx(48.858222, abs=1e-5)
    assert photo_.meta["geo"]["lon"] == pytest.approx(-2.2945, abs=1e-5)
    assert (photo_.width, photo_.height) == (1200, 1600)  # orientation 6: shown upright
    assert photo_.captured_at.isoformat() == "2021-07-04T15:30:45"
    assert photo_.timeline_at == photo_.captured_at
    assert len(photo_.phash) == 16
    clip = found["clips/clip.mp4"]
    assert clip.duration == pytest.approx(2.0, abs=0.1)
    assert (clip.width, clip.height) == (320, 240)
    assert {s["codec"] for s in clip.meta["probe"]["streams"]} == {"h264", "aac"}
    report = found["docs/report.pdf"]
    assert "Annual report of the Trove society" in report.meta["text"]["content"]
    receipt = found["docs/receipt.png"]
    assert "harbour" in receipt.meta["ocr"]["content"].lower()
    assert set(steps_of(library.database, photo_.id)) >= {
        "mime", "hash", "metadata", "thumbnails", "phash", "ocr",
    }  # fmt: skip


def test_a_broken_file_fails_its_step_and_keeps_the_others(scanned):
    library, _ = scanned
    broken = assets_by_path(library.database)["broken/truncated.jpg"]
    steps = steps_of(library.database, broken.id)
    assert broken.status == AssetStatus.READY  # only a failed required step (hash) is an error
    assert steps["hash"].status == "ok" and steps["metadata"].status == "ok"
    assert steps["thumbnails"].status == "failed"
    assert "truncated" in steps["thumbnails"].message
    assert steps["phash"].status == "skipped"


def test_previews_are_in_the_cache_and_cached_as_immutable_by_the_browser_alone(settings, scanned):
    library, _ = scanned
    found = assets_by_path(library.database)
    tiny = found["icons/tiny.png"]
    for size in ("small", "medium", "large"):
        path = settings.resolved_cache_dir / tiny.hash[:2] / tiny.hash / f"{size}.webp"
        assert Image.open(path).size == (100, 80)
    from trove.app import create_app

    app = create_app(settings)
    with TestClient(app) as client:
        detail = client.get(f"/api/dam/assets/{found['trip/original.jpg'].id}").json()
        assert set(detail["thumbnails"]) == {"small", "medium", "large"}
        response = client.get(detail["thumbnails"]["large"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
        # Never kept by a shared cache: the same URL answers each viewer by what they may see.
        assert response.headers["cache-control"] == "private, max-age=31536000, immutable"
        assert Image.open(io.BytesIO(response.content)).size == (1200, 1600)  # not enlarged
        assert (
            client.get(
                f"/api/dam/assets/{found['trip/original.jpg'].id}/thumbnail/huge"
            ).status_code
            == 422
        )
        no_preview = client.get(
            f"/api/dam/assets/{found['broken/truncated.jpg'].id}/thumbnail/small"
        )
        assert no_preview.status_code == 404
        jobs = client.get("/api/dam/jobs").json()
        assert jobs["processing"] == 0
        assert jobs["steps"]["thumbnails"]["failed"] == 1
        assert jobs["steps"]["hash"]["done"] >= 9
        assert set(jobs["steps"]["ocr"]) >= {"queued", "running", "done", "failed", "per_minute"}


def test_a_resized_copy_is_visually_similar_and_an_unrelated_photo_is_not(scanned):
    library, _ = scanned
    found = assets_by_path(library.database)
    original, copy = found["trip/original.jpg"].id, found["trip/edited/resized-copy.jpg"].id
    unrelated = found["trip/unrelated.jpg"].id
    similar = links(library.database, "visually_similar_to")
    assert tuple(sorted((original, copy))) in similar
    assert not any(unrelated in pair for pair in similar)


def test_look_alikes_are_found_when_every_step_rides_with_the_batchs_last_save(
    settings, media, monkeypatch
):
    # No step saved on its own: each asset's changes are held and written with its status,
    # and a pHash must be in the index before its look-alikes are looked for.
    monkeypatch.setattr("trove.pipeline.runner.COMMIT_EVERY_S", 1e9)
    monkeypatch.setattr("trove.pipeline.runner.PipelineRunner._expected_s", lambda *_a: 0.0)
    library = LibraryService(settings)
    try:
        library.scan_and_process([str(media)], wait=True)
        found = assets_by_path(library.database)
        original, copy = found["trip/original.jpg"], found["trip/edited/resized-copy.jpg"]
        assert original.hash and copy.hash and original.phash and copy.phash
        assert tuple(sorted((original.id, copy.id))) in links(
            library.database, "visually_similar_to"
        )
    finally:
        library.database.dispose()


def test_non_web_formats_get_a_proxy_linked_transformed_to(scanned, settings):
    library, _ = scanned
    found = assets_by_path(library.database)
    phone = found["clips/phone.mov"]
    (edge,) = [t for s, t in links(library.database, "transformed_to") if s == phone.id]
    proxy = next(a for a in found.values() if a.id == edge)
    assert proxy.asset_type == "proxy" and proxy.is_virtual and proxy.mime_type == "video/mp4"
    assert proxy.storage_urn == f"fs://system/dam_cache/{phone.hash}/web.mp4"
    assert (settings.resolved_cache_dir / phone.hash[:2] / phone.hash / "web.mp4").is_file()
    assert not [
        s for s, _ in links(library.database, "transformed_to") if s == found["clips/clip.mp4"].id
    ]


def test_reprocess_reruns_only_the_named_step(scanned):
    library, _ = scanned
    photo_id = assets_by_path(library.database)["trip/original.jpg"].id
    before = steps_of(library.database, photo_id)
    assert library.reprocess("phash", force=False, wait=True)["queued"] == 0  # nothing stale
    result = library.reprocess("phash", force=True, wait=True)
    assert result["queued"] == 8 and result["pipeline"]["errors"] == 0  # images and videos
    after = steps_of(library.database, photo_id)
    assert after["phash"].updated_at > before["phash"].updated_at
    assert after["thumbnails"].updated_at == before["thumbnails"].updated_at
    assert after["hash"].updated_at == before["hash"].updated_at
    assert assets_by_path(library.database)["trip/original.jpg"].status == AssetStatus.READY


def test_copies_share_previews_and_are_rendered_once(settings, media, tmp_path):
    root = tmp_path / "dupes"
    root.mkdir()
    shutil.copy(media / "trip/unrelated.jpg", root / "a.jpg")
    library = LibraryService(settings)
    library.scan_and_process([str(root)], wait=True)
    a = assets_by_path(library.database)["a.jpg"]
    previews = cache.derivative_dir(settings.resolved_cache_dir, a.hash)
    made = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in previews.iterdir()}
    assert made  # the first copy's previews
    shutil.copy(media / "trip/unrelated.jpg", root / "b.jpg")
    library.scan_and_process([str(root)], wait=True)
    b = assets_by_path(library.database)["b.jpg"]
    assert a.hash == b.hash and a.thumbnails == b.thumbnails
    assert steps_of(library.database, b.id)["thumbnails"].status == StepStatus.OK
    # Not written again: a render would have replaced each file (a new inode).
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in previews.iterdir()} == made
    library.database.dispose()


def test_two_runners_never_hold_the_same_asset(settings, media, tmp_path):
    library = LibraryService(settings)
    library.scan_and_process([str(media)], wait=False)
    pipeline = library.pipeline()
    with library.database.session() as session:
        ids = PipelineRepository(session).ids_to_kick(now=utcnow(), limit=100, include_queued=True)
    from trove.pipeline.runner import PipelineRunner

    runners = [PipelineRunner(settings, library.database, pipeline.processors) for _ in range(2)]
    reports: list[dict] = []
    threads = [
        threading.Thread(target=lambda r=r: reports.append(r.run_batch(ids))) for r in runners
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for runner in runners:
        runner.close()
    assert sum(r["claimed"] for r in reports) == len(ids)
    assert sum(r["ready"] + r["errors"] for r in reports) == len(ids)
    with library.database.session() as session:
        assert session.query(PipelineLease).count() == 0
    library.database.dispose()


def test_a_stop_in_the_last_step_hands_the_batch_back_and_the_next_run_finishes_it(
    settings, tmp_path
):
    """A stop cuts the step in hand after its asset. Taken only between steps, a stop in the
    last step (the required `web_scraper`, a page fetch each) ended the batch as usual: the
    assets the step never reached were `ready` without it, and nobody sent them again."""
    from trove.pipeline.processor import StepResult
    from trove.pipeline.runner import PipelineRunner

    root = tmp_path / "notes"
    root.mkdir()
    for n in range(4):
        (root / f"note-{n}.txt").write_text(f"note {n}")
    library = LibraryService(settings)
    library.scan_and_process([str(root)], wait=False)
    ran: list[str] = []
    runner: PipelineRunner

    class LastStep:
        name, version, requires, required = "last", 1, (), True

        def applies_to(self, asset):  # type: ignore[no-untyped-def]
            return asset.asset_type != "collection"

        def process(self, asset):  # type: ignore[no-untyped-def]
            ran.append(asset.id)
            if len(ran) == 1:
                runner.stop_soon()  # SIGTERM while the first asset is in this step
            return StepResult.ok()

    processors = [*library.pipeline().processors, LastStep()]
    with library.database.session() as session:
        ids = PipelineRepository(session).ids_to_kick(now=utcnow(), limit=10, include_queued=True)
    runner = PipelineRunner(settings, library.database, processors)
    stopped = runner.run_batch(ids)
    runner.close()
    with library.database.session() as session:
        leases = {(lease.state, lease.attempts) for lease in session.query(PipelineLease)}
        statuses = {a.status for a in session.query(Asset).filter(Asset.id.in_(ids))}
    assert stopped["ready"] == 0 and stopped["handed_back"] == len(ids)
    assert statuses == {AssetStatus.PROCESSING} and leases == {("queued", 0)}

    runner = PipelineRunner(settings, library.database, processors)
    finished = runner.run_batch(ids)
    runner.close()
    assert finished["ready"] == len(ids)
    assert sorted(ran) == sorted(ids)  # the step ran once for each asset, the first included
    with library.database.session() as session:
        assert session.query(PipelineLease).count() == 0
    library.database.dispose()


def test_the_rest_of_a_run_that_made_way_is_finished_by_the_next_though_older_files_came_first(
    settings, tmp_path, monkeypatch
):
    """A run that stops early (shutdown, or the server's processing job making way for a
    scan) leaves the rest of its page `queued`. The next run took queued leases on its first
    page only: files of a rescan, with older ids, filled that page, and the rest stayed
    `processing` with nobody to send it again."""
    from dataclasses import replace

    from trove.pipeline import service
    from trove.pipeline.processors.fingerprint import Sha256Processor

    settings = replace(settings, pipeline_processes="off", pipeline_threads=1)
    settings = replace(settings, pipeline_batch_size=1)
    monkeypatch.setattr(service, "PAGE", 4)
    older, newer = tmp_path / "older", tmp_path / "newer"
    older.mkdir()
    newer.mkdir()
    for n in range(6):
        (older / f"a-{n}.txt").write_text(f"older note {n}")
    library = LibraryService(settings)
    library.scan_and_process([str(older)], wait=True)
    for n in range(6):
        (newer / f"b-{n}.txt").write_text(f"newer note {n}")
    library.scan_and_process([str(newer)], wait=False)
    hashed: list[str] = []
    sha256 = Sha256Processor.process

    def counted(self: Sha256Processor, asset: Any) -> Any:
        hashed.append(asset.id)
        return sha256(self, asset)

    monkeypatch.setattr(Sha256Processor, "process", counted)
    first = library.pipeline().run_pending(stopped=lambda: bool(hashed))  # makes way
    with library.database.session() as session:
        left_queued = session.query(PipelineLease).filter_by(state="queued").count()
        session.query(Asset).filter(Asset.rel_path.like("a-%")).update(
            {"status": AssetStatus.PROCESSING}, synchronize_session=False
        )  # a rescan found the older library's files changed
    assert first.assets < 7 and left_queued > 0
    library.pipeline().run_pending()
    with library.database.session() as session:
        statuses = {a.rel_path: a.status for a in session.query(Asset) if a.rel_path}
        assert session.query(PipelineLease).count() == 0
    assert set(statuses.values()) == {AssetStatus.READY}, statuses
    library.database.dispose()


def test_work_of_a_dead_worker_is_taken_over_when_its_lease_lapses(settings, media):
    from dataclasses import replace

    settings = replace(settings, pipeline_lease_seconds=1.0)
    library = LibraryService(settings)
    library.scan_and_process([str(media)], wait=False)
    with library.database.session() as session:
        repo = PipelineRepository(session)
        ids = repo.ids_to_kick(now=utcnow(), limit=100, include_queued=True)
        held = repo.claim(ids[:3], owner="dead-host:1", token="t-dead", now=utcnow(), ttl=1.0)
    assert len(held) == 3
    summary = library.pipeline().run_pending()
    assert summary.assets == len(ids)
    found = {a.id: a for a in assets_by_path(library.database).values()}
    assert all(found[i].status != AssetStatus.PROCESSING for i in ids)
    library.database.dispose()


def test_an_asset_that_keeps_killing_workers_is_given_up(settings, media, tmp_path):
    root = tmp_path / "one"
    root.mkdir()
    shutil.copy(media / "icons/tiny.png", root / "tiny.png")
    library = LibraryService(settings)
    library.scan_and_process([str(root)], wait=False)
    with library.database.session() as session:
        repo = PipelineRepository(session)
        (asset_id,) = [
            i
            for i in repo.ids_to_kick(now=utcnow(), limit=10, include_queued=True)
            if assets_by_path(library.database)["tiny.png"].id == i
        ] or [None]
        for attempt in range(3):
            repo.claim(
                [asset_id], owner=f"dead:{attempt}", token=f"t{attempt}", now=utcnow(), ttl=-1
            )
    library.pipeline().run_pending()
    tiny = assets_by_path(library.database)["tiny.png"]
    assert tiny.status == AssetStatus.ERROR and "given up" in tiny.error_message
    library.database.dispose()


def test_trove_status_shows_the_pipeline_per_step(run_trove, media, settings):
    ensure_schema(settings.resolved_database_url)
    run_trove("scan", str(media / "icons"))
    out = run_trove("status").stdout
    assert "pipeline (in-process)" in out
    assert "thumbnails" in out and "queued" in out and "failed" in out


def test_the_rate_of_processing_that_began_seconds_ago_is_measured_over_those_seconds(
    settings, tmp_path
):
    """Files processed in the last ~10 s are a rate over ~10 s, not over the whole minute's
    window: divided by 60 s, a job just begun read six times slower than it runs, and the
    Libraries page said "about 98 h left" for seconds of work."""
    root = tmp_path / "notes"
    root.mkdir()
    for i in range(30):
        (root / f"note-{i:02d}.txt").write_text(f"note {i}\n")
    library = LibraryService(settings)
    try:
        library.scan_and_process([str(root)], wait=True)
        with library.database.session() as session:
            ten_s_ago = utcnow() - timedelta(seconds=10)
            session.query(AssetStep).update({AssetStep.updated_at: ten_s_ago})
        jobs = library.pipeline().jobs()
    finally:
        library.database.dispose()
    assert 9 <= jobs["window_s"] <= 12
    files = 31  # the notes and their folder
    assert files / 12 <= jobs["assets_per_s"] <= files / 9
    assert 60 * 30 / 12 <= jobs["steps"]["hash"]["per_minute"] <= 60 * 30 / 9
