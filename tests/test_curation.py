"""Favourites, ratings, the Trash and preferred copies through the real API, on SQLite and
PostgreSQL: what a person marks is stored in `metadata.gallery` and shows everywhere; what
they throw away can be restored or forgotten, and no file is ever touched."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import text

from tests.media import make_library
from trove.db.engine import make_engine


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
    """Whether the database answers `is:favorite` from its expression index (SQLite; the
    PostgreSQL planner prefers a scan on a table this small)."""
    from trove.repositories.search import gallery_mark

    engine = make_engine(settings.resolved_database_url)
    try:
        if engine.dialect.name != "sqlite":
            return True
        expression = gallery_mark("favorite", dialect="sqlite")
        with engine.connect() as connection:
            plan = connection.execute(
                text(f"EXPLAIN QUERY PLAN SELECT id FROM assets WHERE {expression} = 1")
            ).all()
        return any(index in str(row) for row in plan)
    finally:
        engine.dispose()
