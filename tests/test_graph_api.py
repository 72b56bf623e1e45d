"""The graph over HTTP (/api/dam/links, /entities, /graph/...) on SQLite and PostgreSQL: the
contract's shapes, paging, and every kind of bad input answered with a clear 4xx."""

from __future__ import annotations

import base64

import pytest

from tests.media import write_jpeg


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "library"
    for seed, rel in enumerate(("trip/a.jpg", "trip/b.jpg", "home/c.jpg", "home/d.jpg")):
        write_jpeg(root / rel, seed=seed * 7 + 1)
    return root


def forged(text: str) -> str:
    """A cursor this server did not issue, shaped like one."""
    return base64.urlsafe_b64encode(text.encode()).decode()


def ids(client) -> dict[str, str]:
    items = client.get("/api/dam/assets", params={"limit": 1000, "type": ["image", "collection"]})
    assert items.status_code == 200, items.text
    return {i["path"]: i["id"] for i in items.json()["items"]}


def test_links_are_made_once_and_deleted(client):
    node = ids(client)
    body = {
        "source_id": node["trip/a.jpg"],
        "target_id": node["home/c.jpg"],
        "relation": "related_to",
    }
    made = client.post("/api/dam/links", json={**body, "weight": 0.5, "metadata": {"by": "me"}})
    assert made.status_code == 201, made.text
    link = made.json()
    assert {
        k: link[k] for k in ("source_type", "target_type", "relation", "weight", "metadata")
    } == {
        "source_type": "Asset",
        "target_type": "Asset",
        "relation": "related_to",
        "weight": 0.5,
        "metadata": {"by": "me"},
    }
    again = client.post("/api/dam/links", json=body)
    assert again.status_code == 200 and again.json()["id"] == link["id"]
    swapped = {**body, "source_id": body["target_id"], "target_id": body["source_id"]}
    assert client.post("/api/dam/links", json=swapped).json()["id"] == link["id"]
    assert client.delete(f"/api/dam/links/{link['id']}").status_code == 204
    gone = client.delete(f"/api/dam/links/{link['id']}")
    assert gone.status_code == 404 and "no link" in gone.json()["detail"]


def test_bad_links_get_a_clear_4xx(client):
    node = ids(client)
    a, folder = node["trip/a.jpg"], node["trip"]
    cases = [
        (
            {"source_id": a, "target_id": "nope", "relation": "related_to"},
            404,
            "no asset or entity",
        ),
        ({"source_id": a, "target_id": a, "relation": "related_to"}, 409, "itself"),
        (
            {"source_id": a, "target_id": folder, "relation": "loves"},
            422,
            "known relations: contains",
        ),
        ({"source_id": a, "target_id": node[""], "relation": "contains"}, 409, "cycle"),
        ({"source_id": a, "target_id": folder, "relation": "related_to", "metadata": [1]}, 422, ""),
        ({"source_id": a, "relation": "related_to"}, 422, "target_id"),
        ({"source_id": a + "\x00", "target_id": folder, "relation": "related_to"}, 422, ""),
    ]
    for body, status, detail in cases:
        response = client.post("/api/dam/links", json=body)
        assert response.status_code == status, (body, response.text)
        assert detail in response.json()["detail"]


def test_entities_are_created_listed_by_type_and_linked(client):
    ada = client.post("/api/dam/entities", json={"type": "Person", "name": "Ada"})
    assert ada.status_code == 201
    client.post(
        "/api/dam/entities", json={"type": "Project", "name": "Trove", "metadata": {"x": 1}}
    )
    people = client.get("/api/dam/entities", params={"type": "Person"}).json()
    assert [e["name"] for e in people["items"]] == ["Ada"] and people["next_cursor"] is None
    photo = ids(client)["trip/a.jpg"]
    link = client.post(
        "/api/dam/links",
        json={"source_id": photo, "target_id": ada.json()["id"], "relation": "depicts"},
    ).json()
    assert link["target_type"] == "Person"
    bad = client.post("/api/dam/entities", json={"type": "person", "name": "x"})
    assert bad.status_code == 422 and "capitalised" in bad.json()["detail"]


