"""Logical dedup: identical files are grouped by SHA-256 and linked, never removed; editing a
copy takes it out of its group. The real CLI and API, both databases."""

from __future__ import annotations

import json
import shutil

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.media import fingerprint_tree, make_library, write_jpeg, write_text
from trove.app import create_app
from trove.db.database import Database
from trove.db.models import Link
from trove.domain.filters import AssetFilters
from trove.services.library import LibraryService

pytestmark = pytest.mark.slow


def assets_by_path(settings) -> dict[str, dict]:
    page = LibraryService(settings).list_assets(AssetFilters(limit=1000))
    return {item["path"]: item for item in page.items}


def duplicate_links(settings) -> set[tuple[str, str]]:
    database = Database(settings.resolved_database_url)
    try:
        with database.session() as session:
            rows = session.scalars(select(Link).where(Link.relation == "duplicate_of")).all()
            return {(row.source_id, row.target_id) for row in rows}
    finally:
        database.dispose()


def library_with_a_backup_copy(tmp_path):
    library = make_library(tmp_path / "library", photos=3)
    photo = library / "2023/2023-01 trip/IMG_0000.jpg"
    backup = library / "backup/photos/IMG_0000.jpg"
    backup.parent.mkdir(parents=True)
    shutil.copy2(photo, backup)
    return library, photo, backup


def test_two_identical_files_form_one_group_and_editing_one_splits_it(
    settings, tmp_path, run_trove
):
    library, photo, backup = library_with_a_backup_copy(tmp_path)
    before = fingerprint_tree(library)
    run_trove("scan", str(library))

    report = json.loads(run_trove("dupes", "--json").stdout)

    (group,) = report["items"]
    paths = sorted(a["path"] for a in group["assets"])
    assert paths == ["2023/2023-01 trip/IMG_0000.jpg", "backup/photos/IMG_0000.jpg"]
    assert group["count"] == 2 and group["size"] == photo.stat().st_size
    assert group["wasted_bytes"] == photo.stat().st_size
    assert report["totals"] == {"groups": 1, "files": 2, "wasted_bytes": group["wasted_bytes"]}
    ids = {a["path"]: a["id"] for a in group["assets"]}
    first, copy = sorted(ids.values())
    assert duplicate_links(settings) == {(copy, first)}  # the copy -> the first indexed
    text = run_trove("dupes").stdout
    assert str(backup) in text and str(photo) in text
    assert fingerprint_tree(library) == before  # reported, never removed

    write_jpeg(backup, size=(80, 60), seed=77)  # one copy is edited
    run_trove("scan", str(library))

    assert json.loads(run_trove("dupes", "--json").stdout)["items"] == []
    assert duplicate_links(settings) == set()


def test_each_asset_lists_its_other_copies_and_the_api_reports_groups(settings, tmp_path):
    library, photo, _backup = library_with_a_backup_copy(tmp_path)
    third = library / "elsewhere/copy of IMG_0000.jpg"
    third.parent.mkdir()
    shutil.copy2(photo, third)
    for name in ("a.txt", "b.txt"):  # empty files are all "identical": not reported
        write_text(library / "empty" / name, "")

    app = create_app(settings, roots=[str(library)])
    with TestClient(app) as client:
        assert app.state.services.indexer.wait_idle(60)
        page = client.get("/api/dam/duplicates").json()
        (group,) = page["items"]
        assert group["count"] == 3 and page["next_cursor"] is None

        by_path = {a["path"]: a for a in group["assets"]}
        detail = client.get(f"/api/dam/assets/{by_path['backup/photos/IMG_0000.jpg']['id']}")
        copies = detail.json()["copies"]
        assert sorted(c["path"] for c in copies) == [
            "2023/2023-01 trip/IMG_0000.jpg",
            "elsewhere/copy of IMG_0000.jpg",
        ]
        assert {c["root_path"] for c in copies} == {str(library)}
        assert detail.json()["corrupted"] is False

    links = duplicate_links(settings)
    canonical = min(a["id"] for a in group["assets"])
    assert links == {(a["id"], canonical) for a in group["assets"] if a["id"] != canonical}


def test_a_missing_copy_is_not_offered_as_another_copy(settings, tmp_path, run_trove):
    library, _photo, backup = library_with_a_backup_copy(tmp_path)
    run_trove("scan", str(library))
    backup.unlink()
    run_trove("scan", str(library))

    assert assets_by_path(settings)["backup/photos/IMG_0000.jpg"]["status"] == "missing"
    assert json.loads(run_trove("dupes", "--json").stdout)["items"] == []
    assert duplicate_links(settings) == set()


def test_groups_page_with_a_cursor_largest_waste_first(settings, tmp_path, run_trove):
    library = tmp_path / "library"
    for i, size in enumerate((1000, 3000, 2000)):
        for copy in range(2):
            write_text(library / f"set{i}" / f"copy{copy}.txt", chr(65 + i) * size)
    run_trove("scan", str(library))

    from trove.services.integrity import IntegrityService

    service = IntegrityService.open(settings)
    first = service.duplicates(limit=2)
    second = service.duplicates(limit=2, cursor=first["next_cursor"])
    service.database.dispose()

    sizes = [g["size"] for g in first["items"] + second["items"]]
    assert sizes == [3000, 2000, 1000]
    assert second["next_cursor"] is None


def test_while_watched_a_copy_that_appears_joins_the_group_and_leaves_it_when_edited(
    settings, tmp_path
):
    from tests.test_watcher import eventually, fast
    from trove.services.container import Services

    library = make_library(tmp_path / "library", photos=2)
    services = Services.create(fast(settings))
    services.indexer.start()
    services.library.scan_and_process([str(library)], wait=True)
    services.start_sync()
    try:
        assert services.indexer.wait_idle(30)
        photo = library / "2023/2023-01 trip/IMG_0000.jpg"
        copy = library / "backup/IMG_0000.jpg"
        copy.parent.mkdir()
        shutil.copyfile(photo, copy)
        eventually(lambda: len(duplicate_links(settings)) == 1, what="copy linked")
        assert services.integrity.duplicates()["totals"]["groups"] == 1

        write_jpeg(copy, size=(80, 60), seed=5)
        eventually(lambda: duplicate_links(settings) == set(), what="group split")
        assert services.integrity.duplicates()["items"] == []
    finally:
        services.close()
        services.database.dispose()


def test_trove_dupes_answers_from_the_hash_index_without_the_orm(settings, tmp_path, run_trove):
    """What makes it faster than jdupes: no file is read and no ORM is loaded."""
    from tests.conftest import imported_by

    library, _photo, _backup = library_with_a_backup_copy(tmp_path)
    run_trove("scan", str(library))

    imported, stdout = imported_by(settings, "dupes", "--json")

    assert "trove.services.dupes" in imported
    assert sorted(m for m in imported if m.split(".")[0] in ("sqlalchemy", "alembic")) == []
    assert json.loads(stdout)["totals"]["groups"] == 1
