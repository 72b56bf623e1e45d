"""LinkManager (seed 4.7) on SQLite and PostgreSQL: links, the relation registry, entities,
paged neighbours at depth 1..3."""

from __future__ import annotations

import json

import pytest

from tests.graph_helpers import make_assets
from trove.db.database import Database
from trove.db.migrate import ensure_schema
from trove.domain.access import Viewer
from trove.domain.enums import AssetType
from trove.services.errors import Conflict, Invalid, NotFound
from trove.services.links import LinkManager

SYSTEM = Viewer.system()


@pytest.fixture
def graph(settings):
    ensure_schema(settings.resolved_database_url)
    database = Database(settings.resolved_database_url)
    yield LinkManager(settings, database)
    database.dispose()


def test_a_link_is_made_once_and_linking_again_returns_the_same_link(graph):
    ids = make_assets(graph.database, ["a.jpg", "b.jpg"])
    first = graph.link(
        ids["a.jpg"], ids["b.jpg"], "related_to", weight=0.5, metadata={"why": 1}, viewer=SYSTEM
    )
    assert first.created
    assert first.link["source_type"] == first.link["target_type"] == "Asset"
    assert first.link["metadata"] == {"why": 1} and first.link["weight"] == 0.5
    again = graph.link(ids["a.jpg"], ids["b.jpg"], "related_to", viewer=SYSTEM)
    assert again == (first.link, False)
    reverse = graph.link(
        ids["b.jpg"], ids["a.jpg"], "related_to", viewer=SYSTEM
    )  # symmetric: the same edge
    assert reverse == (first.link, False)
    graph.unlink(first.link["id"], viewer=SYSTEM)
    with pytest.raises(NotFound):
        graph.unlink(first.link["id"], viewer=SYSTEM)


def test_bad_links_are_refused_with_the_reason(graph):
    ids = make_assets(graph.database, ["a.jpg"])
    folder = make_assets(graph.database, ["f"], asset_type=AssetType.COLLECTION)["f"]
    sub = make_assets(graph.database, ["g"], asset_type=AssetType.COLLECTION)["g"]
    with pytest.raises(NotFound, match="nope"):
        graph.link(ids["a.jpg"], "nope", "related_to", viewer=SYSTEM)
    with pytest.raises(Conflict, match="itself"):
        graph.link(ids["a.jpg"], ids["a.jpg"], "related_to", viewer=SYSTEM)
    with pytest.raises(Invalid, match="known relations: contains, depicts"):
        graph.link(ids["a.jpg"], folder, "loves", viewer=SYSTEM)
    graph.link(folder, sub, "contains", viewer=SYSTEM)
    with pytest.raises(Conflict, match="cycle"):
        graph.link(sub, folder, "contains", viewer=SYSTEM)


def test_entities_are_nodes_that_links_name_by_their_type(graph):
    person = graph.create_entity("Person", "  Ada   Lovelace ", {"born": 1815})
    assert person["name"] == "Ada Lovelace" and person["type"] == "Person"
    photo = make_assets(graph.database, ["ada.jpg"])["ada.jpg"]
    link = graph.link(photo, person["id"], "depicts", viewer=SYSTEM).link
    assert link["target_type"] == "Person"
    graph.create_entity("Project", "Trove")
    assert [e["name"] for e in graph.list_entities(type="Person")["items"]] == ["Ada Lovelace"]
    page = graph.list_entities(limit=1)
    assert page["next_cursor"] and len(page["items"]) == 1
    rest = graph.list_entities(limit=1, cursor=page["next_cursor"])
    assert rest["items"][0]["id"] != page["items"][0]["id"]
    around = graph.get_neighbors(person["id"], viewer=SYSTEM)
    assert [(i["node"]["id"], i["direction"]) for i in around["items"]] == [(photo, "in")]
    for bad_type in ("person", "Asset", ""):
        with pytest.raises(Invalid):
            graph.create_entity(bad_type, "x")


