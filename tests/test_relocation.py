"""Relocating a library whose folder moved: ids, tags, albums and previews kept once a sample
of its files is found at the new place with the same content; a folder with other content is
refused; a library that reappears elsewhere is offered for relocation, not indexed anew.
Both databases."""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Iterator

import pytest

from tests.pipeline_media import write_photo
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.services.assets import AssetPatch
from trove.services.container import Services
from trove.services.errors import Invalid, RelocationOffered

SYSTEM = Viewer.system()


@pytest.fixture
def services(settings) -> Iterator[Services]:
    services = Services.create(settings)
    yield services
    services.database.dispose()


def _listing(services: Services) -> dict[str, dict]:
    items = services.assets.list(AssetFilters(), viewer=SYSTEM).items
    return {a["path"]: a for a in items if a["path"]}


def test_a_moved_library_keeps_its_ids_tags_albums_and_previews_and_is_offered_when_found_again(
    services, tmp_path
):
    old = tmp_path / "nas-a" / "photos"
    for i in range(6):
        write_photo(old / ("trip" if i % 2 else "") / f"p{i}.jpg", seed=i)
    services.library.scan_and_process([str(old)], wait=True)
    before = _listing(services)
    tagged = before["p0.jpg"]["id"]
    services.assets.update(tagged, AssetPatch(tags=["keeper"], title="First"), viewer=SYSTEM)
    album = services.albums.create(
        "Best", viewer=SYSTEM, asset_ids=[before["trip/p1.jpg"]["id"], tagged]
    )

    # Another folder with the same names and other pictures is not this library.
    impostor = tmp_path / "impostor"
    for i in range(6):
        write_photo(impostor / ("trip" if i % 2 else "") / f"p{i}.jpg", seed=100 + i)
    with pytest.raises(Invalid, match="other content"):
        services.library.relocate(str(old), str(impostor))

    new = tmp_path / "nas-b" / "pictures"
    new.parent.mkdir()
    shutil.move(old, new)
    done = services.library.relocate(str(old), str(new))
    assert (done["old_path"], done["new_path"]) == (str(old), str(new))
    assert done["matched"] == done["sampled"] == 6
    services.library.scan_and_process([str(new)], wait=True)

    after = _listing(services)
    assert {p: a["id"] for p, a in after.items()} == {p: a["id"] for p, a in before.items()}
    assert {a["status"] for a in after.values() if a["asset_type"] != "collection"} == {"ready"}
    detail = services.assets.get(tagged, viewer=SYSTEM)
    assert (detail["tags"], detail["title"]) == (["keeper"], "First")
    assert detail["storage_urn"] == f"fs://local{new}/p0.jpg"
    assert detail["thumbnails"] == before["p0.jpg"]["thumbnails"]  # the same previews
    members, _ = services.albums.members(album["id"], viewer=SYSTEM)
    assert [m["id"] for m in members] == [before["trip/p1.jpg"]["id"], tagged]
    roots = services.library.roots()
    assert [(r["path"], r["name"]) for r in roots] == [(str(new), "pictures")]

    # It moves again and is scanned where it reappears: offered, not indexed a second time.
    again = tmp_path / "disk2" / "pictures"
    again.parent.mkdir()
    shutil.move(new, again)
    with pytest.raises(RelocationOffered) as offered:
        services.library.scan_and_process([str(again)], wait=True)
    assert (offered.value.offer["old_path"], offered.value.offer["matched"]) == (str(new), 6)
    assert "trove roots relocate" in str(offered.value)
    assert [r["path"] for r in services.library.roots()] == [str(new)]
    services.library.scan_and_process([str(again)], wait=True, relocate=True)
    assert {p: a["id"] for p, a in _listing(services).items()} == {
        p: a["id"] for p, a in before.items()
    }
    assert [r["path"] for r in services.library.roots()] == [str(again)]


