"""Albums over the graph: order, nesting, cover, membership by asset id through renames and
moves (live and while stopped), the collage preview. Both databases, real files, real scans."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.media import make_library
from tests.test_watcher import eventually, fast, watch_status
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.services.albums import AlbumPatch
from trove.services.container import Services
from trove.services.errors import Conflict, Invalid, NotFound

SYSTEM = Viewer.system()


@pytest.fixture
def library(tmp_path) -> Path:
    return make_library(tmp_path / "library", photos=6)


@pytest.fixture
def services(settings, library) -> Iterator[Services]:
    """A scanned, fully processed library (previews made); no background threads."""
    services = Services.create(settings)
    services.library.scan_and_process([str(library)], wait=True)
    try:
        yield services
    finally:
        services.database.dispose()


def by_path(services: Services) -> dict[str, str]:
    page = services.library.list_assets(AssetFilters(limit=1000))
    return {item["path"]: item["id"] for item in page.items}


def photos(services: Services) -> list[str]:
    """The six photos' ids, in path order."""
    return [i for p, i in sorted(by_path(services).items()) if p.endswith(".jpg")]


def order(services: Services, album_id: str, *, page: int = 100) -> list[str]:
    ids, cursor = [], None
    while True:
        items, cursor = services.albums.members(album_id, limit=page, cursor=cursor, viewer=SYSTEM)
        ids += [item["id"] for item in items]
        if cursor is None:
            return ids


# --- order --------------------------------------------------------------------------------


def test_members_keep_the_order_they_were_put_in_and_can_be_placed_and_moved(services):
    a, b, c, d, e, _ = photos(services)
    album = services.albums.create("Holiday", description="Summer", viewer=SYSTEM)
    services.albums.add(album["id"], [a, b, c], viewer=SYSTEM)
    services.albums.add(album["id"], [d], position=1, viewer=SYSTEM)
    assert order(services, album["id"]) == [a, d, b, c]

    services.albums.add(album["id"], [c], position=0, viewer=SYSTEM)  # a drag to the front
    assert order(services, album["id"]) == [c, a, d, b]
    services.albums.add(album["id"], [c], position=3, viewer=SYSTEM)  # and to the back
    assert order(services, album["id"]) == [a, d, b, c]
    services.albums.add(
        album["id"], [e, a], viewer=SYSTEM
    )  # a member is not moved without a position
    assert order(services, album["id"]) == [a, d, b, c, e]
    services.albums.add(album["id"], [b, e], position=99, viewer=SYSTEM)  # past the end: the end
    assert order(services, album["id"]) == [a, d, c, b, e]
    assert order(services, album["id"], page=2) == [a, d, c, b, e]

    services.albums.remove(album["id"], [d], viewer=SYSTEM)
    services.albums.add(album["id"], [d], position=2, viewer=SYSTEM)
    assert order(services, album["id"]) == [a, c, d, b, e]
    assert services.albums.get(album["id"], viewer=SYSTEM)["count"] == 5


def test_an_asset_can_be_in_many_albums_each_with_its_own_order(services):
    a, b, c, *_ = photos(services)
    first = services.albums.create("First", viewer=SYSTEM)
    second = services.albums.create("Second", viewer=SYSTEM)
    services.albums.add(first["id"], [a, b, c], viewer=SYSTEM)
    services.albums.add(second["id"], [c, a], viewer=SYSTEM)
    assert order(services, first["id"]) == [a, b, c]
    assert order(services, second["id"]) == [c, a]
    services.albums.remove(first["id"], [a], viewer=SYSTEM)
    assert order(services, second["id"]) == [c, a]


def test_unknown_assets_and_albums_as_members_are_refused_and_nothing_is_added(services):
    a, *_ = photos(services)
    album = services.albums.create("Trip", viewer=SYSTEM)
    other = services.albums.create("Other", viewer=SYSTEM)
    with pytest.raises(NotFound):
        services.albums.add(album["id"], [a, "no-such-asset"], viewer=SYSTEM)
    with pytest.raises(Invalid):
        services.albums.add(album["id"], [other["id"]], viewer=SYSTEM)
    with pytest.raises(NotFound):
        services.albums.add("no-such-album", [a], viewer=SYSTEM)
    with pytest.raises(Invalid):
        services.albums.create("   ", viewer=SYSTEM)
    assert order(services, album["id"]) == []


