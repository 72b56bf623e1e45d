"""Favourites, ratings, the Trash and preferred copies through the real API, on SQLite and
PostgreSQL: what a person marks is stored in `metadata.gallery` and shows everywhere; what
they throw away can be restored or forgotten, and no file is ever touched."""

from __future__ import annotations

import io
import shutil

import pytest
from sqlalchemy import text

from tests.media import fingerprint_tree, make_library
from trove.db.engine import make_engine
from trove.services.user_data import UserDataService


@pytest.fixture
def library(tmp_path):
    library = make_library(tmp_path / "library", photos=3)
    backup = library / "backup/IMG_0000.jpg"
    backup.parent.mkdir()
    shutil.copy2(library / "2023/2023-01 trip/IMG_0000.jpg", backup)
    return library


def ids_by_path(client, **params) -> dict[str, str]:
    page = client.get("/api/dam/assets", params={"limit": 1000, **params})
    assert page.status_code == 200, page.text
    return {i["path"]: i["id"] for i in page.json()["items"] if i["asset_type"] != "collection"}


def search(client, q: str) -> set[str]:
    return set(ids_by_path(client, q=q))


def test_a_favourite_and_a_rating_persist_show_in_the_asset_json_and_are_searchable(
    client, settings
):
    ids = ids_by_path(client)
    photo, other = ids["2023/2023-02 trip/IMG_0001.jpg"], ids["2023/2023-03 trip/IMG_0002.jpg"]
    client.patch(f"/api/dam/assets/{photo}", json={"metadata": {"gallery": {"label": "red"}}})

    marked = client.patch(f"/api/dam/assets/{photo}", json={"favorite": True, "rating": 4})

    assert marked.status_code == 200, marked.text
    body = client.get(f"/api/dam/assets/{photo}").json()
    assert (body["favorite"], body["rating"]) == (True, 4)
    # One source of truth: the namespace export and import carry, its other keys kept.
    assert body["metadata"]["gallery"] == {"favorite": True, "rating": 4, "label": "red"}
    listed = {i["id"]: i for i in client.get("/api/dam/assets").json()["items"]}
    assert (listed[photo]["favorite"], listed[photo]["rating"]) == (True, 4)
    assert (listed[other]["favorite"], listed[other]["rating"]) == (False, 0)
    client.patch(f"/api/dam/assets/{other}", json={"rating": 2})
    assert search(client, "is:favorite") == {"2023/2023-02 trip/IMG_0001.jpg"}
    assert search(client, "rating:>=4") == {"2023/2023-02 trip/IMG_0001.jpg"}
    assert search(client, "rating:2") == {"2023/2023-03 trip/IMG_0002.jpg"}
    assert "2023/2023-03 trip/IMG_0002.jpg" not in search(client, "rating:<2")
    assert "graphics/logo.png" in search(client, "rating:<2")  # unrated counts as 0
    assert search(client, "-is:favorite rating:>0") == {"2023/2023-03 trip/IMG_0002.jpg"}

    for bad in ({"rating": 6}, {"rating": -1}, {"rating": "many"}, {"favorite": None}):
        refused = client.patch(f"/api/dam/assets/{photo}", json=bad)
        assert refused.status_code == 422, (bad, refused.text)
    assert client.get("/api/dam/assets", params={"q": "rating:>=9"}).status_code == 422

    cleared = client.patch(f"/api/dam/assets/{photo}", json={"favorite": False, "rating": 0})
    assert (cleared.json()["favorite"], cleared.json()["rating"]) == (False, 0)
    assert cleared.json()["metadata"]["gallery"] == {"label": "red"}
    assert search(client, "is:favorite") == set()
    assert _plan_uses(settings, "ix_assets_favorite")


def _plan_uses(settings, index: str) -> bool:
    """Whether the database answers `is:favorite` from its expression index (PostgreSQL told
    to avoid a scan: on a table this small it would rather read every row)."""
    from trove.repositories.search import gallery_mark

    engine = make_engine(settings.resolved_database_url)
    dialect = engine.dialect.name
    expression = gallery_mark("favorite", dialect=dialect)
    true_ = "'true'" if dialect == "postgresql" else "1"
    explain = "EXPLAIN" if dialect == "postgresql" else "EXPLAIN QUERY PLAN"
    try:
        with engine.connect() as connection:
            if dialect == "postgresql":
                connection.execute(text("SET enable_seqscan = off"))
            query = f"{explain} SELECT id FROM assets WHERE {expression} = {true_}"
            plan = connection.execute(text(query)).all()
        return any(index in str(row) for row in plan)
    finally:
        engine.dispose()


