"""REST API over a scanned library, on SQLite and PostgreSQL, through the real ASGI app."""

from __future__ import annotations

import hashlib

import pytest

from tests.media import fingerprint_tree, make_library, write_jpeg
from trove.drivers.metadata import MetadataRegistry
from trove.services.assets import _merged_namespace
from trove.services.errors import Invalid


@pytest.fixture
def library(tmp_path):
    return make_library(tmp_path / "library")


def files(client, **params):
    params.setdefault("limit", 1000)
    page = client.get("/api/dam/assets", params=params)
    assert page.status_code == 200, page.text
    return [i for i in page.json()["items"] if i["asset_type"] != "collection"]


def by_path(client, rel):
    (item,) = [i for i in files(client) if i["path"] == rel]
    return item


def test_listing_filters_by_type_mime_path_and_status(client):
    assert len(files(client, type="image")) == 7
    assert {i["mime_type"] for i in files(client, mime="image/*")} == {"image/jpeg", "image/png"}
    assert len(files(client, mime="image/png")) == 1
    trip = files(client, path="2023/2023-01 trip")
    assert {i["path"] for i in trip} == {
        "2023/2023-01 trip/IMG_0000.jpg",
        "2023/2023-01 trip/IMG_0003.jpg",
    }
    assert files(client, path="2023/2023-01") == []  # a prefix is a folder, not a string
    assert len(files(client, status="ready")) == 9
    assert files(client, status="missing") == []


def test_cursor_pagination_is_stable_and_complete(client):
    seen, cursor = [], None
    while True:
        params = {"limit": 3, "sort": "filename"}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/dam/assets", params=params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    everything = client.get("/api/dam/assets", params={"limit": 1000, "sort": "filename"}).json()
    assert seen == [i["id"] for i in everything["items"]]
    assert len(seen) == len(set(seen))


def test_patch_edits_title_tags_visibility_and_a_namespace(client):
    asset = by_path(client, "graphics/logo.png")
    response = client.patch(
        f"/api/dam/assets/{asset['id']}",
        json={
            "title": "Logo",
            "tags": ["brand", " Brand ", "2023"],
            "visibility": "shared",
            "metadata": {"gallery": {"rating": 5}},
        },
    )
    assert response.status_code == 200, response.text
    detail = client.get(f"/api/dam/assets/{asset['id']}").json()
    assert detail["title"] == "Logo"
    assert detail["tags"] == ["2023", "Brand", "brand"]
    assert detail["visibility"] == "shared"
    assert detail["metadata"]["gallery"] == {"rating": 5}
    assert [i["id"] for i in files(client, tag="brand")] == [asset["id"]]
    assert [i["id"] for i in files(client, tag="brand", type="video")] == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"visibility": "everyone"}, "visibility: Input should be 'private', 'shared' or 'public'"),
        ({"metadata": {"exif": {"Make": "x"}}}, "read-only"),
        ({"metadata": {"a": {}, "b": {}}}, "exactly one namespace"),
        ({"owner_id": "someone"}, "owner_id"),
        ({"tags": "not-a-list"}, "tags"),
    ],
)
def test_bad_patches_get_a_clear_422(client, body, fragment):
    asset = by_path(client, "graphics/logo.png")
    response = client.patch(f"/api/dam/assets/{asset['id']}", json=body)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_what_files_and_other_tools_sidecars_say_is_read_only():
    for namespace in ("exif", "xmp_sidecar", "takeout"):
        with pytest.raises(Invalid, match="read-only"):
            _merged_namespace({}, {namespace: {"tags": ["x"]}}, registry=MetadataRegistry())
    typed = _merged_namespace({}, {"notes": {"tags": ["x"]}}, registry=MetadataRegistry())
    assert typed == {"notes": {"tags": ["x"]}}


def test_unknown_ids_bad_cursors_and_sorts_are_json_errors(client):
    assert client.get("/api/dam/assets/nope").json() == {"detail": "no asset with id 'nope'"}
    assert client.get("/api/dam/assets/nope").status_code == 404
    bad_cursor = client.get("/api/dam/assets", params={"cursor": "!!!"})
    assert bad_cursor.status_code == 422 and "cursor" in bad_cursor.json()["detail"]
    bad_sort = client.get("/api/dam/assets", params={"sort": "password"})
    assert bad_sort.status_code == 422 and "'-timeline_at'" in bad_sort.json()["detail"]
    assert client.get("/api/dam/assets", params={"limit": 0}).status_code == 422


def test_soft_delete_hides_and_restore_brings_back(client):
    asset = by_path(client, "notes/readme.txt")
    assert client.delete(f"/api/dam/assets/{asset['id']}").status_code == 204
    assert asset["id"] not in {i["id"] for i in files(client)}
    assert asset["id"] in {i["id"] for i in files(client, deleted="true")}
    assert client.get(f"/api/dam/assets/{asset['id']}").json()["deleted"] is True
    restored = client.post(f"/api/dam/assets/{asset['id']}/restore")
    assert restored.status_code == 200 and restored.json()["deleted"] is False
    assert asset["id"] in {i["id"] for i in files(client)}


