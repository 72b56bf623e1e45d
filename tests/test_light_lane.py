"""The light steps of new files done as the scan registers them (pipeline/light.py): the index
ends exactly as the pipeline alone leaves it, files the lane cannot finish are finished by the
pipeline, a failing or crashing light step is recorded as the pipeline records it, and the
originals are never written."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import trove.pipeline.light as light
import trove.pipeline.pool as pool
import trove.services.scanner as scanner
from tests.media import write_png
from trove.config import Settings
from trove.db.database import Database
from trove.db.models import Asset, AssetStep, Link, SearchDocumentRow
from trove.domain.search_document import SEARCH_FIELDS
from trove.services.library import LibraryService
from trove.storage.walk import Entry, Kind

pytestmark = pytest.mark.slow

PLUGIN = "tests.pipeline_light_plugin"
DOCUMENT_COLUMNS = (*SEARCH_FIELDS, "substrings", "ext", "lat", "lon", "timeline_at")


def _library(root: Path) -> dict[str, str]:
    root.mkdir(parents=True)
    for n in range(30):
        (root / f"note-{n:02d}.txt").write_text(f"note {n}: " + "words of a small file " * n)
    (root / "report_v1.txt").write_text("the first version of a report\n")
    (root / "report_v2.txt").write_text("the second version of a report\n")
    (root / "script.py").write_text("#!/usr/bin/env python3\nprint('hello')\n")
    (root / "data.csv").write_text("a,b,c\n1,2,3\n")
    (root / "data.json").write_text('{"a": [1, 2, 3]}\n')
    (root / "empty.txt").write_bytes(b"")
    (root / os.fsdecode(b"caf\xe9.txt")).write_text("a name that is not UTF-8\n")
    write_png(root / "photo.png", seed=1)
    (root / "disguised.txt").write_bytes((root / "photo.png").read_bytes())
    (root / "bad-1.txt").write_text("a file the picky step refuses\n")
    (root / "crash-1.txt").write_text("a file the picky step crashes on\n")
    return _checksums(root)


def _checksums(root: Path) -> dict[str, str]:
    """Every file's SHA-256, by its path below `root`."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _scan(settings: Settings, root: Path) -> Any:
    library = LibraryService(settings)
    try:
        return library.scan_and_process([str(root)], wait=True)
    finally:
        library.close()


def _index(settings: Settings) -> dict[str, Any]:
    """Everything the pass wrote, keyed by path instead of by the ids two runs give."""
    database = Database(settings.resolved_database_url)
    try:
        with database.session() as session:
            assets = {a.id: a for a in session.scalars(select(Asset))}
            path = {i: a.rel_path for i, a in assets.items()}
            files = {
                a.rel_path: {
                    "status": a.status,
                    "error": a.error_message,
                    "mime": a.mime_type,
                    "type": a.asset_type,
                    "category": a.category,
                    "hash": a.hash,
                    "size": (a.width, a.height),
                    "meta": a.meta,
                    "thumbnails": a.thumbnails,
                }
                for a in assets.values()
                if a.rel_path
            }
            steps = {
                (path[s.asset_id], s.step): (s.status, s.version, s.message)
                for s in session.scalars(select(AssetStep))
            }
            links = {
                (path.get(link.source_id), path.get(link.target_id), link.relation)
                for link in session.scalars(select(Link))
            }
            documents = {
                path[d.asset_id]: {c: getattr(d, c) for c in DOCUMENT_COLUMNS}
                for d in session.scalars(select(SearchDocumentRow))
            }
    finally:
        database.dispose()
    return {"files": files, "steps": steps, "links": links, "documents": documents}


def _sqlite_settings(data_dir: Path, **changes: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'trove.db'}",
        allowed_hosts="testserver",
        auth=False,
        **{"plugins": PLUGIN, **changes},
    )


def test_the_index_is_the_same_with_and_without_the_light_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "library"
    before = _library(root)
    monkeypatch.setattr(light, "OPEN_AFTER_FILES", 0)

    lane = _sqlite_settings(tmp_path / "lane")
    run = _scan(lane, root)
    alone = _sqlite_settings(tmp_path / "alone", pipeline_processes="off")
    _scan(alone, root)

    processed = run.scans[0].processed
    assert 20 < processed < len(before)  # most files, not those the pipeline had to finish
    with_lane, without = _index(lane), _index(alone)
    assert with_lane["files"] == without["files"]
    assert with_lane["steps"] == without["steps"]
    assert with_lane["links"] == without["links"]
    assert with_lane["documents"] == without["documents"]
    assert len(with_lane["documents"]) == len(before)
    assert _checksums(root) == before