# --- nesting ------------------------------------------------------------------------------


def test_albums_nest_and_an_album_cannot_go_inside_itself_or_its_descendants(services):
    top = services.albums.create("Trips", viewer=SYSTEM)
    year = services.albums.create("2023", parent_id=top["id"], viewer=SYSTEM)
    leaf = services.albums.create("Holiday", parent_id=year["id"], viewer=SYSTEM)
    assert leaf["parent_id"] == year["id"]

    for parent in (top["id"], year["id"], leaf["id"]):
        with pytest.raises(Conflict):
            services.albums.update(top["id"], AlbumPatch(parent_id=parent), viewer=SYSTEM)
    with pytest.raises(NotFound):
        services.albums.update(top["id"], AlbumPatch(parent_id="no-such-album"), viewer=SYSTEM)

    tree = services.albums.tree(viewer=SYSTEM)
    assert [n["name"] for n in tree] == ["Trips"]
    assert [n["name"] for n in tree[0]["children"]] == ["2023"]
    assert [n["name"] for n in tree[0]["children"][0]["children"]] == ["Holiday"]

    moved = services.albums.update(
        leaf["id"], AlbumPatch(parent_id=None, name="Beach"), viewer=SYSTEM
    )
    assert moved["parent_id"] is None and moved["name"] == "Beach"
    assert sorted(n["name"] for n in services.albums.tree(viewer=SYSTEM)) == ["Beach", "Trips"]
    services.albums.update(
        top["id"], AlbumPatch(parent_id=leaf["id"]), viewer=SYSTEM
    )  # no cycle now
    assert [n["name"] for n in services.albums.tree(viewer=SYSTEM)] == ["Beach"]


def test_deleting_an_album_keeps_its_members_and_moves_its_sub_albums_up(services):
    a, b, *_ = photos(services)
    top = services.albums.create("Trips", viewer=SYSTEM)
    middle = services.albums.create("2023", parent_id=top["id"], viewer=SYSTEM)
    child = services.albums.create("Holiday", parent_id=middle["id"], viewer=SYSTEM)
    services.albums.add(middle["id"], [a, b], viewer=SYSTEM)
    services.albums.add(child["id"], [a], viewer=SYSTEM)

    services.albums.delete(middle["id"], viewer=SYSTEM)

    with pytest.raises(NotFound):
        services.albums.get(middle["id"], viewer=SYSTEM)
    assert services.assets.get(a, viewer=SYSTEM)["status"] == "ready"
    assert services.assets.get(b, viewer=SYSTEM)["deleted"] is False
    assert services.albums.get(child["id"], viewer=SYSTEM)["parent_id"] == top["id"]
    assert order(services, child["id"]) == [a]
    assert "includes" not in services.links.get_neighbors(b, viewer=SYSTEM)["counts"]


# --- cover --------------------------------------------------------------------------------


def test_the_cover_is_the_first_member_until_one_is_chosen_and_falls_back_when_removed(services):
    a, b, c, *_ = photos(services)
    album = services.albums.create("Holiday", viewer=SYSTEM)
    assert services.albums.get(album["id"], viewer=SYSTEM)["cover_id"] is None
    services.albums.add(album["id"], [a, b, c], viewer=SYSTEM)
    assert services.albums.get(album["id"], viewer=SYSTEM)["cover_id"] == a

    chosen = services.albums.update(album["id"], AlbumPatch(cover_id=c), viewer=SYSTEM)
    assert chosen["cover_id"] == c and chosen["cover_chosen"] is True
    services.albums.add(album["id"], [b], position=0, viewer=SYSTEM)
    assert services.albums.get(album["id"], viewer=SYSTEM)["cover_id"] == c

    services.albums.remove(album["id"], [c], viewer=SYSTEM)
    after = services.albums.get(album["id"], viewer=SYSTEM)
    assert after["cover_id"] == b and after["cover_chosen"] is False
    (in_tree,) = services.albums.tree(viewer=SYSTEM)
    assert in_tree["cover_id"] == b
    with pytest.raises(Invalid):
        services.albums.update(album["id"], AlbumPatch(cover_id=c), viewer=SYSTEM)  # not a member


# --- membership by id: renames and moves ----------------------------------------------------


