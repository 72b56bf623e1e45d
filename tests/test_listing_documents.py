"""A listing of documents loads their metadata without their text (repositories/assets.py,
`_listing`): a page of 100 documents of 170 KB each read and decoded 17 MB for nothing
(PostgreSQL: 165 ms a page, 52 ms without it; SQLite: 58 ms, 42). What a listing shows from
the metadata (a heart, stars, a sidecar's title, an edit's previews) is still there; a detail
still has the whole text. So for an album's page of members."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import InvalidRequestError

from tests.media import make_library, write_text
from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.queries import AssetQuery
from trove.repositories.albums import AlbumRepository
from trove.repositories.assets import AssetRepository

BODY = "lighthouse keeper logbook " * 6000  # ~150 KB of text


@pytest.fixture
def library(tmp_path):
    root = make_library(tmp_path / "library")
    write_text(root / "docs" / "logbook.txt", BODY)
    return root


def test_a_listing_shows_a_documents_marks_without_loading_its_text(client, settings):
    listed = client.get("/api/dam/assets", params={"type": "document"}).json()["items"]
    logbook = next(item for item in listed if item["filename"] == "logbook.txt")
    answer = client.patch(f"/api/dam/assets/{logbook['id']}", json={"favorite": True, "rating": 4})
    assert answer.status_code == 200, answer.text

    listed = client.get("/api/dam/assets", params={"type": "document"}).json()["items"]
    shown = next(item for item in listed if item["id"] == logbook["id"])
    assert (shown["favorite"], shown["rating"]) == (True, 4)
    detail = client.get(f"/api/dam/assets/{logbook['id']}").json()
    assert detail["metadata"]["text"]["content"] == BODY.strip()
    assert detail["metadata"]["gallery"] == {"favorite": True, "rating": 4}

    # An album's page of members is a listing too.
    album = client.post("/api/dam/albums", json={"name": "Logs"}).json()
    client.post(f"/api/dam/albums/{album['id']}/assets", json={"asset_ids": [logbook["id"]]})
    (member,) = client.get(f"/api/dam/albums/{album['id']}/assets").json()["items"]
    assert (member["id"], member["favorite"], member["rating"]) == (logbook["id"], True, 4)

    database = Database(settings.resolved_database_url)
    try:
        with database.session() as session:
            repo = AssetRepository(session)
            query = AssetQuery(asset_types=("document",), limit=50)
            rows, _ = repo.list(query, viewer=Viewer.system())
            (row,) = [r for r in rows if r.id == logbook["id"]]
            text = row.summary_meta["text"]
            assert "content" not in text and text["chars"] == len(BODY.strip())
            assert row.summary_meta["gallery"] == {"favorite": True, "rating": 4}
            (again,) = repo.in_order([logbook["id"]])
            albums = AlbumRepository(session, viewer=Viewer.system())
            ((in_album, _position),) = albums.members(album["id"], limit=10)
            for listed_row in (row, again, in_album):
                assert "content" not in listed_row.summary_meta["text"]
                # Its full metadata is not loaded, and is not fetched row by row behind a
                # listing.
                with pytest.raises(InvalidRequestError):
                    _ = listed_row.meta
    finally:
        database.dispose()
