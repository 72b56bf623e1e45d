"""The scavenger: moves made while Trove was stopped are recognised by the next scan.

A renamed or moved file keeps its id, tags and links; a deleted one goes missing (record kept);
a new one is registered. Real files, the real `trove scan`, both databases.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from sqlalchemy import select

from tests.media import make_library, write_jpeg, write_text
from trove.db.database import Database
from trove.db.models import Link
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.repositories.links import LinkRepository, edge
from trove.services.assets import AssetPatch, AssetService
from trove.services.library import LibraryService

pytestmark = pytest.mark.slow


def assets_by_path(settings) -> dict[str, dict]:
    page = LibraryService(settings).list_assets(AssetFilters(limit=1000))
    return {item["path"]: item for item in page.items}


def tag(settings, asset_id: str, *tags: str) -> None:
    database = Database(settings.resolved_database_url)
    try:
        AssetService(settings, database).update(
            asset_id, AssetPatch(tags=list(tags)), viewer=Viewer.system()
        )
    finally:
        database.dispose()


def link(settings, source: str, target: str, relation: str = "related_to") -> None:
    database = Database(settings.resolved_database_url)
    try:
        with database.session() as session:
            LinkRepository(session).add_many([edge(source, target, relation)])
    finally:
        database.dispose()


def edges(settings, relation: str) -> set[tuple[str, str]]:
    database = Database(settings.resolved_database_url)
    try:
        with database.session() as session:
            rows = session.scalars(select(Link).where(Link.relation == relation)).all()
            return {(row.source_id, row.target_id) for row in rows}
    finally:
        database.dispose()


def assert_folder_graph_matches_paths(settings) -> None:
    """Every indexed entry is `contains`-linked from the folder it is in, and only from it."""
    assets = {p: a for p, a in assets_by_path(settings).items() if a["status"] != "missing"}
    expected = {
        (assets[path.rpartition("/")[0]]["id"], a["id"]) for path, a in assets.items() if path
    }
    present = {a["id"] for a in assets.values()}
    actual = {(s, t) for s, t in edges(settings, "contains") if t in present}
    assert actual == expected


def test_moves_made_while_trove_was_stopped_keep_identity_tags_and_links(
    settings, tmp_path, run_trove
):
    library = make_library(tmp_path / "library", photos=6)
    run_trove("scan", str(library))
    before = assets_by_path(settings)
    renamed = before["2023/2023-01 trip/IMG_0000.jpg"]
    moved = before["2023/2023-02 trip/IMG_0001.jpg"]
    into_new_folder = before["graphics/logo.png"]
    in_folder = before["2023/2023-03 trip/IMG_0002.jpg"]
    deleted = before["notes/readme.txt"]
    tag(settings, renamed["id"], "beach", "family")
    tag(settings, in_folder["id"], "zoo")
    link(settings, renamed["id"], moved["id"])

    # Trove is not running: rename, move across folders, move into a new folder, rename a
    # whole folder, delete one file, add one.
    trip = library / "2023"
    (trip / "2023-01 trip/IMG_0000.jpg").rename(trip / "2023-01 trip/beach.jpg")
    (trip / "2023-02 trip/IMG_0001.jpg").rename(trip / "2023-01 trip/IMG_0001.jpg")
    (library / "archive/2020").mkdir(parents=True)
    (library / "graphics/logo.png").rename(library / "archive/2020/logo.png")
    (trip / "2023-03 trip").rename(trip / "2023-03 Zoo")
    (library / "notes/readme.txt").unlink()
    write_jpeg(library / "notes/added.jpg", seed=42)

    result = json.loads(run_trove("scan", str(library), "--json").stdout)
    after = assets_by_path(settings)

    summary = result["summary"]
    files_in_renamed_folder = 2
    assert summary["moved"] == 3 + files_in_renamed_folder + 1  # + the folder itself
    assert (summary["new"], summary["gone"], summary["changed"]) == (1, 1, 0)
    assert after["2023/2023-01 trip/beach.jpg"]["id"] == renamed["id"]
    assert after["2023/2023-01 trip/beach.jpg"]["tags"] == ["beach", "family"]
    assert after["2023/2023-01 trip/IMG_0001.jpg"]["id"] == moved["id"]
    assert after["archive/2020/logo.png"]["id"] == into_new_folder["id"]
    assert after["2023/2023-03 Zoo/IMG_0002.jpg"]["id"] == in_folder["id"]
    assert after["2023/2023-03 Zoo/IMG_0002.jpg"]["tags"] == ["zoo"]
    assert after["2023/2023-03 Zoo"]["id"] == before["2023/2023-03 trip"]["id"]
    assert after["notes/readme.txt"]["id"] == deleted["id"]
    assert after["notes/readme.txt"]["status"] == "missing"
    assert after["notes/added.jpg"]["status"] == "ready"
    assert {a["status"] for p, a in after.items() if p != "notes/readme.txt"} == {"ready"}
    for path in ("2023/2023-01 trip/beach.jpg", "archive/2020/logo.png"):
        assert after[path]["hash"] == before_hash(before, after[path]["id"])
    assert (renamed["id"], moved["id"]) in edges(settings, "related_to")
    assert_folder_graph_matches_paths(settings)
    old_paths = {"2023/2023-01 trip/IMG_0000.jpg", "graphics/logo.png", "2023/2023-03 trip"}
    assert old_paths.isdisjoint(after)


def before_hash(before: dict[str, dict], asset_id: str) -> str:
    (item,) = [a for a in before.values() if a["id"] == asset_id]
    return item["hash"]


def test_a_copy_then_delete_move_is_matched_by_size_and_sha256_hashing_only_candidates(
    settings, tmp_path, run_trove
):
    library = make_library(tmp_path / "library", photos=4)
    run_trove("scan", str(library))
    before = assets_by_path(settings)
    original = library / "2023/2023-01 trip/IMG_0000.jpg"
    target = library / "elsewhere/IMG_0000 copy.jpg"
    target.parent.mkdir()
    shutil.copyfile(original, target)  # a new inode: only the bytes tell it is the same
    original.unlink()
    for i in range(5):  # unrelated new files of other sizes are registered without hashing
        write_text(library / "elsewhere" / f"note-{i}.txt", "x" * (1000 + i))

    result = json.loads(run_trove("scan", str(library), "--json").stdout)["scans"][0]

    after = assets_by_path(settings)
    assert (
        after["elsewhere/IMG_0000 copy.jpg"]["id"] == before["2023/2023-01 trip/IMG_0000.jpg"]["id"]
    )
    assert (result["moved"], result["new"], result["gone"]) == (1, 5, 0)
    assert result["hashed_for_moves"] == 1


def test_a_file_moved_to_another_root_while_stopped_keeps_its_identity(
    settings, tmp_path, run_trove
):
    photos = make_library(tmp_path / "photos", photos=2)
    backup = tmp_path / "backup"
    write_text(backup / "keep.txt", "a file so the root is not empty\n")
    run_trove("scan", str(photos), str(backup))
    asset = assets_by_path(settings)["2023/2023-01 trip/IMG_0000.jpg"]
    tag(settings, asset["id"], "moved-across")

    shutil.move(str(photos / "2023/2023-01 trip/IMG_0000.jpg"), backup / "IMG_0000.jpg")
    run_trove("scan", str(photos))  # the source root first: the file goes missing
    result = json.loads(run_trove("scan", str(backup), "--json").stdout)

    after = assets_by_path(settings)["IMG_0000.jpg"]
    assert result["summary"]["moved"] == 1
    assert after["id"] == asset["id"]
    assert after["tags"] == ["moved-across"]
    assert after["root_id"] == result["roots"][0]["root_id"] != asset["root_id"]
    assert after["status"] == "ready"


def test_a_file_moved_then_edited_keeps_its_identity_and_is_fingerprinted_again(
    settings, tmp_path, run_trove
):
    library = make_library(tmp_path / "library", photos=2)
    run_trove("scan", str(library))
    before = assets_by_path(settings)["notes/readme.txt"]
    (library / "notes/readme.txt").rename(library / "readme.txt")
    with open(library / "readme.txt", "a") as fh:  # same inode, same name, more bytes
        fh.write("one more line\n")

    result = json.loads(run_trove("scan", str(library), "--json").stdout)

    after = assets_by_path(settings)["readme.txt"]
    assert result["summary"]["moved"] == 1
    assert after["id"] == before["id"]
    assert after["hash"] != before["hash"] and after["status"] == "ready"
    assert after["size"] == (library / "readme.txt").stat().st_size


def test_a_new_file_reusing_a_deleted_files_inode_is_not_taken_for_it(
    settings, tmp_path, run_trove
):
    """Inode numbers are reused at once on ext4: an inode alone proves nothing."""
    library = make_library(tmp_path / "library", photos=1)
    run_trove("scan", str(library))
    before = assets_by_path(settings)["notes/readme.txt"]
    inode = (library / "notes/readme.txt").stat().st_ino
    (library / "notes/readme.txt").unlink()
    fresh = write_text(library / "notes/other.txt", "something else entirely, longer\n")

    run_trove("scan", str(library))

    after = assets_by_path(settings)
    assert after["notes/readme.txt"]["status"] == "missing"
    assert after["notes/readme.txt"]["id"] == before["id"]
    assert after["notes/other.txt"]["id"] != before["id"]
    if fresh.stat().st_ino == inode:  # the case this test is about did happen
        assert after["notes/other.txt"]["hash"] != before["hash"]


def test_an_unchanged_rescan_after_moves_still_hashes_nothing(settings, tmp_path, run_trove):
    library = make_library(tmp_path / "library", photos=3)
    run_trove("scan", str(library))
    (library / "2023").rename(library / "2023 (old)")
    run_trove("scan", str(library))

    result = json.loads(run_trove("scan", str(library), "--no-wait", "--json").stdout)

    summary = result["summary"]
    assert summary["unchanged"] == summary["seen"]
    assert summary["moved"] == summary["new"] == summary["gone"] == 0
    assert result["scans"][0]["hashed_for_moves"] == 0
    assert os.path.isdir(library / "2023 (old)")


def test_a_folder_moved_and_seen_as_a_deletion_and_a_creation_comes_back_whole(settings, tmp_path):
    """The watcher's pairing of a folder's move can fail (a loaded machine): the sync then
    gets the old path, gone, and the new one. The folder was recognised as moved, ids kept,
    but it and every file in it stayed `missing` until an event came for each file."""
    from trove.repositories import fast_index
    from trove.services.scanner import ScanService
    from trove.sync.path_sync import PathSync

    library = make_library(tmp_path / "library")
    (library / "2023/2023-01 trip/deeper").mkdir()
    write_text(library / "2023/2023-01 trip/deeper/notes.txt", "deeper")
    scans = ScanService(settings)
    scans.scan(library)

    def by_id() -> dict[str, tuple[str, str]]:
        with fast_index.connect(settings.resolved_database_url) as conn:
            rows = conn.execute("SELECT id, rel_path, status FROM assets").fetchall()
        return {asset_id: (rel, status) for asset_id, rel, status in rows}

    before = by_id()
    (library / "2023/2023-01 trip").rename(library / "2023/Trip one")

    synced = PathSync(scans).sync([library / "2023/2023-01 trip", library / "2023/Trip one"])

    moved = {
        asset_id: (rel.replace("2023/2023-01 trip", "2023/Trip one"), status)
        for asset_id, (rel, status) in before.items()
    }
    assert by_id() == moved
    assert synced.moved == 1 and synced.returned == 5  # its 2 folders and 3 files


def test_a_move_whose_new_path_is_synced_before_its_old_one_keeps_identity_tags_and_links(
    settings, tmp_path
):
    """The watcher's batches can bring a move's new path first (its events split between
    two batches): the file was registered as new, the old record went missing, and its tags,
    links and albums stayed with a missing record."""
    from trove.services.scanner import ScanService
    from trove.sync.path_sync import PathSync

    library = make_library(tmp_path / "library")
    LibraryService(settings).scan_and_process([str(library)], wait=True)
    before = assets_by_path(settings)
    renamed, moved = (
        before["2023/2023-01 trip/IMG_0000.jpg"],
        before["2023/2023-02 trip/IMG_0001.jpg"],
    )
    tag(settings, renamed["id"], "kept")
    link(settings, renamed["id"], moved["id"])
    (library / "2023/2023-01 trip/IMG_0000.jpg").rename(library / "2023/2023-01 trip/a.jpg")
    (library / "2023/2023-02 trip/IMG_0001.jpg").rename(library / "graphics/IMG_0001.jpg")
    sync = PathSync(ScanService(settings))  # the watcher's, which lives as long as it does

    first = sync.sync([library / "2023/2023-01 trip/a.jpg", library / "graphics/IMG_0001.jpg"])
    then = sync.sync(
        [library / "2023/2023-01 trip/IMG_0000.jpg", library / "2023/2023-02 trip/IMG_0001.jpg"]
    )

    after = assets_by_path(settings)
    assert first.registered == 2 and (then.moved, then.missing) == (2, 0)
    assert after["2023/2023-01 trip/a.jpg"]["id"] == renamed["id"]
    assert after["2023/2023-01 trip/a.jpg"]["tags"] == ["kept"]
    assert after["graphics/IMG_0001.jpg"]["id"] == moved["id"]
    assert {a["status"] for a in after.values()} == {"ready"}
    assert len(after) == len(before)  # the records made for the new paths are gone
    assert (renamed["id"], moved["id"]) in edges(settings, "related_to")
    assert_folder_graph_matches_paths(settings)


def test_a_move_into_another_library_whose_new_path_is_synced_first_keeps_identity(
    settings, tmp_path
):
    """The same split of a move's events, between two libraries on one disk: the file was
    registered as new in the second, and its record in the first, with its tags, went
    missing."""
    from trove.services.scanner import ScanService
    from trove.sync.path_sync import PathSync

    photos = make_library(tmp_path / "photos", photos=2)
    backup = tmp_path / "backup"
    write_text(backup / "keep.txt", "a file so the root is not empty\n")
    LibraryService(settings).scan_and_process([str(photos), str(backup)], wait=True)
    before = assets_by_path(settings)
    asset, readme = before["2023/2023-01 trip/IMG_0000.jpg"], before["notes/readme.txt"]
    tag(settings, asset["id"], "moved-across")
    old, new = photos / "2023/2023-01 trip/IMG_0000.jpg", backup / "IMG_0000.jpg"
    old.rename(new)
    (photos / "notes/readme.txt").rename(backup / "readme.txt")
    sync = PathSync(ScanService(settings))

    first = sync.sync([new, backup / "readme.txt"])
    then = sync.sync([old, photos / "notes/readme.txt"])

    after = assets_by_path(settings)
    assert first.registered == 2 and (then.moved, then.missing) == (2, 0)
    assert then.ids == {str(new): asset["id"], str(backup / "readme.txt"): readme["id"]}
    assert after["readme.txt"]["id"] == readme["id"]
    assert after["IMG_0000.jpg"]["id"] == asset["id"]
    assert after["IMG_0000.jpg"]["tags"] == ["moved-across"]
    assert after["IMG_0000.jpg"]["root_id"] != asset["root_id"]
    assert after["IMG_0000.jpg"]["status"] == "ready"
    assert "2023/2023-01 trip/IMG_0000.jpg" not in after
    assert sum(1 for a in after.values() if a["filename"] == "IMG_0000.jpg") == 1
    page = LibraryService(settings).list_assets(AssetFilters(limit=1000)).items
    (backup_folder,) = [
        a["id"]
        for a in page
        if a["path"] == "" and a["root_id"] == after["IMG_0000.jpg"]["root_id"]
    ]
    contains = edges(settings, "contains")
    assert {(s, t) for s, t in contains if t == asset["id"]} == {(backup_folder, asset["id"])}


def test_a_deleted_files_inode_taken_by_a_file_just_synced_is_not_taken_for_its_move(
    settings, tmp_path
):
    """A file system gives a freed inode to the next new file: the deleted file's record
    must not take the new file's place. (The reuse is made in the index: the deleted file is
    recorded with the new file's inode, as if the file system had handed it on.)"""
    from trove.repositories import fast_index
    from trove.services.scanner import ScanService
    from trove.sync.path_sync import PathSync

    library = make_library(tmp_path / "library")
    LibraryService(settings).scan_and_process([str(library)], wait=True)
    deleted = assets_by_path(settings)["notes/readme.txt"]
    (library / "notes/readme.txt").unlink()
    write_text(library / "notes/new.txt", "another file")
    sync = PathSync(ScanService(settings))
    new_id = sync.sync([library / "notes/new.txt"]).ids[str(library / "notes/new.txt")]
    st = (library / "notes/new.txt").stat()
    with fast_index.connect(settings.resolved_database_url) as conn:
        conn.execute(
            "UPDATE assets SET inode = ?, device = ? WHERE id = ?",
            (st.st_ino, st.st_dev, deleted["id"]),
        )

    then = sync.sync([library / "notes/readme.txt"])

    after = assets_by_path(settings)
    assert (then.moved, then.missing) == (0, 1)
    assert after["notes/new.txt"]["id"] == new_id
    assert after["notes/readme.txt"]["status"] == "missing"


