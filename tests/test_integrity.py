"""Bitrot, offline warnings and cache garbage collection, on real files (SQLite: see
`pytestmark`)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.media import fingerprint_tree, make_library, write_text
from trove.app import create_app
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.services.integrity import IntegrityService
from trove.services.library import LibraryService

# Its subject is the bytes on disk against their fingerprints: the database only keeps the
# fingerprints, stored by the same SQL as any scan's.
pytestmark = [pytest.mark.slow, pytest.mark.databases("sqlite")]


def assets_by_path(settings) -> dict[str, dict]:
    page = LibraryService(settings).list_assets(AssetFilters(limit=1000))
    return {item["path"]: item for item in page.items}


def flip_one_byte_keeping_the_date(path: Path, offset: int = 100) -> bytes:
    """What bitrot looks like: one byte differs, size and mtime are as they were."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    original = bytes(data)
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    return original


def test_a_flipped_byte_with_the_date_restored_is_reported_corrupted(settings, tmp_path, run_trove):
    library = make_library(tmp_path / "library", photos=3)
    run_trove("scan", str(library))
    photo = library / "2023/2023-02 trip/IMG_0001.jpg"
    asset = assets_by_path(settings)["2023/2023-02 trip/IMG_0001.jpg"]
    clean = json.loads(run_trove("verify", "--json").stdout)
    assert clean["corrupted"] == [] and clean["ok"] == clean["checked"] == 6

    original = flip_one_byte_keeping_the_date(photo)
    result = run_trove("verify", "--json", check=False)
    run_trove("scan", str(library))  # a scan sees nothing: size and mtime are unchanged

    assert result.returncode == 1
    (found,) = json.loads(result.stdout)["corrupted"]
    assert found["asset_id"] == asset["id"]
    assert found["expected_hash"] == asset["hash"] != found["actual_hash"]
    assert found["path"] == str(photo)
    assert "CORRUPTED" in run_trove("verify", check=False).stdout
    status = json.loads(run_trove("status", "--json").stdout)
    assert any("corrupted" in w for w in status["warnings"])

    app = create_app(settings)
    with TestClient(app) as client:
        findings = client.get("/api/dam/integrity").json()
        (finding,) = findings["items"]  # verified twice: still one finding
        assert finding["kind"] == "corrupted" and finding["asset_id"] == asset["id"]
        assert finding["expected_hash"] == asset["hash"]
        assert finding["found_at"] and finding["resolved_at"] is None
        detail = client.get(f"/api/dam/assets/{asset['id']}").json()
        assert detail["corrupted"] is True
        assert detail["hash"] == asset["hash"]  # the recorded (good) hash is kept
        assert detail["integrity"][0]["actual_hash"] == finding["actual_hash"]

    st = photo.stat()
    photo.write_bytes(original)  # restored from a backup
    os.utime(photo, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert run_trove("verify", "--json").returncode == 0
    service = IntegrityService.open(settings)
    assert service.findings(viewer=Viewer.system())["items"] == []
    assert len(service.findings(include_resolved=True, viewer=Viewer.system())["items"]) == 1
    service.database.dispose()


def test_an_edited_file_is_not_bitrot_and_verify_can_be_limited_to_stale_checks(
    settings, tmp_path, run_trove
):
    library = make_library(tmp_path / "library", photos=2)
    run_trove("scan", str(library))
    note = library / "notes/readme.txt"
    note.write_text("edited by its owner\n")  # size and mtime change: an edit

    report = json.loads(run_trove("verify", "--json").stdout)
    recent = json.loads(run_trove("verify", "--json", "--max-age-days", "1").stdout)

    assert report["corrupted"] == [] and report["changed"] == 1
    assert report["ok"] == report["checked"] - 1
    # Every file was verified, or hashed when it was indexed, within the last day.
    assert recent["checked"] == 0


def test_verify_reads_no_faster_than_its_throttle(settings, tmp_path, run_trove):
    library = tmp_path / "library"
    write_text(library / "a.bin", "x" * (1024 * 1024))
    write_text(library / "b.bin", "y" * (1024 * 1024))
    run_trove("scan", str(library))
    service = IntegrityService.open(settings)

    throttled = service.verify(mb_per_s=1)
    unthrottled = service.verify(mb_per_s=0)
    service.database.dispose()

    assert throttled.bytes_read == 2 * 1024 * 1024 and throttled.ok == 2
    assert throttled.elapsed_s >= 1.9  # 2 MB at 1 MB/s: a lower bound, which load cannot break
    assert throttled.mb_per_s <= 1.1
    # Reading 2 MB unthrottled takes milliseconds: a margin of two seconds survives a busy CI.
    assert unthrottled.ok == 2 and unthrottled.elapsed_s < throttled.elapsed_s


def test_an_emptied_root_is_offline_with_a_warning_and_nothing_goes_missing(
    settings, tmp_path, run_trove
):
    library = make_library(tmp_path / "library", photos=2)
    run_trove("scan", str(library))
    before = assets_by_path(settings)
    stash = tmp_path / "stash"
    stash.mkdir()
    for entry in list(library.iterdir()):  # what an unmounted mount point looks like
        shutil.move(str(entry), stash / entry.name)

    run_trove("scan", str(library))
    text = run_trove("status").stdout
    app = create_app(settings)
    with TestClient(app) as client:
        status = client.get("/api/dam/status").json()

    assert "WARNING: library" in text and "OFFLINE" in text
    assert any("OFFLINE" in w for w in status["warnings"])
    assert status["roots"][0]["status"] == "offline"
    assert assets_by_path(settings) == before

    for entry in list(stash.iterdir()):
        shutil.move(str(entry), library / entry.name)
    run_trove("scan", str(library))
    assert assets_by_path(settings) == before
    assert "WARNING" not in run_trove("status").stdout


def test_gc_removes_only_orphaned_cache_entries(settings, tmp_path, run_trove):
    library = make_library(tmp_path / "library", photos=2)
    run_trove("scan", str(library))
    files_before = fingerprint_tree(library)
    used = assets_by_path(settings)["notes/readme.txt"]["hash"]
    cache = settings.resolved_cache_dir
    orphan, recent = "ab" + "1" * 62, "cd" + "2" * 62

    def entry(content_hash: str, *, age_s: float) -> Path:
        folder = cache / content_hash[:2] / content_hash
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("small.webp", "medium.webp"):
            (folder / name).write_bytes(b"RIFF....WEBP")
        stamp = time.time() - age_s
        for path in (*folder.iterdir(), folder):
            os.utime(path, (stamp, stamp))
        return folder

    entry(used, age_s=7200)
    entry(orphan, age_s=7200)
    entry(recent, age_s=10)
    (cache / "README").write_text("not a cache entry\n")
    (cache / "ef").mkdir()
    (cache / "ef" / ("ef" + "3" * 62)).symlink_to(library)  # must never be followed

    in_use = [  # the pipeline's own previews, and the entry made for `used` above
        d for d in cache.glob("??/*") if not d.is_symlink() and d.name not in (orphan, recent)
    ]

    dry = json.loads(run_trove("gc", "--dry-run", "--json").stdout)
    assert (cache / orphan[:2] / orphan).is_dir()
    report = json.loads(run_trove("gc", "--json").stdout)

    assert dry["removed"] == report["removed"] == 1
    assert report["removed_bytes"] == 24
    assert (report["kept"], report["kept_recent"]) == (len(in_use), 1)
    assert "README" in report["left_alone"] and f"ef/ef{'3' * 62}" in report["left_alone"]
    assert not (cache / orphan[:2]).exists()  # its shard folder was left empty: gone too
    assert (cache / used[:2] / used / "small.webp").is_file()
    assert (cache / recent[:2] / recent).is_dir()
    assert fingerprint_tree(library) == files_before


def test_the_server_checks_for_bitrot_in_the_background_when_asked(settings, tmp_path):
    from tests.test_watcher import eventually

    library = make_library(tmp_path / "library", photos=2)
    LibraryService(settings).scan_and_process([str(library)], wait=True)
    flip_one_byte_keeping_the_date(library / "2023/2023-01 trip/IMG_0000.jpg")

    app = create_app(settings, roots=[str(library)])
    with TestClient(app) as client:
        assert client.post("/api/dam/integrity/verify").json() == {"started": True}
        finding = eventually(
            lambda: client.get("/api/dam/integrity").json()["items"], what="a finding"
        )[0]
        assert finding["path"] == "2023/2023-01 trip/IMG_0000.jpg"
        assert finding["root_path"] == str(library)