@pytest.mark.slow
def test_a_10k_child_folder_is_paged_with_counts_and_every_child_seen_once(graph):
    folder = make_assets(graph.database, ["big"], asset_type=AssetType.COLLECTION)["big"]
    children = make_assets(graph.database, [f"{i:05}.jpg" for i in range(10_000)])
    from trove.repositories.links import edge

    with graph.database.session() as session:
        graph.repository(session).add_many([edge(folder, c, "contains") for c in children.values()])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = graph.get_neighbors(
            folder, direction="out", limit=1000, cursor=cursor, viewer=SYSTEM
        )
        assert page["counts"] == {"contains": 10_000}
        seen += [item["node"]["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 10
    assert sorted(seen) == sorted(children.values())
    one = graph.get_neighbors(next(iter(children.values())), viewer=SYSTEM)
    assert [(i["node"]["id"], i["relation"], i["direction"]) for i in one["items"]] == [
        (folder, "contains", "in")
    ]


def test_neighbours_deeper_than_one_hop_come_once_at_their_nearest_depth(graph):
    ids = make_assets(graph.database, ["a", "b", "c", "d"])
    a, b, c, d = (ids[n] for n in "abcd")
    graph.link(a, b, "related_to", viewer=SYSTEM)
    graph.link(b, c, "related_to", viewer=SYSTEM)
    graph.link(c, a, "transformed_to", viewer=SYSTEM)  # a cycle a-b-c-a
    graph.link(c, d, "transformed_to", viewer=SYSTEM)
    one = graph.get_neighbors(a, depth=1, viewer=SYSTEM)
    assert {(i["node"]["id"], i["depth"]) for i in one["items"]} == {(b, 1), (c, 1)}
    two = graph.get_neighbors(a, depth=2, viewer=SYSTEM)
    assert {(i["node"]["id"], i["depth"]) for i in two["items"]} == {(b, 1), (c, 1), (d, 2)}
    assert two["counts"] == {"related_to": 1, "transformed_to": 2}
    forward = graph.get_neighbors(
        a, direction="out", depth=3, relation="transformed_to", viewer=SYSTEM
    )
    assert forward["items"] == []
    paged = graph.get_neighbors(a, depth=3, limit=1, viewer=SYSTEM)
    got = [paged["items"][0]["node"]["id"]]
    while paged["next_cursor"]:
        paged = graph.get_neighbors(a, depth=3, limit=1, cursor=paged["next_cursor"], viewer=SYSTEM)
        got += [i["node"]["id"] for i in paged["items"]]
    assert sorted(got) == sorted([b, c, d])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"depth": 0},
        {"depth": 4},
        {"limit": 0},
        {"limit": 1001},
        {"direction": "up"},
        {"relation": "loves"},
        {"cursor": "garbage"},
    ],
)
def test_neighbour_queries_out_of_range_are_refused(graph, kwargs):
    node = make_assets(graph.database, ["a"])["a"]
    with pytest.raises(ValueError):
        graph.get_neighbors(node, **kwargs, viewer=SYSTEM)


def test_neighbours_of_an_unknown_node_are_not_found(graph):
    with pytest.raises(NotFound):
        graph.get_neighbors("no-such-node", viewer=SYSTEM)


def test_a_path_follows_links_either_way_and_says_which_way_each_points(graph):
    ids = make_assets(graph.database, ["root", "2023"], asset_type=AssetType.COLLECTION)
    ids |= make_assets(graph.database, ["raw.cr2", "web.webp", "other.jpg"])
    graph.link(ids["root"], ids["2023"], "contains", viewer=SYSTEM)
    graph.link(ids["2023"], ids["raw.cr2"], "contains", viewer=SYSTEM)
    graph.link(ids["raw.cr2"], ids["web.webp"], "transformed_to", viewer=SYSTEM)
    graph.link(ids["root"], ids["other.jpg"], "contains", viewer=SYSTEM)
    path = graph.shortest_path(ids["web.webp"], ids["root"], viewer=SYSTEM)
    assert [n["name"] for n in path["nodes"]] == ["web.webp", "raw.cr2", "2023", "root"]
    assert [(e["relation"], e["direction"]) for e in path["edges"]] == [
        ("transformed_to", "backward"),
        ("contains", "backward"),
        ("contains", "backward"),
    ]
    forward = graph.shortest_path(ids["root"], ids["web.webp"], direction="out", viewer=SYSTEM)
    assert [e["direction"] for e in forward["edges"]] == ["forward"] * 3
    with pytest.raises(NotFound, match="no path"):
        graph.shortest_path(ids["web.webp"], ids["root"], direction="out", viewer=SYSTEM)
    with pytest.raises(NotFound, match="no path"):
        graph.shortest_path(ids["web.webp"], ids["root"], relations=["contains"], viewer=SYSTEM)
    sideways = graph.shortest_path(ids["web.webp"], ids["other.jpg"], viewer=SYSTEM)
    assert [n["name"] for n in sideways["nodes"]] == [
        "web.webp",
        "raw.cr2",
        "2023",
        "root",
        "other.jpg",
    ]
    assert graph.shortest_path(ids["root"], ids["root"], viewer=SYSTEM) == {
        "nodes": [graph.get_neighbors(ids["2023"], viewer=SYSTEM)["items"][0]["node"]],
        "edges": [],
    }


