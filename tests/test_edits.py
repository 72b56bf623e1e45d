"""The non-destructive editor through the API, on SQLite and PostgreSQL: a saved edit list is
rendered into the cache as a `transformed_to` derivative that previews and downloads show,
every save is a new version with history, DELETE reverts, the original's bytes never change,
and a list that cannot be applied is refused naming its field."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from tests.media import fingerprint_tree, write_text

EDITS = [
    {"op": "crop", "box": [0.0, 0.0, 1.0, 0.5]},
    {"op": "rotate", "degrees": 90},
    {"op": "flip", "axis": "h"},
    {"op": "adjust", "exposure": 0.3, "contrast": 0.1, "saturation": -0.2},
]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A photo stored sideways (120x80, EXIF orientation 6: upright it is 80x120, its blue
    left third on top) and a note."""
    root = tmp_path / "library"
    root.mkdir()
    image = Image.new("RGB", (120, 80), (200, 120, 40))
    image.paste((20, 40, 220), (0, 0, 60, 80))
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(root / "sideways.jpg", "JPEG", quality=90, exif=exif)
    write_text(root / "note.txt", "not a picture\n")
    return root


def _asset(client, filename: str) -> dict:
    items = client.get("/api/dam/assets", params={"limit": 100}).json()["items"]
    (found,) = [i for i in items if i["filename"] == filename]
    return client.get(f"/api/dam/assets/{found['id']}").json()


def _picture(client, url: str) -> Image.Image:
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    image = Image.open(io.BytesIO(answer.content))
    image.load()
    return image


def test_saved_edits_render_into_the_cache_show_in_previews_and_downloads_and_delete_reverts(
    client, library, settings
):
    before = fingerprint_tree(library)
    photo = _asset(client, "sideways.jpg")
    original_bytes = client.get(f"/api/dam/assets/{photo['id']}/file").content
    assert hashlib.sha256(original_bytes).hexdigest() == photo["hash"]

    saved = client.put(f"/api/dam/assets/{photo['id']}/edits", json={"edits": EDITS})

    assert saved.status_code == 200, saved.text
    edited = saved.json()
    assert edited["version"] == photo["version"] + 1
    assert [e["op"] for e in edited["edits"]] == ["crop", "rotate", "flip", "adjust"]
    assert edited["edits"][1] == {"op": "rotate", "degrees": 90, "straighten": 0.0}
    assert edited["thumbnails"]["large"] != photo["thumbnails"]["large"]
    # upright 80x120, its top half 80x60 (blue), a quarter turn: 60x80
    assert _picture(client, edited["thumbnails"]["large"]).size == (60, 80)
    render = _picture(client, edited["edited"]["url"])
    assert (render.format, render.size) == ("JPEG", (60, 80))
    r, _g, b = render.convert("RGB").getpixel((30, 40))
    assert b > r  # the blue half was kept
    original_preview = _picture(client, edited["edited"]["original_thumbnails"]["large"])
    assert original_preview.size == (80, 120)
    assert client.get(f"/api/dam/assets/{photo['id']}/file").content == original_bytes
    assert client.get(edited["edited"]["original_url"]).content == original_bytes
    # the render is a derivative in the cache, linked from the original, not a web copy
    neighbours = client.get(f"/api/dam/assets/{photo['id']}/neighbours").json()["items"]
    assert [
        (n["relation"], n["direction"])
        for n in neighbours
        if n["node"]["id"] == edited["edited"]["id"]
    ] == [("transformed_to", "out")]
    assert edited["web_copy"] is None
    rendered = list(settings.resolved_cache_dir.rglob("edited.jpg"))
    assert len(rendered) == 1
    services = client.app.state.services
    services.integrity.collect_garbage(min_age_s=0)
    assert rendered[0].is_file()  # `trove gc` keeps the render an asset shows

    again = client.put(
        f"/api/dam/assets/{photo['id']}/edits",
        json={"edits": [{"op": "rotate", "degrees": -90, "straighten": 5}]},
    ).json()
    assert again["version"] == photo["version"] + 2
    assert _picture(client, again["edited"]["url"]).size[0] < 120  # straightened: cropped in

    reverted = client.delete(f"/api/dam/assets/{photo['id']}/edits")

    assert reverted.status_code == 200, reverted.text
    back = reverted.json()
    assert (back["version"], back["edits"], back["edited"]) == (photo["version"] + 3, [], None)
    assert back["thumbnails"] == photo["thumbnails"]
    assert client.get(f"/api/dam/assets/{photo['id']}/file?variant=edited").content == (
        original_bytes
    )
    history = client.get(f"/api/dam/assets/{photo['id']}/edits").json()
    assert [h["version"] for h in history["history"]] == [
        photo["version"] + 3,
        photo["version"] + 2,
        photo["version"] + 1,
    ]
    assert history["history"][0]["edits"] == [] and history["edits"] == []
    assert len(history["history"][2]["edits"]) == 4
    services.integrity.collect_garbage(min_age_s=0)
    assert list(settings.resolved_cache_dir.rglob("edited.*")) == []  # none is shown any more
    assert fingerprint_tree(library) == before


