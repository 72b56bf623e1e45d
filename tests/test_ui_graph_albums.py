"""The graph explorer, albums and the lightbox's breadcrumbs in a real browser (Debian's
Chromium through Playwright) against `trove serve`. Screenshots land in test-artifacts/ui/.

Clicks on the graph go to the canvas at a node's drawn position, as a person's would; what the
diagram holds is read back from its Cytoscape instance.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.fixtures import require_chromium, shot
from tests.browser.library import make_browser_library
from tests.browser.server import TroveServer, serving
from tests.media import write_png

playwright_api = pytest.importorskip("playwright.sync_api")

require_chromium()


BIG_FOLDER = 30  # more than one page of neighbours (the explorer shows 24 at a time)
CY = "getElement(document.querySelector('.trove-graph-host')).cy"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_browser_library(tmp_path_factory.mktemp("graph") / "library")
    for i in range(BIG_FOLDER):
        write_png(root / "scans" / f"scan_{i:03}.png", seed=i * 7)
    return root


@pytest.fixture(scope="module")
def server(library: Path) -> Iterator[TroveServer]:
    with serving(library) as trove:
        yield trove


@pytest.fixture
def page(page: Any) -> Iterator[Any]:
    yield page
    page.watch.assert_clean()


def assets_by_name(server: TroveServer) -> dict[str, dict[str, Any]]:
    items = server.api("/api/dam/assets?limit=1000")["items"]
    return {item["filename"]: item for item in items}


def graph_nodes(page: Any) -> dict[str, dict[str, Any]]:
    return page.evaluate(
        f"""() => {{
            const cy = {CY};
            if (!cy) return {{}};
            const out = {{}};
            cy.nodes().forEach(n => {{ out[n.id()] = {{
                label: n.data('label'), kind: n.data('kind'), classes: n.classes() }}; }});
            return out;
        }}"""
    )


def path_edges(page: Any) -> list[str]:
    return page.evaluate(f"() => {CY}.edges('.path').map(e => e.data('relation'))")


def click_node(page: Any, node_id: str, *, double: bool = False) -> None:
    """Click a node where it is drawn, once the layout has stopped moving it."""
    position = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        box = page.locator(".trove-graph-canvas").bounding_box()
        at = page.evaluate(
            f"(id) => {{ const p = {CY}.getElementById(id).renderedPosition();"
            " return [p.x, p.y]; }",
            node_id,
        )
        here = (box["x"] + at[0], box["y"] + at[1])
        if position is not None and abs(here[0] - position[0]) + abs(here[1] - position[1]) < 1:
            break
        position = here
        page.wait_for_timeout(250)
    assert position is not None
    if double:
        page.mouse.dblclick(*position)
    else:
        page.mouse.click(*position)


def wait_for(page: Any, check: Any, *, timeout: float = 20, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        page.wait_for_timeout(200)


def open_explorer(page: Any, server: TroveServer, node_id: str) -> None:
    page.goto(f"{server.url}/graph?node={node_id}")
    wait_for(page, lambda: len(graph_nodes(page)) >= 2, what="the node and its neighbours")


def test_expanding_a_big_folder_shows_one_page_and_a_more_node_that_loads_the_rest(page, server):
    scan = assets_by_name(server)["scan_000.png"]
    open_explorer(page, server, scan["id"])
    nodes = graph_nodes(page)
    (folder_id,) = [i for i, n in nodes.items() if n["label"] == "scans"]
    assert nodes[scan["id"]]["classes"].count("center") == 1

    click_node(page, folder_id)
    more = wait_for(
        page,
        lambda: [n for n in graph_nodes(page).values() if n["kind"] == "more"],
        what="the +N more node",
    )
    shown = [n for n in graph_nodes(page).values() if n["label"].startswith("scan_")]
    assert 1 < len(shown) < BIG_FOLDER
    # The folder's neighbours: its 30 scans and the library folder above it, 24 per page.
    assert more[0]["label"] == f"+{BIG_FOLDER + 1 - 24} more"
    shot(page, "graph-explorer-expanded")

    click_node(page, f"more:{folder_id}")
    wait_for(
        page,
        lambda: (
            sum(n["label"].startswith("scan_") for n in graph_nodes(page).values()) == BIG_FOLDER
        ),
        what="every scan after the second page",
    )
    assert not [n for n in graph_nodes(page).values() if n["kind"] == "more"]


def test_path_mode_lights_up_the_shortest_path_between_two_picked_nodes(page, server):
    names = assets_by_name(server)
    photo, other = names["photo_00.jpg"], names["photo_05.jpg"]
    album = server.api("/api/dam/albums", method="POST", body={"name": "Path test"})
    server.api(
        f"/api/dam/albums/{album['id']}/assets", method="POST", body={"asset_ids": [other["id"]]}
    )
    open_explorer(page, server, photo["id"])
    folder_id = next(i for i, n in graph_nodes(page).items() if n["label"] == "trip")
    click_node(page, folder_id)  # the folder's other photos come in
    wait_for(page, lambda: other["id"] in graph_nodes(page), what="photo_05 in the diagram")

    page.get_by_role("button", name="Path").click()
    click_node(page, photo["id"])
    click_node(page, other["id"])
    edges = wait_for(page, lambda: path_edges(page), what="a highlighted path")
    assert edges == ["contains", "contains"]
    expect = playwright_api.expect
    expect(page.locator(".trove-graph-status")).to_contain_text("2 links: photo_00.jpg")
    lit = [i for i, n in graph_nodes(page).items() if "path" in n["classes"]]
    assert set(lit) == {photo["id"], folder_id, other["id"]}
    shot(page, "graph-explorer-path")

    page.get_by_role("button", name="Impact").click()
    click_node(page, other["id"])
    wait_for(
        page,
        lambda: "affects 1 album" in page.locator(".trove-graph-status").inner_text(),
        what="the impact sentence",
    )
    shot(page, "graph-explorer-impact")


def test_double_click_on_a_node_opens_it_in_the_lightbox(page, server):
    photo = assets_by_name(server)["photo_01.jpg"]
    open_explorer(page, server, photo["id"])
    click_node(page, photo["id"], double=True)
    page.locator(".trove-viewer-name", has_text="photo_01.jpg").wait_for()


def album_order(server: TroveServer, album_id: str) -> list[str]:
    items = server.api(f"/api/dam/albums/{album_id}/assets")["items"]
    return [item["filename"] for item in items]


def test_an_album_is_reordered_by_drag_and_its_cover_set_with_the_star(page, server):
    names = assets_by_name(server)
    picked = [f"photo_{i:02}.jpg" for i in (2, 3, 4, 6)]
    album = server.api(
        "/api/dam/albums",
        method="POST",
        body={"name": "Summer", "description": "Four colours"},
    )
    server.api(
        f"/api/dam/albums/{album['id']}/assets",
        method="POST",
        body={"asset_ids": [names[n]["id"] for n in picked]},
    )
    page.goto(f"{server.url}/albums/{album['id']}")
    tiles = page.locator(".trove-album-tile")
    wait_for(page, lambda: tiles.count() == 4, what="four tiles")

    first, last = tiles.nth(0), tiles.nth(3)
    box = last.bounding_box()
    first.drag_to(last, target_position={"x": box["width"] - 6, "y": box["height"] / 2})
    expected = [picked[1], picked[2], picked[3], picked[0]]
    wait_for(page, lambda: album_order(server, album["id"]) == expected, what="the new order")
    playwright_api.expect(tiles).to_have_count(4)
    wait_for(  # the page's own tiles, which the server may draw again after it saved
        page,
        lambda: [tiles.nth(i).get_attribute("data-name") for i in range(4)] == expected,
        what="the tiles in the new order",
    )

    tiles.nth(2).hover()
    tiles.nth(2).get_by_role("button", name=f"Make {expected[2]} the cover").click()
    wait_for(
        page,
        lambda: (
            server.api(f"/api/dam/albums/{album['id']}")["cover_id"] == names[expected[2]]["id"]
        ),
        what="the chosen cover",
    )
    tiles.nth(2).locator(".trove-album-cover-badge").wait_for()
    page.reload()
    wait_for(page, lambda: tiles.count() == 4, what="the album after a reload")
    assert [tiles.nth(i).get_attribute("data-name") for i in range(4)] == expected
    shot(page, "album-page")


def test_new_album_from_a_gallery_selection_shows_in_the_sidebar_and_on_the_albums_page(
    page, server
):
    page.goto(server.url + "/")
    page.wait_for_selector(".trove-tile")
    for name in ("scan_000.png", "scan_001.png"):
        page.locator(f'.trove-tile[data-name="{name}"] .trove-tile-check').click()
    page.locator(".trove-selection").get_by_role("button", name="New album").click()
    page.get_by_label("New album name").fill("Picked in the gallery")
    page.get_by_role("button", name="Create").click()
    page.locator(".trove-album-node", has_text="Picked in the gallery").wait_for()
    page.goto(server.url + "/albums")
    card = page.locator(".trove-album-card", has_text="Picked in the gallery")
    playwright_api.expect(card).to_contain_text("2 items")
    deadline = time.monotonic() + 30
    while card.locator("img").count() == 0:  # the collage is drawn in the background
        assert time.monotonic() < deadline, "the album's collage never showed on its card"
        page.wait_for_timeout(500)
        page.reload()
        card.wait_for()
    shot(page, "albums")


def test_lightbox_breadcrumbs_lead_to_the_folder_and_the_graph_tab_speaks_in_words(page, server):
    photo = assets_by_name(server)["photo_03.jpg"]
    page.goto(f"{server.url}/?asset={photo['id']}")
    trail = page.locator(".trove-viewer-trail")
    expect = playwright_api.expect
    # The trail is the name alone until its folders come (viewer.py `_load_trail`).
    expect(trail.locator(".trove-trail-part, .trove-viewer-name")).to_have_text(
        ["library", "trip", "photo_03.jpg"]
    )
    page.locator(".q-tab", has_text="Graph").click()
    relation = page.locator(".trove-graph-relation").first
    expect(relation).to_have_text("in folder", ignore_case=True)
    assert "contains" not in page.locator(".trove-viewer-side").inner_text().lower()
    shot(page, "lightbox-breadcrumbs-graph-tab")

    trail.locator(".trove-trail-part", has_text="trip").click()
    page.wait_for_url("**/?root=*")
    # The folder's own grid, not the whole library's still on its way out: trip's 12 photos.
    expect(page.locator(".trove-tile")).to_have_count(12)
    expect(page.locator('.trove-tile[data-name="photo_03.jpg"]')).to_have_count(1)
    assert page.locator('.trove-tile[data-name="scan_000.png"]').count() == 0


def test_the_relation_filter_keeps_only_the_chosen_relations(page, server):
    names = assets_by_name(server)
    photo = names["photo_06.jpg"]
    album = server.api("/api/dam/albums", method="POST", body={"name": "Filtered"})
    server.api(
        f"/api/dam/albums/{album['id']}/assets", method="POST", body={"asset_ids": [photo["id"]]}
    )
    open_explorer(page, server, photo["id"])
    wait_for(page, lambda: album["id"] in graph_nodes(page), what="the album as a neighbour")
    wait_for(  # the neighbours may come in more than one batch
        page,
        lambda: any(n["label"] == "trip" for n in graph_nodes(page).values()),
        what="the folder as a neighbour",
    )

    page.get_by_label("Relations").click()
    page.get_by_role("option", name="Includes").click()
    page.keyboard.press("Escape")

    def only_albums() -> bool:
        nodes = graph_nodes(page)
        return album["id"] in nodes and all(n["label"] != "trip" for n in nodes.values())

    wait_for(page, only_albums, what="the photo with its albums and nothing else")
    for node_id in set(graph_nodes(page)) - {photo["id"]}:  # each one an album (an earlier
        assert server.api(f"/api/dam/albums/{node_id}")["count"] >= 1  # test adds another)


def test_add_to_album_from_the_lightbox(page, server):
    photo = assets_by_name(server)["photo_09.jpg"]
    album = server.api("/api/dam/albums", method="POST", body={"name": "From the lightbox"})
    page.goto(f"{server.url}/?asset={photo['id']}")
    page.get_by_role("button", name="Add to album").click()
    page.locator(f'.trove-album-choice[data-album-id="{album["id"]}"]').click()
    wait_for(
        page,
        lambda: (
            [i["id"] for i in server.api(f"/api/dam/albums/{album['id']}/assets")["items"]]
            == [photo["id"]]
        ),
        what="the photo in the album",
    )
    page.locator(".q-tab", has_text="Graph").click()
    page.locator(".trove-graph-relation", has_text="In album").wait_for()