def test_the_first_files_are_held_until_the_lane_opens_and_a_small_scan_starts_no_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files seen before the lane opens wait for it instead of going to the pipeline; a
    scan that never reaches the threshold starts no worker process and leaves every file to
    the pipeline."""
    root = tmp_path / "library"
    before = _library(root)
    started: list[int] = []
    real_start = pool.LocalWorkers.start

    def counted_start(self: pool.LocalWorkers) -> Any:
        started.append(1)
        return real_start(self)

    monkeypatch.setattr(pool.LocalWorkers, "start", counted_start)
    runs = {}
    for threshold in (0, 10, len(before) + 1):
        monkeypatch.setattr(light, "OPEN_AFTER_FILES", threshold)
        started.clear()
        settings = _sqlite_settings(tmp_path / f"data-{threshold}")
        runs[threshold] = (_scan(settings, root).scans[0].processed, bool(started))
        assert _index(settings)["files"] == _index(_sqlite_settings(tmp_path / "data-0"))["files"]

    assert runs[10] == runs[0] and runs[0][0] > 20
    assert runs[len(before) + 1] == (0, False)
    assert _checksums(root) == before


def test_the_lane_holds_nothing_when_no_worker_process_can_take_it(tmp_path: Path) -> None:
    """With worker processes off, each new file is written as it is registered (the lane
    takes none); with them on, the files before the threshold are held, and given back for
    the pipeline, in order, when the walk ends first."""
    from trove.domain.enums import AssetStatus

    def row(n: int) -> dict[str, Any]:
        return {"status": AssetStatus.PROCESSING, "size": 10, "rel_path": f"{n}.txt"}

    def lane_of(settings: Settings) -> light.LightLane:
        # No process is started here (none can be, or the walk ends first): no database.
        workers = pool.LocalWorkers(settings, database=None)  # type: ignore[arg-type]
        return light.LightLane(workers, root_path=str(tmp_path))

    lane = lane_of(_sqlite_settings(tmp_path / "off", pipeline_processes="off"))
    assert not lane.take("0.txt", row(0))
    assert list(lane.finished(wait=True)) == []

    lane = lane_of(_sqlite_settings(tmp_path / "auto"))
    assert all(lane.take(f"{n}.txt", row(n)) for n in range(5))
    assert list(lane.finished()) == []
    assert [(rel, outcome) for rel, _row, outcome in lane.finished(wait=True)] == [
        (f"{n}.txt", None) for n in range(5)
    ]
    assert not lane.take("5.txt", row(5))  # the lane closed with the walk
    lane.close()


def test_the_pipeline_beside_a_scan_runs_only_for_files_the_light_pass_left_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan whose new files all finish in the light pass never runs the pipeline; one that
    leaves files to it (pictures' previews) runs it beside the scan, which finishes them."""
    import threading

    from trove.pipeline.service import PipelineService

    runs: list[str] = []
    real_run_pending = PipelineService.run_pending

    def counted_run_pending(self: PipelineService, **kwargs: Any) -> Any:
        runs.append(threading.current_thread().name)
        return real_run_pending(self, **kwargs)

    monkeypatch.setattr(PipelineService, "run_pending", counted_run_pending)
    monkeypatch.setattr(light, "OPEN_AFTER_FILES", 0)
    monkeypatch.setattr(scanner, "PROGRESS_EVERY", 1)  # the pipeline starts with the 1st file
    root = tmp_path / "library"
    root.mkdir()
    for n in range(40):
        (root / f"note-{n:02d}.txt").write_text(f"note {n}\n")
    settings = _sqlite_settings(tmp_path / "data", plugins="")

    run = _scan(settings, root)
    files = _index(settings)["files"]
    assert runs == []
    assert run.scans[0].processed == 40
    assert run.pipeline is not None and run.pipeline.ready == 40
    assert {f["status"] for f in files.values() if f["type"] != "collection"} == {"ready"}

    for n in range(3):
        write_png(root / f"photo-{n}.png", seed=n)
    run = _scan(settings, root)
    files = _index(settings)["files"]
    assert runs == ["trove-pipeline"]  # beside the scan, not after it
    assert all(files[f"photo-{n}.png"]["thumbnails"] for n in range(3))
    assert {f["status"] for f in files.values() if f["type"] != "collection"} == {"ready"}