def test_hard_delete_drops_the_record_but_never_the_file(client, library):
    asset = by_path(client, "notes/readme.txt")
    assert (
        client.delete(f"/api/dam/assets/{asset['id']}", params={"hard": "true"}).status_code == 204
    )
    assert client.get(f"/api/dam/assets/{asset['id']}").status_code == 404
    assert (library / "notes" / "readme.txt").read_text() == "hello trove\n"


def test_file_streams_the_original_with_range_support(client, library):
    asset = by_path(client, "2023/2023-01 trip/IMG_0000.jpg")
    data = (library / "2023/2023-01 trip/IMG_0000.jpg").read_bytes()
    full = client.get(f"/api/dam/assets/{asset['id']}/file")
    assert full.status_code == 200
    assert full.content == data
    assert full.headers["content-type"] == "image/jpeg"
    part = client.get(f"/api/dam/assets/{asset['id']}/file", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"


def test_file_of_a_folder_or_a_vanished_file_is_a_clear_error(client, library):
    folder = client.get("/api/dam/assets", params={"type": "collection"}).json()["items"][0]
    assert client.get(f"/api/dam/assets/{folder['id']}/file").status_code == 404
    asset = by_path(client, "notes/readme.txt")
    (library / "notes" / "readme.txt").unlink()
    gone = client.get(f"/api/dam/assets/{asset['id']}/file")
    assert gone.status_code == 503 and "missing" in gone.json()["detail"]


def test_upload_stores_in_the_uploaders_folder_and_registers_it(client, settings, tmp_path):
    photo = write_jpeg(tmp_path / "outside" / "upload me.jpg", seed=42)
    data = photo.read_bytes()
    response = client.post("/api/dam/upload", files={"file": ("upload me.jpg", data, "image/jpeg")})
    assert response.status_code == 201, response.text
    asset = response.json()
    folder = settings.resolved_upload_dir / "owner"  # the one local user's upload folder
    stored = folder / "upload me.jpg"
    assert stored.read_bytes() == data
    assert asset["asset_type"] == "image" and asset["mime_type"] == "image/jpeg"
    client.app.state.services.indexer.wait_idle(30)
    detail = client.get(f"/api/dam/assets/{asset['id']}").json()
    assert detail["hash"] == hashlib.sha256(data).hexdigest()
    assert detail["status"] == "ready"
    again = client.post(
        "/api/dam/upload", files={"file": ("upload me.jpg", b"other", "text/plain")}
    )
    assert again.status_code == 201
    assert stored.read_bytes() == data  # never overwritten
    assert (folder / "upload me (1).jpg").read_bytes() == b"other"


@pytest.mark.parametrize("name", ["../escape.jpg", "a/b.jpg", "..", ".hidden", "x\\y.jpg"])
def test_upload_names_that_would_escape_are_refused(client, settings, name, tmp_path):
    response = client.post("/api/dam/upload", files={"file": (name, b"data", "text/plain")})
    assert response.status_code in (400, 422)
    assert "detail" in response.json()
    assert not (tmp_path / "escape.jpg").exists()
    assert not (settings.resolved_upload_dir.parent / "escape.jpg").exists()


def test_status_reports_roots_and_counts(client, library):
    status = client.get("/api/dam/status").json()
    assert [r["path"] for r in status["roots"]] == [str(library.resolve())]
    assert status["roots"][0]["status"] == "online"
    assert status["by_status"]["ready"] >= 9
    assert status["steps"]["hash"]["ok"] == 9


def test_add_root_through_the_api_is_refused_unless_allowed_roots_are_set(client, tmp_path):
    (tmp_path / "photos").mkdir()
    response = client.post("/api/dam/roots", json={"path": str(tmp_path / "photos")})
    assert response.status_code == 403
    assert "TROVE_ALLOWED_ROOTS" in response.json()["detail"]
    assert len(client.get("/api/dam/roots").json()["items"]) == 1


def test_operations_never_touch_originals(client, library):
    before = fingerprint_tree(library)
    items = files(client)
    for item in items[:3]:
        client.patch(f"/api/dam/assets/{item['id']}", json={"title": "t", "tags": ["x"]})
    client.delete(f"/api/dam/assets/{items[3]['id']}")
    client.delete(f"/api/dam/assets/{items[4]['id']}", params={"hard": "true"})
    for item in items[5:]:
        client.get(f"/api/dam/assets/{item['id']}/file")
    client.post(f"/api/dam/roots/{items[0]['root_id']}/scan")
    client.app.state.services.indexer.wait_idle(30)
    assert fingerprint_tree(library) == before


def test_home_page_links_to_the_docs(client):
    page = client.get("/")  # the gallery; its header links to the API docs
    assert page.status_code == 200 and "<title>Photos · Trove</title>" in page.text
    assert '"/docs"' in page.text
    assert client.get("/openapi.json").json()["info"]["title"] == "Trove"