def test_the_trash_lists_restores_and_forgets_records_never_files(client, library, run_trove):
    before = fingerprint_tree(library)
    ids = ids_by_path(client)
    kept, gone = ids["2023/2023-02 trip/IMG_0001.jpg"], ids["graphics/logo.png"]
    album = client.post("/api/dam/albums", json={"name": "Trip"}).json()
    client.post(f"/api/dam/albums/{album['id']}/assets", json={"asset_ids": [kept, gone]})
    client.patch(f"/api/dam/assets/{kept}", json={"tags": ["keep"]})
    for asset_id in (kept, gone):
        assert client.delete(f"/api/dam/assets/{asset_id}").status_code == 204

    trash = client.get("/api/dam/trash").json()["items"]
    assert {i["id"] for i in trash} == {kept, gone} and all(i["deleted"] for i in trash)
    # Hidden everywhere else: the listing, search, albums, the timeline.
    assert kept not in ids_by_path(client).values()
    assert "2023/2023-02 trip/IMG_0001.jpg" not in search(client, "IMG_0001")
    members = client.get(f"/api/dam/albums/{album['id']}/assets").json()["items"]
    assert members == []
    months = client.get("/api/dam/timeline", params={"type": "image"}).json()["months"]
    assert sum(m["count"] for m in months) == len(ids_by_path(client, type="image"))

    restored = client.post("/api/dam/trash/restore", json={"ids": [kept, "no-such-id"]})
    assert restored.json() == {"restored": 1}
    back = client.get(f"/api/dam/assets/{kept}").json()
    assert back["tags"] == ["keep"] and not back["deleted"]
    members = client.get(f"/api/dam/albums/{album['id']}/assets").json()["items"]
    assert [m["id"] for m in members] == [kept]

    assert client.delete(f"/api/dam/trash/{kept}").status_code == 409  # not in the Trash
    assert client.delete(f"/api/dam/trash/{gone}").status_code == 204
    assert client.get(f"/api/dam/assets/{gone}").status_code == 404
    assert client.get("/api/dam/trash").json()["items"] == []
    assert fingerprint_tree(library) == before  # no file touched

    # The file is still in the library: the next scan indexes it again, as new.
    run_trove("scan", str(library))
    again = ids_by_path(client)["graphics/logo.png"]
    assert again != gone
    client.delete(f"/api/dam/assets/{again}")
    assert client.delete("/api/dam/trash").json() == {"forgotten": 1}
    assert fingerprint_tree(library) == before


def test_a_preferred_copy_stands_for_the_others_in_a_stacked_listing_and_is_exported(
    client, library, settings
):
    before = fingerprint_tree(library)
    ids = ids_by_path(client)
    copies = {ids["2023/2023-01 trip/IMG_0000.jpg"], ids["backup/IMG_0000.jpg"]}
    first = min(copies)  # none preferred: the first indexed stands for the stack
    (other,) = copies - {first}

    def stacked() -> dict[str, int]:
        page = client.get("/api/dam/assets", params={"stack": "true", "limit": 1000}).json()
        return {i["id"]: i["stack_count"] for i in page["items"]}

    assert stacked()[first] == 2 and other not in stacked()
    assert len(stacked()) == len(client.get("/api/dam/assets").json()["items"]) - 1
    months = client.get("/api/dam/timeline", params={"stack": "true", "type": "image"}).json()
    assert sum(m["count"] for m in months["months"]) == len(ids_by_path(client, type="image")) - 1

    content_hash = client.get(f"/api/dam/assets/{first}").json()["hash"]
    chosen = client.put(f"/api/dam/duplicates/{content_hash}/preferred", json={"asset_id": other})

    assert chosen.json() == {"hash": content_hash, "preferred_id": other}
    assert stacked()[other] == 2 and first not in stacked()
    members = client.get(f"/api/dam/assets/{first}/stack").json()["items"]
    assert [(m["id"], m["preferred"]) for m in members] == [(other, True), (first, False)]
    (group,) = client.get("/api/dam/duplicates").json()["items"]
    assert group["preferred_id"] == other
    wrong = client.put(f"/api/dam/duplicates/{'0' * 64}/preferred", json={"asset_id": other})
    assert wrong.status_code == 422
    assert fingerprint_tree(library) == before  # preferring deletes nothing

    # The choice is what people made: `trove export` carries it, `trove import` restores it.
    exported = io.StringIO()
    UserDataService.open(settings).export(exported)
    assert '"kind": "preferred_copy"' in exported.getvalue()
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM preferred_copies"))
    finally:
        engine.dispose()
    assert first in stacked()
    report = UserDataService.open(settings).import_lines(io.StringIO(exported.getvalue()))
    assert report.matched["preferred copy"] == 1 and report.unmatched == {}
    assert other in stacked() and first not in stacked()