def test_files_the_light_pass_cannot_finish_are_finished_by_the_pipeline(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "library"
    before = _library(root)
    monkeypatch.setattr(light, "OPEN_AFTER_FILES", 0)
    settings = dataclasses.replace(settings, plugins=PLUGIN)

    run = _scan(settings, root)

    index = _index(settings)
    files, steps = index["files"], index["steps"]
    assert {f["status"] for f in files.values() if f["type"] != "collection"} == {"ready"}
    assert sum(1 for f in files.values() if f["hash"]) == len(before)
    assert all(
        files[name]["hash"] == checksum for name, checksum in before.items() if name.isascii()
    )
    # The refused and the crashing file: their failure recorded as the pipeline records it.
    assert steps[("bad-1.txt", "picky")] == ("failed", 1, "picky refuses bad files")
    status, _version, message = steps[("crash-1.txt", "picky")]
    assert status == "failed" and message == "ValueError: picky cannot read this one"
    assert steps[("note-03.txt", "picky")] == ("ok", 1, None)
    assert files["note-03.txt"]["meta"]["picky"] == {"size": (root / "note-03.txt").stat().st_size}
    # A PNG named .txt: libmagic's answer (in the light pass) sends it on to the picture steps.
    assert files["disguised.txt"]["mime"] == "image/png"
    assert files["disguised.txt"]["thumbnails"] and files["photo.png"]["thumbnails"]
    assert steps[("disguised.txt", "thumbnails")][0] == "ok"
    # A newer version of a document links to the older one (a result only the pipeline writes).
    assert ("report_v2.txt", "report_v1.txt", "version_of") in index["links"]
    # What the user is told counts every file once, whichever way it went.
    assert run.pipeline is not None
    assert run.pipeline.ready == len(before) and run.pipeline.errors == 0
    assert run.pipeline.steps["mime"] == {"ok": len(before)}
    assert run.pipeline.steps["picky"] == {"ok": len(before) - 2, "failed": 2}
    assert _checksums(root) == before


def test_a_folder_that_cannot_be_listed_mid_scan_does_not_stall_the_light_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan once kept the write lock after recording the folder's error, then waited for
    the light pass, whose workers were busy with pipeline batches waiting for that lock: 30 s,
    then "database is locked" ended the run. Here every file has a slow step left for the
    pipeline (the counting plugin's), so its batches are in the workers throughout. (Running
    as root, a folder cannot be made unreadable: the walk reports one, as it would.)"""
    root = tmp_path / "library"
    for n in range(600):
        (root / f"notes-{n % 6}").mkdir(parents=True, exist_ok=True)
        (root / f"notes-{n % 6}" / f"note-{n:03d}.txt").write_text(f"note {n} " * 20)
    before = _checksums(root)
    monkeypatch.setenv("TROVE_TEST_COUNT_LOG", str(tmp_path / "counted.log"))
    monkeypatch.setenv("TROVE_TEST_COUNT_DELAY", "0.01")
    monkeypatch.setattr(light, "OPEN_AFTER_FILES", 0)
    monkeypatch.setattr(light, "BATCH", 10)
    monkeypatch.setattr(light, "AHEAD_PER_WORKER", 1)
    monkeypatch.setattr(scanner, "PROGRESS_EVERY", 20)  # the pipeline starts beside the scan
    monkeypatch.setattr(scanner, "walk", _with_an_unreadable_folder(scanner.walk, after=300))
    settings = _sqlite_settings(
        tmp_path / "data",
        plugins="tests.pipeline_counting_plugin",
        scan_batch_size=20,
        pipeline_batch_size=10,
    )

    run = _scan(settings, root)

    index = _index(settings)
    files = index["files"]
    assert files["unlisted"]["status"] == "error"
    assert {f["status"] for f in files.values() if f["type"] != "collection"} == {"ready"}
    assert sum(1 for f in files.values() if f["hash"]) == 600
    # The light pass did the light steps; the pipeline did the counted one, once a file.
    assert run.pipeline.steps["mime"] == {"ok": 600}
    assert run.pipeline.steps["counted"] == {"ok": 600}
    assert len((tmp_path / "counted.log").read_text().splitlines()) == 600
    assert _checksums(root) == before


def _with_an_unreadable_folder(walk: Any, *, after: int) -> Any:
    def walking(root: str, rules: Any) -> Any:
        files = 0
        for entry in walk(root, rules):
            yield entry
            files += entry.kind is Kind.FILE
            if files == after and entry.kind is Kind.FILE:
                yield Entry("unlisted", Kind.DIR)
                yield Entry("unlisted", Kind.UNREADABLE_DIR, reason="cannot list folder")

    return walking


def test_a_servers_scan_gives_new_files_their_light_steps_as_it_registers_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`trove serve` registered everything as `processing` and processed it in a second pass
    over the index afterwards; its scans now go the way `trove scan`'s do."""
    from trove.services.background import BackgroundIndexer

    root = tmp_path / "library"
    before = _library(root)
    monkeypatch.setattr(light, "OPEN_AFTER_FILES", 0)
    settings = _sqlite_settings(tmp_path / "served")
    library = LibraryService(settings)
    indexer = BackgroundIndexer(library)
    indexer.start()
    try:
        library.add_root(str(root), indexer=indexer)  # queues its first scan
        assert indexer.wait_idle(120)
        scan = indexer.state.last_scans[str(root)]
    finally:
        indexer.stop()
        library.close()
    assert 20 < scan["processed"] < len(before)
    assert _index(settings)["files"] == _index(_scan_alone(tmp_path, root))["files"]
    assert _checksums(root) == before


def test_a_servers_scan_leaves_the_heavy_steps_to_the_processing_job_after_the_scans_queued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run with the whole pipeline beside it, a server's scan held every later job until
    its library was processed; and a processing job, once started, held them too: a library
    added while another one's previews were made waited for all of them (hours, for a large
    one). The processing job now makes way after its assets in hand, and then goes on."""
    from trove.pipeline.processors.thumbnails import ThumbnailProcessor
    from trove.services import background
    from trove.services.background import BackgroundIndexer

    monkeypatch.setattr(background, "PROCESSING_YIELDS_AFTER_S", 0.0)
    previews = ThumbnailProcessor.process
    made: list[str] = []
    began = threading.Event()

    def slow(self: ThumbnailProcessor, asset: Any) -> Any:
        began.set()
        time.sleep(0.5)
        result = previews(self, asset)
        made.append(asset.id)
        return result

    monkeypatch.setattr(ThumbnailProcessor, "process", slow)
    first, second = tmp_path / "first", tmp_path / "second"
    for seed in range(12):
        write_png(first / f"{seed}.png", seed=seed)
    write_png(second / "b.png", seed=99)
    library = LibraryService(_sqlite_settings(tmp_path / "served", pipeline_processes="off"))
    indexer = BackgroundIndexer(library)
    followed_up: list[int] = []
    indexer.after_processing.append(lambda: followed_up.append(len(made)))
    indexer.start()
    try:
        library.add_root(str(first), indexer=indexer)
        assert began.wait(60), "the first library's previews never started"
        library.add_root(str(second), indexer=indexer)
        deadline = time.monotonic() + 60
        while str(second) not in indexer.state.last_scans and time.monotonic() < deadline:
            time.sleep(0.02)
        made_before_the_scan = len(made)
        assert indexer.wait_idle(120)
    finally:
        indexer.stop()
        library.close()
    assert str(second) in indexer.state.last_scans
    assert made_before_the_scan < 12
    files = _index(library.settings)["files"]
    pngs = {path: f for path, f in files.items() if path.endswith(".png")}
    assert len(pngs) == 13
    assert sorted(made) == sorted(set(made)) and len(made) == 13  # each made once, all made
    assert followed_up and followed_up[-1] == 13  # the follow-ups ran once all was done
    assert indexer.state.last_pipeline is not None  # the status tells the job as a whole
    assert indexer.state.last_pipeline["steps"]["thumbnails"] == {"ok": 13}
    assert {f["status"] for f in pngs.values()} == {"ready"}


def _scan_alone(tmp_path: Path, root: Path) -> Settings:
    settings = _sqlite_settings(tmp_path / "alone", pipeline_processes="off")
    _scan(settings, root)
    return settings
