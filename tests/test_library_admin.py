"""Library management through the API: a library is forgotten without a byte of it changing,
its globs are edited, it is assigned to members, and the folder browser never shows a folder
outside TROVE_ALLOWED_ROOTS (symlinks resolved before the check)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.media import fingerprint_tree, make_library, write_png
from trove.config import Settings
from trove.db.models import AssetStep, User
from trove.repositories._sql import utcnow


@pytest.fixture
def library(tmp_path: Path) -> Path:
    return make_library(tmp_path / "allowed" / "library")


@pytest.fixture
def admin_client(settings: Settings, library: Path, tmp_path: Path) -> Iterator[TestClient]:
    from trove.app import create_app

    allowed = dataclasses.replace(settings, allowed_roots=str(tmp_path / "allowed"), watch=False)
    app = create_app(allowed, roots=[str(library)])
    with TestClient(app, raise_server_exceptions=False) as client:
        assert app.state.services.indexer.wait_idle(60)
        yield client


def _root_id(client: TestClient) -> str:
    (root,) = client.get("/api/dam/roots").json()["items"]
    return root["id"]


def test_removing_a_library_forgets_its_records_and_leaves_every_file_as_it_was(
    admin_client, library
):
    before = fingerprint_tree(library)
    root_id = _root_id(admin_client)
    files = [a for a in admin_client.get("/api/dam/assets").json()["items"]]
    photo = next(a for a in files if a["filename"] == "IMG_0000.jpg")
    admin_client.patch(f"/api/dam/assets/{photo['id']}", json={"tags": ["trip", "sea"]})
    album = admin_client.post("/api/dam/albums", json={"name": "Holiday"}).json()
    added = admin_client.post(
        f"/api/dam/albums/{album['id']}/assets", json={"asset_ids": [photo["id"]]}
    )
    assert added.status_code == 200, added.text

    preview = admin_client.get(f"/api/dam/roots/{root_id}/removal").json()
    assert (preview["files"], preview["tags"], preview["album_memberships"]) == (9, 2, 1)
    assert preview["folders"] >= 5 and preview["path"] == str(library)
    removed = admin_client.delete(f"/api/dam/roots/{root_id}")
    assert removed.status_code == 200, removed.text
    assert removed.json() == preview

    assert admin_client.get("/api/dam/roots").json()["items"] == []
    left = admin_client.get("/api/dam/assets").json()["items"]
    assert [(a["filename"], a["asset_type"]) for a in left] == [("Holiday", "collection")]
    assert admin_client.get(f"/api/dam/assets/{photo['id']}").status_code == 404
    assert admin_client.get(f"/api/dam/albums/{album['id']}").json()["count"] == 0
    assert fingerprint_tree(library) == before
    assert admin_client.delete(f"/api/dam/roots/{root_id}").status_code == 404


def test_edited_globs_are_kept_and_applied_by_the_rescan_they_start(admin_client, library):
    root_id = _root_id(admin_client)
    patched = admin_client.patch(
        f"/api/dam/roots/{root_id}", json={"exclude_globs": ["*.png", " ", "*.png"]}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["exclude_globs"] == ["*.png"]
    assert admin_client.app.state.services.indexer.wait_idle(60)
    write_png(library / "graphics" / "new.png")
    assert admin_client.post(f"/api/dam/roots/{root_id}/scan").status_code == 202
    assert admin_client.app.state.services.indexer.wait_idle(60)
    present = admin_client.get("/api/dam/assets", params={"status": "ready"}).json()["items"]
    assert not [a for a in present if a["filename"].endswith(".png")]
    assert admin_client.get("/api/dam/roots").json()["items"][0]["exclude_globs"] == ["*.png"]


def test_a_library_is_assigned_to_a_member_who_may_then_be_allowed_to_upload_into_it(
    admin_client, library
):
    services = admin_client.app.state.services
    with services.database.session() as session:
        session.add(User(id="01a20000-0000-7000-8000-00000000000b", name="bo", created_at=utcnow()))
    root_id = _root_id(admin_client)
    member_url = f"/api/dam/roots/{root_id}/members/01a20000-0000-7000-8000-00000000000b"
    assigned = admin_client.put(member_url, json={"can_write": False})
    assert assigned.json()["items"] == [
        {"user_id": "01a20000-0000-7000-8000-00000000000b", "name": "bo", "can_write": False}
    ]
    assert admin_client.put(member_url, json={"can_write": True}).json()["items"][0]["can_write"]
    assert admin_client.delete(member_url).json()["items"] == []
    assert admin_client.delete(member_url).status_code == 404

    refused = admin_client.post(
        "/api/dam/upload", files={"file": ("in.txt", b"x")}, data={"root_id": root_id}
    )
    assert refused.status_code == 403  # not an upload library yet
    admin_client.patch(f"/api/dam/roots/{root_id}", json={"is_upload_target": True})
    stored = admin_client.post(
        "/api/dam/upload", files={"file": ("in.txt", b"x")}, data={"root_id": root_id}
    )
    assert stored.status_code == 201, stored.text
    assert (library / "in.txt").read_bytes() == b"x"


def test_the_folder_browser_lists_only_folders_inside_the_allowed_roots(
    admin_client, tmp_path, library
):
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    (outside / "secret").mkdir(parents=True)
    os.symlink(outside, allowed / "way-out")
    os.symlink(library / "2023", allowed / "photos")

    top = admin_client.get("/api/dam/folders").json()
    assert top["folders"] == [{"name": "allowed", "path": str(allowed)}]
    listed = admin_client.get("/api/dam/folders", params={"path": str(allowed)}).json()
    assert listed["parent"] is None
    assert listed["folders"] == [
        {"name": "library", "path": str(library)},
        {"name": "photos", "path": str(library / "2023")},  # the link, resolved
    ]
    inner = admin_client.get("/api/dam/folders", params={"path": str(library)}).json()
    assert inner["parent"] == str(allowed)
    for path in (outside, allowed / "way-out", allowed / "way-out" / "secret", f"{allowed}/.."):
        refused = admin_client.get("/api/dam/folders", params={"path": str(path)})
        assert refused.status_code == 403, path
        assert "TROVE_ALLOWED_ROOTS" in refused.json()["detail"]


def test_a_library_moved_within_the_allowed_folders_is_offered_and_relocated_through_the_api(
    admin_client, library, tmp_path
):
    root_id = _root_id(admin_client)
    ids = {a["path"]: a["id"] for a in admin_client.get("/api/dam/assets").json()["items"]}
    moved = tmp_path / "allowed" / "moved"
    shutil.move(library, moved)

    offer = admin_client.get("/api/dam/roots/relocation-offer", params={"path": str(moved)})
    assert offer.status_code == 200, offer.text
    assert offer.json()["offer"]["id"] == root_id
    refused = admin_client.post("/api/dam/roots", json={"path": str(moved)})
    assert refused.status_code == 409 and "relocate" in refused.json()["detail"]

    done = admin_client.post(f"/api/dam/roots/{root_id}/relocate", json={"new_path": str(moved)})
    assert done.status_code == 200, done.text
    assert done.json()["new_path"] == str(moved)
    assert admin_client.app.state.services.indexer.wait_idle(60)
    after = {a["path"]: a["id"] for a in admin_client.get("/api/dam/assets").json()["items"]}
    assert after == ids
    assert [r["path"] for r in admin_client.get("/api/dam/roots").json()["items"]] == [str(moved)]


def test_a_folder_inside_a_library_or_holding_one_is_refused_and_one_beside_it_added(
    admin_client, library, tmp_path
):
    """A file indexed under two libraries had two ids, was processed and watched twice and was
    its own duplicate."""
    before = fingerprint_tree(library)
    assets = len(admin_client.get("/api/dam/assets", params={"limit": 1000}).json()["items"])
    inside = next(p for p in sorted(library.rglob("*")) if p.is_dir())
    for folder, says in ((inside, "is inside the library"), (library.parent, "holds the library")):
        refused = admin_client.post("/api/dam/roots", json={"path": str(folder)})
        assert refused.status_code == 409, refused.text
        assert says in refused.json()["detail"] and str(library) in refused.json()["detail"]
    assert [r["path"] for r in admin_client.get("/api/dam/roots").json()["items"]] == [str(library)]
    beside = make_library(tmp_path / "allowed" / "shelf" / "beside")
    added = admin_client.post("/api/dam/roots", json={"path": str(beside)})
    assert added.status_code == 202, added.text
    assert admin_client.app.state.services.indexer.wait_idle(60)
    # A library members may upload into is a library like any other: its folder's parent
    # would index its files again.
    admin_client.patch(f"/api/dam/roots/{added.json()['id']}", json={"is_upload_target": True})
    refused = admin_client.post("/api/dam/roots", json={"path": str(beside.parent)})
    assert refused.status_code == 409 and "holds the library 'beside'" in refused.text
    # A library moved into another's folder is refused too, before its files are compared.
    moved = admin_client.post(
        f"/api/dam/roots/{added.json()['id']}/relocate", json={"new_path": str(inside)}
    )
    assert moved.status_code == 409 and "is inside the library" in moved.json()["detail"]
    listed = admin_client.get("/api/dam/assets", params={"limit": 1000}).json()["items"]
    assert sum(a["root_id"] != added.json()["id"] for a in listed) == assets
    assert fingerprint_tree(library) == before


def test_a_folder_and_one_inside_it_added_at_the_same_moment_make_one_library(
    database, settings, tmp_path, monkeypatch
):
    """Each add checked the libraries, then inserted its own: two adds at once both found
    none in the way and both went in, one inside the other. Whoever checks second now waits
    for the first to be done, and is refused."""
    from trove.repositories.roots import RootRepository
    from trove.services.errors import Conflict
    from trove.services.root_policy import own_upload_folder
    from trove.services.scan_writer import register_root

    listed = RootRepository.all

    def slow_to_decide(self: RootRepository) -> list:
        roots = listed(self)
        time.sleep(0.5)  # the window between the check and the insert, held open
        return roots

    monkeypatch.setattr(RootRepository, "all", slow_to_decide)
    outer = tmp_path / "shelf"
    inner = outer / "photos"
    inner.mkdir(parents=True)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def add(folder: Path) -> None:
        start.wait(10)
        try:
            register_root(database, str(folder), upload_folder=own_upload_folder(settings))
            outcomes[folder.name] = "added"
        except Conflict as refused:
            outcomes[folder.name] = str(refused)

    threads = [threading.Thread(target=add, args=(folder,)) for folder in (outer, inner)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == 2 and list(outcomes.values()).count("added") == 1
    (refused,) = (o for o in outcomes.values() if o != "added")
    assert "is inside the library" in refused or "holds the library" in refused
    with database.session() as session:
        assert len(listed(RootRepository(session))) == 1


def test_a_library_removed_while_its_files_are_processed_leaves_no_pipeline_error(
    admin_client, settings
):
    """The pipeline's batch finishing after the library went records nothing for its files:
    an outcome of a deleted asset broke the foreign key, failed the whole run and showed the
    SQL error on the Libraries page ("Last error")."""
    from trove.pipeline.processor import StepResult
    from trove.pipeline.recording import StepRun, finish, record_step

    ids = [a["id"] for a in admin_client.get("/api/dam/assets").json()["items"]]
    assert admin_client.delete(f"/api/dam/roots/{_root_id(admin_client)}").status_code == 200
    database = admin_client.app.state.services.database
    runs = [StepRun(i, StepResult.ok(mime_type="image/jpeg"), 1.0) for i in ids]
    with database.session() as session:  # the batch's last save, as the runner makes it
        record_step(session, step="mime", version=1, runs=runs, settings=settings)
        finish(session, {i: ("ready", None) for i in ids})
    with database.session() as session:
        assert session.query(AssetStep).filter(AssetStep.asset_id.in_(ids)).count() == 0


def test_the_indexers_last_error_is_one_line_and_the_details_stay_in_the_log(settings, caplog):
    """The Libraries page shows it ("Last error"): an SQL error's statement and parameters,
    hundreds of lines of them, were shown there whole."""
    from trove.services.container import Services

    def fail() -> None:
        raise RuntimeError("pipeline task failed: FOREIGN KEY constraint failed\n[SQL: INSERT …]")

    services = Services.create(settings)
    services.indexer.start()
    try:
        services.indexer.submit("process", fail)
        assert services.indexer.wait_idle(30)
    finally:
        services.indexer.stop()
        services.database.dispose()
    shown = services.indexer.snapshot()["last_error"]
    assert shown == "call process: pipeline task failed: FOREIGN KEY constraint failed"
    assert "[SQL: INSERT …]" in caplog.text