def _checksums(folder) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_a_sampled_file_that_is_a_symlink_counts_as_unreadable_and_refuses_only_below_the_bar(
    services, tmp_path
):
    old = tmp_path / "old" / "photos"
    for i in range(10):
        write_photo(old / f"p{i}.jpg", seed=i, size=(160, 120))
    services.library.scan_and_process([str(old)], wait=True)
    new = tmp_path / "new" / "photos"
    new.parent.mkdir()
    shutil.move(old, new)
    # The same content, reached through a symlink: sha256_file will not read it as an original.
    kept = tmp_path / "kept"
    kept.mkdir()
    for name in ("p0.jpg", "p2.jpg"):
        shutil.move(new / name, kept / name)
        (new / name).symlink_to(kept / name)
    originals = _checksums(new) | _checksums(kept)

    assert services.library.relocation_offer(str(new)) is None
    with pytest.raises(Invalid, match=r"only 8 of 10 .*p[02]\.jpg \(unreadable\)"):
        services.library.relocate(str(old), str(new))
    (new / "p2.jpg").unlink()
    shutil.copy2(kept / "p2.jpg", new / "p2.jpg")
    done = services.library.relocate(str(old), str(new))
    assert (done["matched"], done["sampled"]) == (9, 10)
    assert _checksums(new) | _checksums(kept) == originals


def test_the_sample_reaches_the_newest_files_so_a_stale_copy_of_the_oldest_is_refused(
    services, tmp_path
):
    old = tmp_path / "old" / "photos"
    for i in range(40):
        write_photo(old / f"p{i:02}.jpg", seed=i, size=(32, 24))
    services.library.scan_and_process([str(old)], wait=True)
    by_id = sorted(_listing(services).values(), key=lambda a: a["id"])
    oldest = [a["path"] for a in by_id if a["asset_type"] != "collection"][:24]
    stale = tmp_path / "stale"
    stale.mkdir()
    for rel in oldest:
        shutil.copy2(old / rel, stale / rel)
    shutil.move(old, tmp_path / "away")
    originals = _checksums(tmp_path / "away")

    with pytest.raises(Invalid, match=r"not relocated.*absent"):
        services.library.relocate(str(old), str(stale))
    assert services.library.relocation_offer(str(stale)) is None
    assert [r["path"] for r in services.library.roots()] == [str(old)]
    assert _checksums(tmp_path / "away") == originals


def test_a_library_whose_mount_point_is_left_behind_empty_is_offered_where_it_reappears(
    services, tmp_path
):
    old = tmp_path / "mnt-old" / "photos"
    for i in range(6):
        write_photo(old / f"p{i}.jpg", seed=i, size=(32, 24))
    services.library.scan_and_process([str(old)], wait=True)
    tagged = _listing(services)["p0.jpg"]["id"]
    services.assets.update(tagged, AssetPatch(tags=["keeper"]), viewer=SYSTEM)
    new = tmp_path / "mnt-new" / "photos"
    new.parent.mkdir()
    shutil.move(old, new)
    old.mkdir()  # the mount point stays, empty but for the clutter a desktop leaves
    (old / ".DS_Store").write_bytes(b"\0")
    originals = _checksums(new)

    offer = services.library.relocation_offer(str(new))  # before any scan says it is offline
    assert offer is not None and (offer["old_path"], offer["matched"]) == (str(old), 6)
    (scan,) = services.library.scan_and_process([str(old)], wait=True).scans
    assert scan.status == "offline"
    with pytest.raises(RelocationOffered):
        services.library.scan_and_process([str(new)], wait=True)
    assert [r["path"] for r in services.library.roots()] == [str(old)]

    services.library.scan_and_process([str(new)], wait=True, relocate=True)
    assert [r["path"] for r in services.library.roots()] == [str(new)]
    assert services.assets.get(tagged, viewer=SYSTEM)["tags"] == ["keeper"]
    assert _checksums(new) == originals
    assert sorted(p.name for p in old.iterdir()) == [".DS_Store"]