BAD_EDITS = [  # the list, and what the 422 names: the operation's place and its field
    ([{"op": "crop", "box": [0.6, 0, 0.5, 1]}], ("edits.0", "box")),
    ([{"op": "crop", "box": [0, 0, 1]}], ("edits.0", "box")),
    ([{"op": "rotate", "degrees": 45}], ("edits.0", "degrees")),
    ([{"op": "flip", "axis": "h"}, {"op": "flip", "axis": "d"}], ("edits.1", "axis")),
    ([{"op": "adjust", "exposure": 9}], ("edits.0", "exposure")),
    ([{"op": "adjust", "sharpen": 1}], ("edits.0", "sharpen")),
    ([{"op": "blur"}], ("edits.0", "op")),
    ([{"op": "flip", "axis": "h"}] * 33, ("edits", "at most 32")),
    ([{"op": "rotate", "straighten": 1}] * 3, ("edits", "36 times", "limit of 24")),
]


def test_a_preview_url_without_its_version_is_asked_again_and_one_with_it_is_kept(client):
    """The same unversioned URL shows the original before an edit and the edit after it: kept
    as immutable, a browser would show the original for a year. The asset's own URLs carry
    the version and change with the edit."""
    photo = _asset(client, "sideways.jpg")
    bare = f"/api/dam/assets/{photo['id']}/thumbnail/large"
    before = client.get(bare)
    assert before.headers["cache-control"] == "private, no-cache"
    assert client.get(photo["thumbnails"]["large"]).headers["cache-control"] == (
        "private, max-age=31536000, immutable"
    )

    edited = client.put(
        f"/api/dam/assets/{photo['id']}/edits",
        json={"edits": [{"op": "rotate", "degrees": 90, "straighten": 0}]},
    ).json()

    after = client.get(bare)
    assert after.headers["cache-control"] == "private, no-cache"
    assert Image.open(io.BytesIO(before.content)).size == (80, 120)
    assert Image.open(io.BytesIO(after.content)).size == (120, 80)
    assert edited["thumbnails"]["large"] != photo["thumbnails"]["large"]


def test_edits_that_cannot_be_applied_are_refused_with_422_naming_the_field_and_nothing_changes(
    client,
):
    photo = _asset(client, "sideways.jpg")
    for edits, named in BAD_EDITS:
        answer = client.put(f"/api/dam/assets/{photo['id']}/edits", json={"edits": edits})
        assert answer.status_code == 422, (edits, answer.text)
        assert all(part in answer.json()["detail"] for part in named), (edits, answer.json())
    assert client.get(f"/api/dam/assets/{photo['id']}").json()["version"] == photo["version"]
    assert client.get(f"/api/dam/assets/{photo['id']}/edits").json()["history"] == []


def test_a_changed_file_shows_its_edits_drawn_again_and_only_images_are_edited(client, library):
    photo = _asset(client, "sideways.jpg")
    saved = client.put(f"/api/dam/assets/{photo['id']}/edits", json={"edits": EDITS}).json()
    Image.new("RGB", (120, 80), (250, 250, 250)).save(library / "sideways.jpg", "JPEG")

    assert client.post(f"/api/dam/roots/{photo['root_id']}/scan").status_code < 300
    services = client.app.state.services
    assert services.indexer.wait_idle(60)
    services.edits.refresh_stale()  # as the indexer does after each pass (it may have already)

    redrawn = _asset(client, "sideways.jpg")
    assert redrawn["hash"] != photo["hash"]
    assert (redrawn["edits"], redrawn["version"]) == (saved["edits"], saved["version"])
    assert redrawn["edited"] is not None
    assert redrawn["thumbnails"]["large"] != saved["thumbnails"]["large"]
    r, g, b = _picture(client, redrawn["edited"]["url"]).convert("RGB").getpixel((30, 40))
    assert min(r, g, b) > 200  # the new, white picture: not the old blue one

    note = _asset(client, "note.txt")
    refused = client.put(
        f"/api/dam/assets/{note['id']}/edits", json={"edits": [{"op": "flip", "axis": "h"}]}
    )
    assert refused.status_code == 422
    assert "only images can be edited" in refused.json()["detail"]
    photo = _asset(client, "sideways.jpg")
    patched = client.patch(
        f"/api/dam/assets/{photo['id']}", json={"metadata": {"edit": {"edits": []}}}
    )
    assert patched.status_code == 422
    assert "PUT /api/dam/assets/{id}/edits" in patched.json()["detail"]
    assert client.get("/api/dam/assets/no-such-id/edits").status_code == 404
