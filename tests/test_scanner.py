"""Scanning a library: changes are found, folders form a graph, offline roots are left alone.

On real files; what the index records on SQLite and PostgreSQL, what a root being offline or a
bad path does to a scan on SQLite.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from tests.media import make_library, write_jpeg
from trove.db.database import Database
from trove.db.models import AssetStep, Link
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.services.library import LibraryService
from trove.services.scan_summary import ScanSummary

EMPTY_ROOT = "the folder is empty but the index holds its files"


def scan(settings, path: Path, *, wait: bool = True) -> ScanSummary:
    return LibraryService(settings).scan_and_process([str(path)], wait=wait).scans[0]


def indexed(settings) -> dict[str, dict[str, Any]]:
    """Every asset by relative path ('' is the root folder), as `trove ls` lists them."""
    page = LibraryService(settings).list_assets(AssetFilters(limit=1000))
    assert page.next_cursor is None
    return {item["path"]: item for item in page.items}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_modified_file_is_changed_and_rehashed_keeping_its_id(settings, tmp_path):
    library = make_library(tmp_path / "library", photos=2)
    scan(settings, library)
    photo = library / "2023/2023-01 trip/IMG_0000.jpg"
    before = indexed(settings)["2023/2023-01 trip/IMG_0000.jpg"]

    mtime_ns = photo.stat().st_mtime_ns
    write_jpeg(photo, size=(80, 60), seed=99)
    os.utime(photo, ns=(mtime_ns + 10**9, mtime_ns + 10**9))
    summary = scan(settings, library)

    after = indexed(settings)["2023/2023-01 trip/IMG_0000.jpg"]
    assert (summary.changed, summary.new, summary.gone) == (1, 0, 0)
    assert summary.unchanged == summary.seen - 1
    assert after["id"] == before["id"]
    assert after["hash"] == sha256(photo) != before["hash"]
    assert after["size"] == photo.stat().st_size
    assert after["status"] == "ready"


def test_a_deleted_file_goes_missing_with_its_record_kept_and_returns_with_the_same_id(
    settings, tmp_path
):
    library = make_library(tmp_path / "library", photos=2)
    scan(settings, library)
    before = indexed(settings)["notes/readme.txt"]

    (library / "notes/readme.txt").rename(tmp_path / "readme.txt")
    gone = scan(settings, library)
    while_gone = indexed(settings)["notes/readme.txt"]

    (tmp_path / "readme.txt").rename(library / "notes/readme.txt")
    back = scan(settings, library)
    after = indexed(settings)["notes/readme.txt"]

    assert (gone.gone, gone.changed, gone.new) == (1, 0, 0)
    assert while_gone["status"] == "missing"
    assert while_gone["id"] == before["id"]
    assert while_gone["hash"] == before["hash"]
    assert (back.returned, back.new, back.changed, back.gone) == (1, 0, 0, 0)
    assert after["status"] == "ready"
    assert after["id"] == before["id"]
    assert after["hash"] == before["hash"]


def test_a_new_file_is_registered_as_new_and_fingerprinted(settings, tmp_path):
    library = make_library(tmp_path / "library", photos=2)
    scan(settings, library)
    count = len(indexed(settings))

    write_jpeg(library / "2024" / "new.jpg", seed=7)
    summary = scan(settings, library)

    assets = indexed(settings)
    assert (summary.new, summary.changed, summary.gone) == (1, 0, 0)
    assert len(assets) == count + 2  # the file and its new folder
    assert assets["2024/new.jpg"]["status"] == "ready"
    assert assets["2024/new.jpg"]["hash"] == sha256(library / "2024" / "new.jpg")
    assert assets["2024/new.jpg"]["asset_type"] == "image"
    assert assets["2024"]["asset_type"] == "collection"


def test_folders_are_collections_linked_to_what_they_contain(settings, tmp_path):
    library = make_library(tmp_path / "library", photos=2)
    scan(settings, library)
    assets = indexed(settings)
    folders = {path for path, a in assets.items() if a["asset_type"] == "collection"}

    database = Database(settings.resolved_database_url)
    with database.session() as session:
        links = session.scalars(select(Link).where(Link.relation == "contains")).all()
        edges = {(link.source_id, link.target_id) for link in links}
    database.dispose()

    assert folders == {"", "2023", "2023/2023-01 trip", "2023/2023-02 trip", "graphics", "notes"}
    expected = set()
    for path, asset in assets.items():
        if path:
            parent = path.rpartition("/")[0]
            expected.add((assets[parent]["id"], asset["id"]))
    assert edges == expected


@pytest.mark.slow
@pytest.mark.databases("sqlite")
def test_a_root_renamed_away_is_offline_and_none_of_its_assets_goes_missing(
    settings, tmp_path, run_trove
):
    library = make_library(tmp_path / "library", photos=2)
    scan(settings, library)
    before = indexed(settings)

    library.rename(tmp_path / "elsewhere")
    result = json.loads(run_trove("scan", str(library), "--json").stdout)
    status = json.loads(run_trove("status", "--json").stdout)
    while_offline = indexed(settings)

    (tmp_path / "elsewhere").rename(library)
    back = scan(settings, library)
    after = indexed(settings)

    assert result["roots"][0]["status"] == "offline"
    assert "missing" in result["roots"][0]["status_message"]
    assert result["summary"]["gone"] == 0
    assert [(r["path"], r["status"]) for r in status["roots"]] == [(str(library), "offline")]
    assert while_offline == before
    assert back.status == "online" and back.unchanged == back.seen
    assert after == before
    assert {a["status"] for a in after.values()} == {"ready"}


@pytest.mark.parametrize("left_behind", [None, ".DS_Store", "@eaDir/SYNOINDEX_MEDIA_INFO"])
@pytest.mark.databases("sqlite")
def test_a_root_emptied_of_its_files_is_offline_and_nothing_goes_missing(
    settings, tmp_path, left_behind
):
    library = make_library(tmp_path / "library", photos=2)
    scan(settings, library)
    before = indexed(settings)
    away = tmp_path / "away"
    away.mkdir()

    for child in list(library.iterdir()):
        child.rename(away / child.name)
    if left_behind:  # clutter that desktop and NAS systems leave in a folder
        (library / left_behind).parent.mkdir(parents=True, exist_ok=True)
        (library / left_behind).write_bytes(b"\0")
    summary = scan(settings, library)
    roots = LibraryService(settings).status(viewer=Viewer.system())["roots"]
    while_empty = indexed(settings)

    for child in list(away.iterdir()):
        child.rename(library / child.name)
    back = scan(settings, library)

    assert (summary.status, summary.status_message) == ("offline", EMPTY_ROOT)
    assert [(r["status"], r["status_message"]) for r in roots] == [("offline", EMPTY_ROOT)]
    assert while_empty == before
    assert back.status == "online"
    assert (back.unchanged, back.gone, back.new) == (back.seen, 0, 0)
    assert indexed(settings) == before
    assert LibraryService(settings).status(viewer=Viewer.system())["roots"][0]["status"] == "online"


def test_a_folder_emptied_inside_an_online_root_is_gone_not_offline(settings, tmp_path):
    library = make_library(tmp_path / "library", photos=2)
    scan(settings, library)

    shutil.rmtree(library / "notes")
    summary = scan(settings, library)

    assets = indexed(settings)
    assert summary.status == "online"
    assert summary.gone == 2
    assert assets["notes/readme.txt"]["status"] == "missing"
    assert assets["notes"]["status"] == "missing"
    assert assets["graphics/logo.png"]["status"] == "ready"


@pytest.mark.databases("sqlite")
def test_scanning_a_path_that_does_not_exist_exits_2_with_one_clear_line(tmp_path, run_trove):
    result = run_trove("scan", str(tmp_path / "no-such-folder"), check=False)

    assert result.returncode == 2
    assert result.stderr.strip() == f"trove: {tmp_path / 'no-such-folder'}: no such folder"
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.databases("sqlite")
def test_a_library_folder_whose_path_is_not_utf8_is_refused_in_one_line(tmp_path, run_trove):
    odd = os.fsdecode(os.fsencode(tmp_path) + b"/photos-\xe9t\xe9")  # Latin-1 bytes
    os.mkdir(odd)
    (Path(odd) / "a.txt").write_text("a")

    result = run_trove("scan", odd, check=False)

    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "a library's folder path must be valid UTF-8" in result.stderr
    assert run_trove("scan", str(tmp_path), "--json").returncode == 0  # the folder above: fine


def test_troves_own_data_dir_inside_a_library_is_not_indexed(settings, tmp_path, monkeypatch):
    library = make_library(tmp_path / "library", photos=1)
    write_jpeg(library / "trove-data" / "cache" / "ab" / "thumb.jpg")
    monkeypatch.chdir(library)
    relative = type(settings)(  # TROVE_DATA_DIR=trove-data, run from inside the library
        data_dir=Path("trove-data"), database_url=settings.resolved_database_url
    )

    summary = scan(relative, Path("."), wait=False)

    assert not any(path.startswith("trove-data") for path in indexed(settings))
    assert summary.skipped == {"excluded by rule": 1}


def test_a_wrong_first_guess_is_corrected_by_the_mime_step_and_the_right_steps_run(
    settings, tmp_path
):
    """Registration guesses from the name and first bytes; libmagic in the `mime` step has
    the last word, and the steps of the corrected type run in the same pass."""
    library = tmp_path / "library"
    library.mkdir()
    # A BMP under a name that says nothing: guessed as unknown bytes, really a picture.
    Image.new("RGB", (40, 30), (10, 200, 30)).save(library / "picture.dat", "BMP")
    # Words under a picture's name: the content decides at once, nothing tries to draw it.
    (library / "fake.png").write_text("not a picture\n")
    scan(settings, library, wait=False)
    guessed = indexed(settings)
    assert guessed["picture.dat"]["asset_type"] == "other"
    assert guessed["fake.png"]["asset_type"] == "document"

    scan(settings, library)
    assets = indexed(settings)
    picture, fake = assets["picture.dat"], assets["fake.png"]
    assert (picture["asset_type"], picture["mime_type"]) == ("image", "image/bmp")
    assert picture["status"] == "ready" and set(picture["thumbnails"]) == {
        "small",
        "medium",
        "large",
    }
    assert (fake["asset_type"], fake["status"], fake["thumbnails"]) == ("document", "ready", {})
    with Database(settings.resolved_database_url).session() as session:
        steps = {(row.asset_id, row.step): row.status for row in session.scalars(select(AssetStep))}
    assert steps[(picture["id"], "thumbnails")] == "ok"
    assert (fake["id"], "thumbnails") not in steps


def test_a_failed_optional_step_is_named_after_the_scan_and_explained_by_status(
    tmp_path, run_trove
):
    library = tmp_path / "library"
    library.mkdir()
    (library / "notes.txt").write_text("fine\n")
    # A PNG signature and a header cut short: typed as a picture, no preview can be made.
    (library / "broken\x1b[31m.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDRcut")

    scanned = run_trove("scan", str(library)).stdout
    status = run_trove("status").stdout

    assert "0 with errors; steps failed: thumbnails 1 (`trove status` lists why)" in scanned
    (failed,) = [line for line in status.splitlines() if line.startswith("  failed ")]
    assert failed.startswith("  failed thumbnails x1: cannot decode")
    assert failed.endswith("(e.g. broken\\x1b[31m.png)")  # a name's escapes never reach a terminal
