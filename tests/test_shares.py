"""Share links: a token reaches exactly its asset, or its album and what the album includes,
through four read-only routes, and nothing else (the Immich advisory GHSA-hvq7-hq9r-8gjr is
what goes wrong otherwise: a share's holder walking to other assets by id, thumbnail or
neighbour). Both databases, the real app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from tests.media import write_jpeg
from trove.db.models import Share
from trove.domain.access import ShareScope, Viewer
from trove.domain.filters import AssetFilters
from trove.services.errors import NotFound


@pytest.fixture
def library(tmp_path):
    for i in range(4):
        write_jpeg(tmp_path / "library" / f"photo_{i}.jpg", seed=i)
    return tmp_path / "library"


def ids(client) -> dict[str, str]:
    page = client.get("/api/dam/assets", params={"type": "image", "limit": 100}).json()
    return {item["filename"]: item["id"] for item in page["items"]}


def share(client, **body) -> dict:
    made = client.post("/api/dam/shares", json=body)
    assert made.status_code == 201, made.text
    return made.json()


def test_an_asset_share_reaches_that_asset_and_no_other_by_id_thumbnail_or_file(client):
    photos = ids(client)
    mine, other = photos["photo_0.jpg"], photos["photo_1.jpg"]
    link = share(client, asset_id=mine)
    assert link["url"] == f"/s/{link['token']}" and len(link["token"]) >= 40
    base = f"/api/dam/shared/{link['token']}"

    listed = client.get(f"{base}/assets").json()
    assert [item["id"] for item in listed["items"]] == [mine]
    assert "path" not in listed["items"][0] and "root_id" not in listed["items"][0]
    small = listed["items"][0]["thumbnails"]["small"]
    assert small.startswith(f"{base}/assets/{mine}/thumbnail/small")
    preview = client.get(small)
    assert preview.status_code == 200
    # Not kept by a shared cache, which would go on serving it once the share is revoked.
    assert preview.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert client.get(f"{base}/assets/{mine}").json()["id"] == mine
    assert client.get(f"{base}/assets/{mine}/file").status_code == 403  # downloads not allowed
    for guessed in (
        f"{base}/assets/{other}",
        f"{base}/assets/{other}/thumbnail/small",
        f"{base}/assets/{other}/file",
    ):
        assert client.get(guessed).status_code == 404, guessed
    for elsewhere in ("/neighbours", "/graph", "/search?q=photo", "/../assets"):
        assert client.get(f"{base}{elsewhere}").status_code == 404, elsewhere


def test_an_album_share_holds_its_members_and_downloads_when_allowed(client, library):
    photos = ids(client)
    album = client.post("/api/dam/albums", json={"name": "Holiday"}).json()
    members = [photos["photo_2.jpg"], photos["photo_3.jpg"]]
    client.post(f"/api/dam/albums/{album['id']}/assets", json={"asset_ids": members})
    link = share(client, album_id=album["id"], allow_download=True)
    base = f"/api/dam/shared/{link['token']}"
    assert {item["id"] for item in client.get(f"{base}/assets").json()["items"]} == set(members)
    got = client.get(f"{base}/assets/{members[0]}/file")
    assert got.status_code == 200
    assert got.content == (library / "photo_2.jpg").read_bytes()
    assert client.get(f"{base}/assets/{photos['photo_0.jpg']}").status_code == 404


def test_the_holder_s_viewer_sees_nothing_beside_the_share_through_any_service(client):
    """Neighbours, paths, impact, search and listing answer the share's scope: the same
    predicate every repository uses, so the graph cannot lead out of it."""
    photos = ids(client)
    mine, other = photos["photo_0.jpg"], photos["photo_1.jpg"]
    services = client.app.state.services
    admin = Viewer.system()
    services.links.link(mine, other, "related_to", viewer=admin)
    person = services.links.create_entity("Person", "Ada")
    services.links.link(mine, person["id"], "depicts", viewer=admin)
    link = share(client, asset_id=mine)
    holder = services.shares.holder(link["token"])
    assert holder == Viewer.share_holder(
        ShareScope(
            share_id=link["id"], asset_id=mine, is_album=False, allow_download=False, owner_id=None
        )
    )
    around = services.links.get_neighbors(mine, depth=3, viewer=holder)
    assert around["items"] == [] and around["counts"] == {}
    assert services.links.impact_analysis(mine, viewer=holder)["items"] == []
    with pytest.raises(NotFound):
        services.links.shortest_path(mine, other, viewer=holder)
    listing = services.assets.list(AssetFilters(q="photo", limit=100), viewer=holder)
    assert [item["id"] for item in listing.items] == [mine]
    assert services.assets.tag_counts(viewer=holder) == []
    assert services.albums.tree(viewer=holder) == []
    assert services.library.status(viewer=holder)["roots"] == []


def test_a_password_protected_share_opens_with_its_key_as_cookie_or_header(client):
    mine = ids(client)["photo_0.jpg"]
    link = share(client, asset_id=mine, password="open sesame")
    assert link["has_password"] is True and "password" not in link
    base = f"/api/dam/shared/{link['token']}"
    assert client.get(f"{base}/assets").status_code == 401
    assert client.post(f"{base}/unlock", json={"password": "wrong"}).status_code == 401
    unlocked = client.post(f"{base}/unlock", json={"password": "open sesame"})
    assert unlocked.status_code == 200
    key = unlocked.json()["key"]
    assert client.get(f"{base}/assets").status_code == 200  # the cookie it set
    client.cookies.clear()
    assert client.get(f"{base}/assets").status_code == 401
    assert client.get(f"{base}/assets", headers={"X-Trove-Share-Key": key}).status_code == 200
    assert client.get(f"{base}/assets", headers={"X-Trove-Share-Key": "0" * 64}).status_code == 401


def test_revoked_and_expired_shares_are_gone_and_unknown_tokens_not_found(client):
    photos = ids(client)
    revoked = share(client, asset_id=photos["photo_0.jpg"])
    expiring = share(
        client,
        asset_id=photos["photo_1.jpg"],
        expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    )
    assert client.delete(f"/api/dam/shares/{revoked['id']}").status_code == 204
    services = client.app.state.services
    with services.database.session() as session:
        session.execute(
            update(Share).where(Share.id == expiring["id"]).values(expires_at=datetime(2000, 1, 1))
        )
    for link in (revoked, expiring):
        answer = client.get(f"/api/dam/shared/{link['token']}/assets")
        assert answer.status_code == 410 and answer.json()["detail"]
    assert client.get(f"/api/dam/shared/{'x' * 43}/assets").status_code == 404
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    refused = client.post(
        "/api/dam/shares", json={"asset_id": photos["photo_2.jpg"], "expires_at": past}
    )
    assert refused.status_code == 422


def test_my_shares_list_their_view_counts(client):
    mine = ids(client)["photo_0.jpg"]
    link = share(client, asset_id=mine)
    for _ in range(3):
        client.get(f"/api/dam/shared/{link['token']}/assets")
    client.get(f"/api/dam/shared/{link['token']}/assets/{mine}")  # not an opening
    (listed,) = client.get("/api/dam/shares").json()["items"]
    assert listed["id"] == link["id"] and listed["view_count"] == 3
    assert listed["kind"] == "asset" and listed["name"] == "photo_0.jpg"


def test_a_share_page_left_open_loads_nothing_more_once_the_share_is_revoked(client):
    from trove.services.errors import Gone

    link = share(client, asset_id=ids(client)["photo_0.jpg"])
    services = client.app.state.services
    holder = services.shares.holder(link["token"])  # what the open page keeps
    assert len(services.shares.assets(link["token"], viewer=holder)["items"]) == 1
    assert client.delete(f"/api/dam/shares/{link['id']}").status_code == 204
    with pytest.raises(Gone):
        services.shares.assets(link["token"], viewer=holder, cursor=None)
    other = share(client, asset_id=ids(client)["photo_1.jpg"])
    with pytest.raises(NotFound):  # another live token does not lend its name to this holder
        services.shares.assets(other["token"], viewer=holder)


def test_guessing_a_share_password_is_stopped_after_five_wrong_ones(client):
    link = share(client, asset_id=ids(client)["photo_0.jpg"], password="open sesame")
    unlock = f"/api/dam/shared/{link['token']}/unlock"
    for guess in range(5):
        assert client.post(unlock, json={"password": f"guess {guess}"}).status_code == 401
    locked = client.post(unlock, json={"password": "open sesame"})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    other = share(client, asset_id=ids(client)["photo_1.jpg"], password="open sesame")
    opened = client.post(
        f"/api/dam/shared/{other['token']}/unlock", json={"password": "open sesame"}
    )
    assert opened.status_code == 200  # another share is not locked by this one's guesses