def test_a_new_copy_inside_a_folder_moved_in_pieces_does_not_take_its_originals_record(
    settings, tmp_path
):
    """The moved folder's own entries are brought back before anything new in it is matched
    against what is missing: a copy sorted first ("IMG_0000 copy.jpg") matched the
    original's record, still missing, by its SHA-256 and took its id and tags."""
    from trove.services.scanner import ScanService
    from trove.sync.path_sync import PathSync

    library = make_library(tmp_path / "library")
    LibraryService(settings).scan_and_process([str(library)], wait=True)
    trip = library / "2023/2023-01 trip"
    original = assets_by_path(settings)["2023/2023-01 trip/IMG_0000.jpg"]
    tag(settings, original["id"], "original")
    shutil.copy2(trip / "IMG_0000.jpg", trip / "IMG_0000 copy.jpg")  # no event seen yet
    trip.rename(library / "2023/Trip one")

    # The copy's own event may come first in the batch.
    copy = library / "2023/Trip one/IMG_0000 copy.jpg"
    PathSync(ScanService(settings)).sync([trip, copy, library / "2023/Trip one"])

    after = assets_by_path(settings)
    assert after["2023/Trip one/IMG_0000.jpg"]["id"] == original["id"]
    assert after["2023/Trip one/IMG_0000.jpg"]["tags"] == ["original"]
    assert after["2023/Trip one/IMG_0000 copy.jpg"]["id"] != original["id"]
    assert after["2023/Trip one/IMG_0000 copy.jpg"]["tags"] == []