def test_neighbours_are_paged_with_counts_through_both_routes(client):
    node = ids(client)
    trip = node["trip"]
    first = client.get(f"/api/dam/graph/neighbors/{trip}", params={"direction": "out", "limit": 1})
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["counts"] == {"contains": 2} and len(page["items"]) == 1
    item = page["items"][0]
    assert item["relation"] == "contains" and item["direction"] == "out" and item["depth"] == 1
    assert item["node"]["type"] == "Asset" and item["node"]["asset"]["path"].startswith("trip/")
    rest = client.get(
        f"/api/dam/graph/neighbors/{trip}",
        params={"direction": "out", "limit": 1, "cursor": page["next_cursor"]},
    ).json()
    assert rest["next_cursor"] is None
    assert {item["node"]["name"], *(i["node"]["name"] for i in rest["items"])} == {"a.jpg", "b.jpg"}
    deep = client.get(f"/api/dam/graph/neighbors/{node['trip/a.jpg']}", params={"depth": 2}).json()
    assert {i["node"]["name"] for i in deep["items"]} == {"trip", "b.jpg", "library"}
    same = client.get(f"/api/dam/assets/{trip}/neighbours", params={"direction": "out"}).json()
    assert sorted(i["node"]["name"] for i in same["items"]) == ["a.jpg", "b.jpg"]


@pytest.mark.parametrize(
    "params, detail",
    [
        ({"depth": 0}, "depth"),
        ({"depth": 4}, "depth"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"direction": "up"}, "direction"),
        ({"relation": "loves"}, "known relations: contains"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": forged('[1, "contains", "out", "\\ud800"]')}, "cursor"),
        ({"cursor": forged('[1, "contains", "out", "a\\u0000"]')}, "cursor"),
        ({"cursor": forged('[99999999999999999999, "contains", "out", "x"]')}, "cursor"),
        ({"cursor": forged('{"a": 1}')}, "cursor"),
    ],
)
def test_neighbour_queries_out_of_range_are_422(client, params, detail):
    trip = ids(client)["trip"]
    response = client.get(f"/api/dam/graph/neighbors/{trip}", params=params)
    assert response.status_code == 422, response.text
    assert detail in response.json()["detail"]


def test_unknown_nodes_are_404_everywhere(client):
    for url in (
        "/api/dam/graph/neighbors/nope",
        "/api/dam/assets/nope/neighbours",
        "/api/dam/graph/impact/nope",
    ):
        response = client.get(url)
        assert response.status_code == 404 and "nope" in response.json()["detail"], url
    a = ids(client)["trip/a.jpg"]
    path = client.get("/api/dam/graph/path", params={"from": a, "to": "nope"})
    assert path.status_code == 404


def test_a_path_between_files_goes_through_their_folders_and_ends_within_its_bound(client):
    node = ids(client)
    a, d = node["trip/a.jpg"], node["home/d.jpg"]
    found = client.get("/api/dam/graph/path", params={"from": a, "to": d})
    assert found.status_code == 200, found.text
    path = found.json()
    assert [n["name"] for n in path["nodes"]] == ["a.jpg", "trip", "library", "home", "d.jpg"]
    assert [e["direction"] for e in path["edges"]] == ["backward", "backward", "forward", "forward"]
    short = client.get("/api/dam/graph/path", params={"from": a, "to": d, "max_depth": 3})
    assert short.status_code == 404 and "within 3 links" in short.json()["detail"]
    forward = client.get("/api/dam/graph/path", params={"from": a, "to": d, "direction": "out"})
    assert forward.status_code == 404
    ada = client.post("/api/dam/entities", json={"type": "Person", "name": "Ada"}).json()
    island = client.get("/api/dam/graph/path", params={"from": a, "to": ada["id"], "max_depth": 10})
    assert island.status_code == 404 and "no path" in island.json()["detail"]
    for bad in ({"max_depth": 0}, {"max_depth": 11}, {"relation": "loves"}, {"direction": "x"}):
        response = client.get("/api/dam/graph/path", params={"from": a, "to": d, **bad})
        assert response.status_code == 422, bad