@pytest.mark.slow
def test_membership_survives_renames_and_moves_made_while_trove_was_stopped(
    settings, library, run_trove
):
    run_trove("scan", str(library))
    services = Services.create(settings)
    try:
        before = by_path(services)
        renamed = before["2023/2023-01 trip/IMG_0000.jpg"]
        moved = before["2023/2023-02 trip/IMG_0001.jpg"]
        album = services.albums.create("Keepers", viewer=SYSTEM)
        services.albums.add(album["id"], [moved, renamed], viewer=SYSTEM)
    finally:
        services.database.dispose()

    (library / "2023/2023-01 trip/IMG_0000.jpg").rename(library / "2023/2023-01 trip/best.jpg")
    (library / "elsewhere").mkdir()
    (library / "2023/2023-02 trip/IMG_0001.jpg").rename(library / "elsewhere/IMG_0001.jpg")
    (library / "2023/2023-03 trip").rename(library / "2023/March")
    run_trove("scan", str(library))

    services = Services.create(settings)
    try:
        after = by_path(services)
        assert after["2023/2023-01 trip/best.jpg"] == renamed
        assert after["elsewhere/IMG_0001.jpg"] == moved
        items, _ = services.albums.members(album["id"], viewer=SYSTEM)
        assert [(i["id"], i["path"]) for i in items] == [
            (moved, "elsewhere/IMG_0001.jpg"),
            (renamed, "2023/2023-01 trip/best.jpg"),
        ]
    finally:
        services.database.dispose()


@pytest.mark.slow
# It failed now and then on a loaded machine (the first rename never applied): two watcher
# batches dispatched in the same millisecond had the same job label, and the indexer kept only
# the second (test_watcher.py's `..._within_a_millisecond_are_both_applied`).
def test_membership_survives_renames_and_moves_seen_live_by_the_watcher(settings, library):
    services = Services.create(fast(settings))
    services.indexer.start()
    services.library.scan_and_process([str(library)], wait=True)
    services.start_sync()
    try:
        eventually(lambda: watch_status(services, library).startswith("watching"))
        assert services.indexer.wait_idle(30)
        before = by_path(services)
        renamed = before["2023/2023-01 trip/IMG_0000.jpg"]
        moved = before["2023/2023-02 trip/IMG_0001.jpg"]
        album = services.albums.create("Live", viewer=SYSTEM)
        services.albums.add(album["id"], [renamed, moved], viewer=SYSTEM)

        (library / "2023/2023-01 trip/IMG_0000.jpg").rename(library / "2023/2023-01 trip/a.jpg")
        (library / "2023/2023-02 trip/IMG_0001.jpg").rename(library / "graphics/IMG_0001.jpg")

        def members_at_new_paths() -> bool:
            items, _ = services.albums.members(album["id"], viewer=SYSTEM)
            assert [(i["id"], i["path"], i["status"]) for i in items] == [
                (renamed, "2023/2023-01 trip/a.jpg", "ready"),
                (moved, "graphics/IMG_0001.jpg", "ready"),
            ], (items, watch_status(services, library), _what_the_watcher_did(services))
            return True

        # The watcher's debounce, then a path sync and the pipeline of the moved files: under
        # a loaded CI machine (PostgreSQL, the suite on both cores) this took over 15 s once.
        eventually(members_at_new_paths, timeout=45.0, what="album members at their new paths")
    finally:
        services.close()


def _what_the_watcher_did(services: Services) -> dict[str, Any]:
    stats = services.watcher.stats
    return {"events": stats.events, "dispatched": [(kind, what) for _t, kind, what in stats.recent]}


# --- the collage --------------------------------------------------------------------------


def album_preview(services: Services, album_id: str) -> tuple[str, bytes]:
    album = services.albums.get(album_id, viewer=SYSTEM)
    assert set(album["thumbnails"]) == {"small", "medium", "large"}
    path = services.media.thumbnail(album_id, "medium", viewer=SYSTEM)
    return album["hash"], path.read_bytes()


def process(services: Services) -> None:
    services.library.pipeline().run_pending()