@pytest.mark.parametrize("seen_by", ["scan", "watcher"])
def test_a_new_folder_reusing_a_deleted_folders_inode_is_not_taken_for_it(
    settings, tmp_path, seen_by
):
    """`rm -rf import; mkdir import2`: ext4 gives the new folder the freed inode at once.
    Taken for the old folder moved, it carried off its id and its files' records (moved to
    paths under the new folder, where they are not). A folder found at a vanished one's inode
    is that folder only if it holds some of what the old one held (or the old one held
    nothing)."""
    from trove.services.scanner import ScanService
    from trove.sync.path_sync import PathSync

    library = make_library(tmp_path / "library", photos=1)
    old = library / "import"
    write_text(old / "a.txt", "the first import")
    scans = ScanService(settings)
    scans.scan(library)
    before = assets_by_path(settings)
    new = library / "import2"
    # What `rm -rf import; mkdir import2` leaves when the inode is reused (on a quiet ext4,
    # at once), made certain: a folder at the old one's inode that holds none of its files.
    old.rename(new)
    (new / "a.txt").unlink()

    if seen_by == "scan":
        write_text(new / "b.txt", "another import")
        scans.scan(library)
    else:  # the new folder's event, while it is still empty
        PathSync(scans).sync([old, old / "a.txt", new])

    after = assets_by_path(settings)
    for path in ("import", "import/a.txt"):
        assert (after[path]["id"], after[path]["status"]) == (before[path]["id"], "missing")
    assert after["import2"]["id"] != before["import"]["id"]
    assert after["import2"]["status"] == "ready"
    assert not any(path.startswith("import2/a.txt") for path in after)
