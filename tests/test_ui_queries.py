"""What the gallery asks of the API beyond plain listing: search, date range, tags in use,
bulk tag and delete, per-root counts, graph neighbours. SQLite and PostgreSQL."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from tests.media import write_jpeg, write_text
from trove.domain.access import Viewer

SYSTEM = Viewer.system()


def _at(path, when: datetime):
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "library"
    _at(write_jpeg(root / "trip/Beach_100%.jpg", seed=1), datetime(2024, 5, 3, 12))
    _at(write_jpeg(root / "trip/beach_day.jpg", seed=2), datetime(2024, 5, 31, 23))
    _at(write_jpeg(root / "trip/mountain.jpg", seed=3), datetime(2024, 6, 1, 0, 30))
    _at(write_text(root / "notes/list.txt", "x"), datetime(2023, 1, 1))
    return root


def names(client, **params):
    response = client.get("/api/dam/assets", params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    return sorted(
        i["filename"] for i in response.json()["items"] if i["asset_type"] != "collection"
    )


def ids(client, *filenames):
    items = client.get("/api/dam/assets", params={"limit": 1000}).json()["items"]
    by_name = {i["filename"]: i["id"] for i in items}
    return [by_name[n] for n in filenames]


def test_search_matches_name_or_title_case_insensitively_with_literal_wildcards(client):
    assert names(client, q="BEACH") == ["Beach_100%.jpg", "beach_day.jpg"]
    assert names(client, q="100%") == ["Beach_100%.jpg"]
    assert names(client, q="h_d") == ["beach_day.jpg"]  # `_` is a character, not "any"
    assert names(client, q="%") == ["Beach_100%.jpg"]
    (mountain,) = ids(client, "mountain.jpg")
    client.patch(f"/api/dam/assets/{mountain}", json={"title": "Summit at dawn"})
    assert names(client, q="summit") == ["mountain.jpg"]


def test_date_range_is_inclusive_of_whole_days(client):
    assert names(client, since="2024-05-01", until="2024-05-31") == [
        "Beach_100%.jpg",
        "beach_day.jpg",
    ]
    assert names(client, since="2024-06-01") == ["mountain.jpg"]
    assert names(client, until="2023-12-31") == ["list.txt"]
    assert names(client, since="2024-05-31T23:30:00Z") == ["mountain.jpg"]
    bad = client.get("/api/dam/assets", params={"since": "yesterday"})
    assert bad.status_code == 422 and "ISO date" in bad.json()["detail"]


def test_bulk_tag_and_delete_and_the_tags_in_use(client):
    beach, day, mountain = ids(client, "Beach_100%.jpg", "beach_day.jpg", "mountain.jpg")
    client.patch(f"/api/dam/assets/{beach}", json={"tags": ["sea"]})
    response = client.post(
        "/api/dam/assets/bulk/tags", json={"ids": [beach, day, "nope"], "tags": [" Summer ", "sea"]}
    )
    assert response.status_code == 200 and response.json() == {"updated": 2}
    assert client.get(f"/api/dam/assets/{beach}").json()["tags"] == ["Summer", "sea"]
    assert names(client, tag="Summer") == ["Beach_100%.jpg", "beach_day.jpg"]
    assert client.get("/api/dam/tags").json()["items"] == [
        {"tag": "Summer", "count": 2},
        {"tag": "sea", "count": 2},
    ]
    empty = client.post("/api/dam/assets/bulk/tags", json={"ids": [beach], "tags": ["  "]})
    assert empty.status_code == 422
    deleted = client.post("/api/dam/assets/bulk/delete", json={"ids": [day, mountain, day]})
    assert deleted.json() == {"deleted": 2}
    assert names(client) == ["Beach_100%.jpg", "list.txt"]
    assert names(client, deleted="true") == ["beach_day.jpg", "mountain.jpg"]
    assert client.get("/api/dam/tags").json()["items"] == [
        {"tag": "Summer", "count": 1},
        {"tag": "sea", "count": 1},
    ]
    assert client.post(f"/api/dam/assets/{day}/restore").status_code == 200


def test_counts_by_root_and_neighbours_through_the_folder_graph(client):
    services = client.app.state.services
    (root,) = client.get("/api/dam/roots").json()["items"]
    assert services.assets.counts_by_root(viewer=SYSTEM) == {root["id"]: {"ready": 4}}
    (mountain,) = ids(client, "mountain.jpg")
    response = client.get(f"/api/dam/assets/{mountain}/neighbours")
    assert response.status_code == 200
    page = response.json()
    items = page["items"]
    folder = [i for i in items if i["relation"] == "contains" and i["direction"] == "in"]
    assert [i["node"]["asset"]["filename"] for i in folder] == ["trip"]  # the folder it is in
    assert all(i["direction"] in {"in", "out"} and i["node"]["id"] != mountain for i in items)
    assert sum(page["counts"].values()) == len(items) and page["next_cursor"] is None
    assert client.get("/api/dam/assets/nope/neighbours").status_code == 404


def test_unknown_api_paths_answer_json_not_a_page(client):
    response = client.get("/api/dam/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "no API endpoint /api/dam/nothing-here"}