@pytest.mark.slow
def test_an_album_gets_a_collage_of_its_first_four_members_redrawn_when_they_change(
    services, library
):
    a, b, c, d, e, f = photos(services)
    album = services.albums.create("Collage", viewer=SYSTEM)
    assert album["thumbnails"] == {}
    services.albums.add(album["id"], [a, b, c, d, e], viewer=SYSTEM)
    process(services)
    first_hash, first = album_preview(services, album["id"])
    with Image.open(io.BytesIO(first)) as image:
        assert image.size == (800, 800)
    assert services.albums.get(album["id"], viewer=SYSTEM)["status"] == "ready"

    services.albums.add(
        album["id"], [f], viewer=SYSTEM
    )  # the fifth and sixth do not show: nothing to redraw
    process(services)
    assert album_preview(services, album["id"])[0] == first_hash

    services.albums.add(album["id"], [f], position=0, viewer=SYSTEM)
    process(services)
    moved_hash, moved = album_preview(services, album["id"])
    assert moved_hash != first_hash and moved != first

    services.albums.update(album["id"], AlbumPatch(cover_id=e), viewer=SYSTEM)
    process(services)
    cover_hash, _ = album_preview(services, album["id"])
    assert cover_hash not in (first_hash, moved_hash)

    services.albums.remove(album["id"], [a, b, c, d, e, f], viewer=SYSTEM)
    process(services)
    emptied = services.albums.get(album["id"], viewer=SYSTEM)
    assert emptied["thumbnails"] == {} and emptied["hash"] is None