def test_a_path_through_cycles_is_the_shortest_and_bounded_by_max_depth(graph):
    names = [f"n{i}" for i in range(8)] + ["x", "y", "island"]
    ids = make_assets(graph.database, names)
    for i in range(7):  # a chain n0 - n1 - ... - n7
        graph.link(ids[f"n{i}"], ids[f"n{i + 1}"], "related_to", viewer=SYSTEM)
    for a, b in (("n1", "x"), ("x", "y"), ("y", "n1"), ("n2", "y")):  # cycles beside it
        graph.link(ids[a], ids[b], "visually_similar_to", viewer=SYSTEM)
    path = graph.shortest_path(ids["n0"], ids["n7"], max_depth=7, viewer=SYSTEM)
    assert [n["name"] for n in path["nodes"]] == [f"n{i}" for i in range(8)]
    with pytest.raises(NotFound, match="within 6 links"):
        graph.shortest_path(ids["n0"], ids["n7"], max_depth=6, viewer=SYSTEM)
    short = graph.shortest_path(ids["n0"], ids["y"], viewer=SYSTEM)
    assert len(short["edges"]) == 2  # n0 - n1 - y, not around the cycle
    import time

    started = time.monotonic()
    with pytest.raises(NotFound):
        graph.shortest_path(ids["n0"], ids["island"], max_depth=10, viewer=SYSTEM)
    assert time.monotonic() - started < 5
    for bad in ({"max_depth": 0}, {"max_depth": 11}, {"relations": ["loves"]}):
        with pytest.raises(Invalid):
            graph.shortest_path(ids["n0"], ids["n7"], **bad, viewer=SYSTEM)
    with pytest.raises(NotFound):
        graph.shortest_path(ids["n0"], "nope", viewer=SYSTEM)


def test_impact_reaches_what_depends_on_a_node_transitively_within_the_depth(graph):
    ids = make_assets(graph.database, ["photo.tif", "web.webp", "thumb.webp", "text.txt"])
    ids |= make_assets(graph.database, ["Holiday", "Best of"], asset_type=AssetType.COLLECTION)
    ids |= make_assets(graph.database, ["proxy.webp"], asset_type=AssetType.PROXY)
    photo = ids["photo.tif"]
    graph.link(photo, ids["web.webp"], "transformed_to", viewer=SYSTEM)
    graph.link(photo, ids["proxy.webp"], "transformed_to", viewer=SYSTEM)
    graph.link(ids["web.webp"], ids["thumb.webp"], "transformed_to", viewer=SYSTEM)
    graph.link(
        ids["thumb.webp"], photo, "transformed_to", viewer=SYSTEM
    )  # a cycle back to the start
    graph.link(ids["text.txt"], photo, "extracted_from", viewer=SYSTEM)
    graph.link(ids["Holiday"], photo, "includes", viewer=SYSTEM)
    graph.link(ids["Best of"], ids["Holiday"], "includes", viewer=SYSTEM)
    graph.link(
        photo, ids["Holiday"], "related_to", viewer=SYSTEM
    )  # associative: nobody depends on it
    near = graph.impact_analysis(photo, depth=1, viewer=SYSTEM)
    assert near["counts"] == {"extracted_from": 1, "includes": 1, "transformed_to": 2}
    assert near["types"] == {"collection": 1, "image": 2, "proxy": 1}
    far = graph.impact_analysis(photo, depth=3, limit=2, viewer=SYSTEM)
    assert far["counts"] == {"extracted_from": 1, "includes": 2, "transformed_to": 3}
    seen = [i["node"]["name"] for i in far["items"]]
    cursor = far["next_cursor"]
    while cursor:
        page = graph.impact_analysis(photo, depth=3, limit=2, cursor=cursor, viewer=SYSTEM)
        seen += [i["node"]["name"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(
        ["web.webp", "proxy.webp", "thumb.webp", "text.txt", "Holiday", "Best of"]
    )
    assert "photo.tif" not in seen  # the cycle does not bring the node itself back
    only = graph.impact_analysis(photo, depth=3, relations="includes", viewer=SYSTEM)
    assert only["counts"] == {"includes": 2}
    with pytest.raises(Invalid):
        graph.impact_analysis(photo, depth=7, viewer=SYSTEM)


@pytest.mark.slow
def test_trove_path_prints_the_chain_and_exits_1_when_there_is_none(graph, run_trove):
    ids = make_assets(graph.database, ["root"], asset_type=AssetType.COLLECTION)
    ids |= make_assets(graph.database, ["raw.cr2", "web.webp", "alone.jpg"])
    graph.link(ids["root"], ids["raw.cr2"], "contains", viewer=SYSTEM)
    graph.link(ids["raw.cr2"], ids["web.webp"], "transformed_to", viewer=SYSTEM)
    shown = run_trove("path", ids["web.webp"], ids["root"]).stdout.splitlines()
    assert shown == [
        f"web.webp  (image {ids['web.webp']})",
        "  <--transformed_to--",
        f"raw.cr2  (image {ids['raw.cr2']})",
        "  <--contains--",
        f"root  (collection {ids['root']})",
    ]
    as_json = json.loads(run_trove("path", ids["root"], ids["web.webp"], "--json").stdout)
    assert [e["direction"] for e in as_json["edges"]] == ["forward", "forward"]
    none = run_trove("path", ids["root"], ids["alone.jpg"], check=False)
    assert none.returncode == 1 and "no path" in none.stderr and not none.stdout
    unknown = run_trove("path", ids["root"], "nope", check=False)
    assert unknown.returncode == 2 and "no asset or entity with id 'nope'" in unknown.stderr
    bad = run_trove("path", ids["root"], ids["raw.cr2"], "--relation", "loves", check=False)
    assert bad.returncode == 2 and "known relations: contains" in bad.stderr