def test_impact_counts_what_depends_on_a_node(client):
    node = ids(client)
    a = node["trip/a.jpg"]
    album = client.post("/api/dam/albums", json={"name": "Best"})
    assert album.status_code == 201, album.text
    client.post(f"/api/dam/albums/{album.json()['id']}/assets", json={"asset_ids": [a]})
    impact = client.get(f"/api/dam/graph/impact/{a}", params={"depth": 2}).json()
    assert impact["counts"] == {"includes": 1}
    assert impact["types"] == {"collection": 1}
    assert [i["node"]["name"] for i in impact["items"]] == ["Best"]
    folder = client.get(f"/api/dam/graph/impact/{node['']}").json()
    # two folders and four files below the root, and the album that includes one of them
    assert folder["counts"] == {"contains": 6, "includes": 1}
    assert client.get(f"/api/dam/graph/impact/{a}", params={"depth": 7}).status_code == 422


def test_a_tag_filter_matches_inherited_tags_and_says_where_each_comes_from(client):
    node = ids(client)
    trip = node["trip"]
    assert client.patch(f"/api/dam/assets/{trip}", json={"tags": ["vacation"]}).status_code == 200
    album = client.post("/api/dam/albums", json={"name": "Best"}).json()
    client.patch(f"/api/dam/assets/{album['id']}", json={"tags": ["vacation", "best"]})
    client.post(f"/api/dam/albums/{album['id']}/assets", json={"asset_ids": [node["trip/a.jpg"]]})
    listed = client.get("/api/dam/assets", params={"tag": "vacation", "type": "image"}).json()
    by_path = {i["path"]: i for i in listed["items"]}
    assert set(by_path) == {"trip/a.jpg", "trip/b.jpg"}
    assert by_path["trip/b.jpg"]["tags"] == []
    assert by_path["trip/b.jpg"]["inherited_tags"] == {
        "vacation": [{"id": trip, "name": "trip", "asset_type": "collection"}]
    }
    a = client.get(f"/api/dam/assets/{node['trip/a.jpg']}").json()["inherited_tags"]
    assert {tag: sorted(s["name"] for s in sources) for tag, sources in a.items()} == {
        "best": ["Best"],
        "vacation": ["Best", "trip"],
    }
    best = client.get("/api/dam/assets", params={"tag": "best", "type": "image"}).json()
    assert [i["path"] for i in best["items"]] == ["trip/a.jpg"]
    client.patch(f"/api/dam/assets/{trip}", json={"tags": []})
    after = client.get("/api/dam/assets", params={"tag": "vacation", "type": "image"}).json()
    assert [i["path"] for i in after["items"]] == ["trip/a.jpg"]  # still from the album


def test_text_a_database_would_refuse_or_alter_is_a_422_for_links_and_entities_on_both(client):
    node = ids(client)
    a, b = node["trip/a.jpg"], node["trip/b.jpg"]

    def raw(url: str, body: str):  # type: ignore[no-untyped-def]
        return client.post(url, content=body, headers={"Content-Type": "application/json"})

    link = f'{{"source_id": "{a}", "target_id": "{b}", "relation": "related_to", "metadata": '
    entity = '{"type": "Person", "name": "Ann", "metadata": '
    cases = {
        "link metadata, lone surrogate": raw("/api/dam/links", link + '{"k": "\\ud800"}}'),
        "link metadata, NaN": raw("/api/dam/links", link + '{"k": NaN}}'),
        "link metadata, NUL": raw("/api/dam/links", link + '{"k": "a\\u0000"}}'),
        "entity metadata, lone surrogate": raw("/api/dam/entities", entity + '{"k": "\\udfff"}}'),
        "entity metadata, Infinity": raw("/api/dam/entities", entity + '{"k": Infinity}}'),
        "entity name, NUL": client.post(
            "/api/dam/entities", json={"type": "Person", "name": "a\x00b"}
        ),
    }
    for case, response in cases.items():
        assert response.status_code == 422, (case, response.text[:200])
        assert response.json()["detail"], case
    assert client.get("/api/dam/entities").json()["items"] == []
    links = client.get(f"/api/dam/graph/neighbors/{a}", params={"relation": "related_to"}).json()
    assert links["items"] == []