@pytest.mark.slow
def test_the_collage_shows_each_member_in_its_own_quadrant(services, tmp_path):
    colours = [(220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 220, 20)]
    solid = tmp_path / "solid"
    solid.mkdir()
    for i, colour in enumerate(colours):
        Image.new("RGB", (120, 90), colour).save(solid / f"{i}.png")
    services.library.scan_and_process([str(solid)], wait=True)
    ids = [by_path(services)[f"{i}.png"] for i in range(4)]
    album = services.albums.create("Colours", viewer=SYSTEM)
    services.albums.add(album["id"], ids, viewer=SYSTEM)
    process(services)

    _, data = album_preview(services, album["id"])
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
    w, h = rgb.size
    quarters = [
        (w // 4, h // 4),
        (3 * w // 4, h // 4),
        (w // 4, 3 * h // 4),
        (3 * w // 4, 3 * h // 4),
    ]
    for (x, y), colour in zip(quarters, colours, strict=True):
        pixel = rgb.getpixel((x, y))
        assert all(abs(p - q) < 40 for p, q in zip(pixel, colour, strict=True)), (pixel, colour)


# --- the API ------------------------------------------------------------------------------


def api_photos(client) -> list[str]:
    items = client.get("/api/dam/assets", params={"type": "image", "limit": 100}).json()["items"]
    return [i["id"] for i in sorted(items, key=lambda i: i["path"]) if i["path"].endswith(".jpg")]


def test_the_album_api_creates_nests_orders_pages_and_deletes_without_touching_members(client):
    a, b, c, *_ = api_photos(client)
    created = client.post("/api/dam/albums", json={"name": "Trips", "description": "All"})
    assert created.status_code == 201
    top = created.json()
    assert top["asset_type"] == "collection" and top["name"] == "Trips" and top["count"] == 0
    child = client.post("/api/dam/albums", json={"name": "Holiday", "parent_id": top["id"]}).json()

    added = client.post(f"/api/dam/albums/{child['id']}/assets", json={"asset_ids": [a, b]})
    assert added.status_code == 200 and added.json()["added"] == 2
    client.post(f"/api/dam/albums/{child['id']}/assets", json={"asset_ids": [c], "position": 0})
    first = client.get(f"/api/dam/albums/{child['id']}/assets", params={"limit": 2}).json()
    rest = client.get(
        f"/api/dam/albums/{child['id']}/assets", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [i["id"] for i in first["items"] + rest["items"]] == [c, a, b]
    assert rest["next_cursor"] is None

    tree = client.get("/api/dam/albums").json()["items"]
    assert [(n["name"], [k["name"] for k in n["children"]]) for n in tree] == [
        ("Trips", ["Holiday"])
    ]
    assert tree[0]["children"][0]["count"] == 3

    cycle = client.patch(f"/api/dam/albums/{top['id']}", json={"parent_id": child["id"]})
    assert cycle.status_code == 409 and "inside" in cycle.json()["detail"]
    renamed = client.patch(
        f"/api/dam/albums/{child['id']}", json={"name": "Beach", "cover_id": b}
    ).json()
    assert (renamed["name"], renamed["cover_id"]) == ("Beach", b)

    removed = client.request(
        "DELETE", f"/api/dam/albums/{child['id']}/assets", json={"asset_ids": [a]}
    )
    assert removed.status_code == 200 and removed.json()["removed"] == 1
    assert client.delete(f"/api/dam/albums/{child['id']}").status_code == 204
    assert client.get(f"/api/dam/albums/{child['id']}").status_code == 404
    for asset_id in (a, b, c):
        assert client.get(f"/api/dam/assets/{asset_id}").json()["deleted"] is False


def test_bad_album_requests_get_a_clear_error(client):
    a, *_ = api_photos(client)
    album = client.post("/api/dam/albums", json={"name": "Errors"}).json()
    cases = [
        ("POST", "/api/dam/albums", {"name": ""}, 422),
        ("POST", "/api/dam/albums", {"name": "x", "parent_id": "nope"}, 404),
        ("POST", "/api/dam/albums", {"name": "x", "colour": "red"}, 422),
        ("GET", "/api/dam/albums/nope", None, 404),
        ("PATCH", f"/api/dam/albums/{album['id']}", {"parent_id": album["id"]}, 409),
        ("PATCH", f"/api/dam/albums/{album['id']}", {"cover_id": a}, 422),
        ("POST", f"/api/dam/albums/{album['id']}/assets", {"asset_ids": []}, 422),
        ("POST", f"/api/dam/albums/{album['id']}/assets", {"asset_ids": ["nope"]}, 404),
        ("POST", f"/api/dam/albums/{album['id']}/assets", {"asset_ids": [a], "position": -1}, 422),
        ("POST", f"/api/dam/albums/{album['id']}/assets", {"asset_ids": [album["id"]]}, 422),
        ("GET", f"/api/dam/albums/{album['id']}/assets?cursor=garbage", None, 422),
        ("GET", f"/api/dam/albums/{album['id']}/assets?limit=0", None, 422),
    ]
    for method, url, body, status in cases:
        response = client.request(method, url, json=body)
        assert response.status_code == status, (method, url, body, response.text)
        assert isinstance(response.json()["detail"], str)


@pytest.mark.slow
def test_trove_albums_prints_the_tree(settings, run_trove):
    services = Services.create(settings)
    try:
        top = services.albums.create("Trips", viewer=SYSTEM)
        services.albums.create("2023", parent_id=top["id"], viewer=SYSTEM)
        services.albums.create("Portraits", viewer=SYSTEM)
    finally:
        services.database.dispose()
    out = run_trove("albums").stdout
    lines = [line.split("  (")[0] for line in out.splitlines()]
    assert lines == ["├── Portraits", "└── Trips", "    └── 2023"]
    tree = json.loads(run_trove("albums", "--json").stdout)["items"]
    assert [n["name"] for n in tree] == ["Portraits", "Trips"]
    assert tree[1]["children"][0]["name"] == "2023"


def test_a_new_album_from_a_selection_holds_it_in_order_or_is_not_made_at_all(services):
    a, b, c, *_ = photos(services)
    album = services.albums.create("Picked", asset_ids=[c, a, b, a], viewer=SYSTEM)
    assert order(services, album["id"]) == [c, a, b] and album["count"] == 3
    with pytest.raises(NotFound):
        services.albums.create("Broken", asset_ids=[a, "no-such-asset"], viewer=SYSTEM)
    assert [n["name"] for n in services.albums.tree(viewer=SYSTEM)] == ["Picked"]


def test_an_album_made_before_its_photos_have_previews_gets_its_collage_once_they_do(
    settings, library
):
    services = Services.create(settings)
    try:
        services.library.scan_and_process([str(library)], wait=False)  # registered, no previews
        ids = photos(services)
        album = services.albums.create("Too early", asset_ids=ids[:3], viewer=SYSTEM)
        assert services.albums.get(album["id"], viewer=SYSTEM)["thumbnails"] == {}

        services.indexer.start()
        services.indexer.request_processing()  # the previews are made; then the collage

        def collage_made() -> bool:
            return bool(services.albums.get(album["id"], viewer=SYSTEM)["thumbnails"])

        eventually(collage_made, timeout=60, what="the album's collage")
        assert services.indexer.wait_idle(60)
        _, data = album_preview(services, album["id"])
        assert data
    finally:
        services.close()


def test_a_tag_on_an_album_is_inherited_by_its_members_and_leaves_with_them(services):
    from trove.services.assets import AssetPatch

    a, b, c, *_ = photos(services)
    album = services.albums.create("Tagged", asset_ids=[a, b], viewer=SYSTEM)
    services.assets.update(album["id"], AssetPatch(tags=["summer"]), viewer=SYSTEM)
    services.albums.add(album["id"], [c], viewer=SYSTEM)

    def inheriting() -> set[str]:
        return {
            asset_id
            for asset_id in (a, b, c)
            if [
                s["id"]
                for s in services.assets.get(asset_id, viewer=SYSTEM)["inherited_tags"].get(
                    "summer", []
                )
            ]
            == [album["id"]]
        }

    assert inheriting() == {a, b, c}
    services.albums.remove(album["id"], [b], viewer=SYSTEM)
    assert inheriting() == {a, c}


def test_many_drags_to_the_same_place_keep_the_order_a_list_would_have(services):
    """A drag takes a position between its neighbours': repeated drags into one gap halve it
    until the members behind must move back. The album's order stays a list's order."""
    import random

    ids = photos(services)
    album = services.albums.create("Shuffled", asset_ids=ids, viewer=SYSTEM)
    expected = list(ids)
    rng = random.Random(7)
    for step in range(120):
        moved = rng.choice(ids)
        index = 1 if step % 3 else rng.randrange(len(ids) + 1)  # mostly the same gap
        services.albums.add(album["id"], [moved], position=index, viewer=SYSTEM)
        expected.remove(moved)
        expected.insert(min(index, len(expected)), moved)
        assert order(services, album["id"]) == expected, step


def test_an_albums_own_metadata_cannot_be_patched_so_it_always_answers(client):
    a, *_ = api_photos(client)
    album = client.post("/api/dam/albums", json={"name": "Kept"}).json()["id"]
    client.post(f"/api/dam/albums/{album}/assets", json={"asset_ids": [a]})
    for state in ({"cover_id": 123}, {"cover_id": {"x": 1}}, {"preview_sources": 5}):
        refused = client.patch(f"/api/dam/assets/{album}", json={"metadata": {"album": state}})
        assert refused.status_code == 422, refused.text
        assert "Trove's own" in refused.json()["detail"]
    assert client.get(f"/api/dam/albums/{album}").json()["cover_id"] == a
    assert client.get("/api/dam/albums").status_code == 200
    notes = client.patch(f"/api/dam/assets/{album}", json={"metadata": {"notes": {"k": 1}}})
    assert notes.status_code == 200, notes.text  # other namespaces stay the user's


def test_a_member_linked_without_a_position_through_the_graph_is_listed_and_can_be_moved(
    services,
):
    a, b, c, *_ = photos(services)
    album = services.albums.create("Mixed", asset_ids=[a, b], viewer=SYSTEM)  # positions 0 and 1
    services.links.link(
        album["id"], c, "includes", viewer=SYSTEM
    )  # no position: as POST /api/dam/links
    expected = [a, c, b] if a < c else [c, a, b]  # counted as position 0, ties by id
    assert order(services, album["id"]) == expected
    assert order(services, album["id"], page=1) == expected
    services.albums.add(album["id"], [c], position=2, viewer=SYSTEM)
    assert order(services, album["id"]) == [a, b, c]


def test_a_chosen_cover_that_is_deleted_gives_way_to_the_first_member_and_returns_restored(
    client,
):
    a, b, c, *_ = api_photos(client)
    album = client.post("/api/dam/albums", json={"name": "Covers"}).json()["id"]
    client.post(f"/api/dam/albums/{album}/assets", json={"asset_ids": [a, b, c]})

    def cover() -> tuple[str, bool]:
        shown = client.get(f"/api/dam/albums/{album}").json()
        (in_tree,) = [n for n in client.get("/api/dam/albums").json()["items"] if n["id"] == album]
        assert (in_tree["cover_id"], in_tree["cover_chosen"]) == (
            shown["cover_id"],
            shown["cover_chosen"],
        )
        return shown["cover_id"], shown["cover_chosen"]

    client.patch(f"/api/dam/albums/{album}", json={"cover_id": b})
    assert cover() == (b, True)
    assert client.delete(f"/api/dam/assets/{b}").status_code == 204  # soft
    assert cover() == (a, False)
    client.post(f"/api/dam/assets/{b}/restore")
    assert cover() == (b, True)
    assert client.delete(f"/api/dam/assets/{b}", params={"hard": "true"}).status_code == 204
    assert cover() == (a, False)