@pytest.mark.parametrize("linked", ["the folder", "a folder above it"])
def test_a_library_whose_folder_was_replaced_by_a_link_is_offline_and_its_target_offered(
    services, tmp_path, linked
):
    """`mv photos elsewhere; ln -s elsewhere photos` (or so for a mount point above it): the
    library is not indexed a second time at the link's target, nor shown online while
    nothing of it is scanned any more."""
    old = tmp_path / "mnt" / "photos"
    for i in range(4):
        write_photo(old / f"p{i}.jpg", seed=i, size=(32, 24))
    services.library.scan_and_process([str(old)], wait=True)
    ids = {path: a["id"] for path, a in _listing(services).items()}
    replaced = old if linked == "the folder" else old.parent
    elsewhere = tmp_path / "elsewhere"
    shutil.move(replaced, elsewhere)
    replaced.symlink_to(elsewhere)
    new = elsewhere if linked == "the folder" else elsewhere / "photos"

    (scan,) = services.library.scan_and_process([str(old)], wait=True).scans
    assert (scan.path, scan.status) == (str(old), "offline")
    assert scan.status_message == (
        f"the folder is now a link to {new} (moved? relocate the library there)"
    )
    rescan = services.library.scan_and_process([str(old)], wait=False, libraries_only=True)
    assert rescan.scans[0].status == "offline"  # the server's: not skipped as "no library"
    services.library.add_server_roots([str(old)], indexer=services.indexer)  # `trove serve`
    assert [r["path"] for r in services.library.roots()] == [str(old)]
    with pytest.raises(RelocationOffered):
        services.library.scan_and_process([str(new)], wait=True)
    assert [r["path"] for r in services.library.roots()] == [str(old)]

    services.library.scan_and_process([str(new)], wait=True, relocate=True)
    assert [r["path"] for r in services.library.roots()] == [str(new)]
    assert {path: a["id"] for path, a in _listing(services).items()} == ids


def test_a_library_whose_folder_still_holds_its_files_is_not_offered_for_a_copy(services, tmp_path):
    old = tmp_path / "photos"
    for i in range(6):
        write_photo(old / f"p{i}.jpg", seed=i, size=(32, 24))
    services.library.scan_and_process([str(old)], wait=True)
    copy = tmp_path / "copy"
    shutil.copytree(old, copy)
    assert services.library.relocation_offer(str(copy)) is None


def test_a_library_added_inside_the_new_folder_while_the_files_are_compared_stops_the_switch(
    services, tmp_path, monkeypatch
):
    """The files are compared before the switch (seconds on a NAS); a library added inside
    the new folder meanwhile passed the nesting check made before them, and its files were
    then indexed twice. The check is made again, under the libraries' lock, at the switch."""
    from trove.services.errors import Conflict
    from trove.services.relocation import LibraryRelocation
    from trove.services.root_policy import own_upload_folder
    from trove.services.scan_writer import register_root

    old = tmp_path / "old" / "photos"
    for i in range(3):
        write_photo(old / "trip" / f"p{i}.jpg", seed=i, size=(160, 120))
    services.library.scan_and_process([str(old)], wait=True)
    new = tmp_path / "new" / "photos"
    new.parent.mkdir()
    shutil.move(old, new)
    compare = LibraryRelocation._check

    def compared_while_a_library_is_added(self, session, root_id, folder):  # type: ignore[no-untyped-def]
        outcome = compare(self, session, root_id, folder)
        adding = threading.Thread(
            target=register_root,
            args=(services.database, str(new / "trip")),
            kwargs={"upload_folder": own_upload_folder(services.settings)},
        )
        adding.start()
        adding.join(30)
        return outcome

    monkeypatch.setattr(LibraryRelocation, "_check", compared_while_a_library_is_added)
    with pytest.raises(Conflict, match="holds the library 'trip'"):
        services.library.relocate(str(old), str(new))
    assert {r["path"] for r in services.library.roots()} == {str(old), str(new / "trip")}
