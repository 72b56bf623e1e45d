"""Tags flow down hierarchical links (seed 4.7, Propagation) and stay right when tags, links or
members change: real files, the real scanner's moves, both databases."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from tests.graph_helpers import make_assets
from tests.media import write_png
from trove.db.models import Asset, InheritedTag
from trove.domain.access import Viewer
from trove.domain.enums import AssetType
from trove.repositories.links import edge
from trove.repositories.tag_flows import tagged
from trove.services.assets import AssetPatch
from trove.services.container import Services

SYSTEM = Viewer.system()


@pytest.fixture
def services(settings):
    services = Services.create(settings)
    yield services
    services.database.dispose()  # nothing was started: no threads to stop


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "trips"
    for rel in ("2023/a.png", "2023/b.png", "2024/c.png"):
        write_png(root / rel)
    return root


def ids_by_path(services) -> dict[str, str]:
    with services.database.session() as session:
        rows = session.execute(select(Asset.rel_path, Asset.id).where(Asset.rel_path.is_not(None)))
        return {path: asset_id for path, asset_id in rows}


def inherited(services, asset_id: str) -> dict[str, set[str]]:
    """tag -> names of the assets it comes from, as the asset's detail says."""
    detail = services.assets.get(asset_id, viewer=SYSTEM)["inherited_tags"]
    return {tag: {source["name"] for source in sources} for tag, sources in detail.items()}


def set_tags(services, asset_id: str, *tags: str) -> None:
    services.assets.update(asset_id, AssetPatch(tags=list(tags)), viewer=SYSTEM)


def test_a_folder_tag_flows_to_everything_below_it_and_leaves_with_it(services, library):
    services.scanner.scan(library)
    ids = ids_by_path(services)
    set_tags(services, ids[""], "travel")
    set_tags(services, ids["2023"], "old", "film")
    assert inherited(services, ids["2023/a.png"]) == {
        "travel": {"trips"},
        "old": {"2023"},
        "film": {"2023"},
    }
    assert inherited(services, ids["2024/c.png"]) == {"travel": {"trips"}}
    assert inherited(services, ids["2023"]) == {"travel": {"trips"}}
    set_tags(services, ids["2023"], "film")  # "old" removed from the folder
    assert inherited(services, ids["2023/b.png"]) == {"travel": {"trips"}, "film": {"2023"}}
    set_tags(services, ids[""])
    assert inherited(services, ids["2024/c.png"]) == {}


def test_a_file_moved_to_another_folder_inherits_from_its_new_folder_only(services, library):
    services.scanner.scan(library)
    ids = ids_by_path(services)
    set_tags(services, ids["2023"], "old")
    set_tags(services, ids["2024"], "new")
    assert inherited(services, ids["2023/a.png"]) == {"old": {"2023"}}
    (library / "2023/a.png").rename(library / "2024/a.png")  # while Trove is not watching
    services.scanner.scan(library)
    moved = ids_by_path(services)["2024/a.png"]
    assert moved == ids["2023/a.png"]  # the same asset
    assert inherited(services, moved) == {"new": {"2024"}}
    write_png(library / "2024/new.png", seed=3)  # a file added to a tagged folder
    services.scanner.scan(library)
    assert inherited(services, ids_by_path(services)["2024/new.png"]) == {"new": {"2024"}}


def test_a_folder_moved_into_another_carries_its_files_to_their_new_ancestors(services, library):
    (library / "archive").mkdir()
    services.scanner.scan(library)
    ids = ids_by_path(services)
    set_tags(services, ids["archive"], "archived")
    set_tags(services, ids["2023"], "old")
    (library / "2023").rename(library / "archive/2023")
    services.scanner.scan(library)
    after = ids_by_path(services)
    assert after["archive/2023/a.png"] == ids["2023/a.png"]
    assert inherited(services, after["archive/2023/a.png"]) == {
        "archived": {"archive"},
        "old": {"2023"},
    }
    assert inherited(services, after["2024/c.png"]) == {}


def test_album_membership_adds_and_removes_inherited_tags_and_two_albums_both_count(services):
    ids = make_assets(services.database, ["x.jpg", "y.jpg"])
    albums = make_assets(services.database, ["Holiday", "Best"], asset_type=AssetType.COLLECTION)
    nested = make_assets(services.database, ["Inner"], asset_type=AssetType.COLLECTION)["Inner"]
    set_tags(services, albums["Holiday"], "summer")
    set_tags(services, albums["Best"], "summer", "best")
    holiday = services.links.link(albums["Holiday"], ids["x.jpg"], "includes", viewer=SYSTEM).link
    best = services.links.link(albums["Best"], nested, "includes", viewer=SYSTEM).link
    services.links.link(nested, ids["x.jpg"], "includes", viewer=SYSTEM)
    assert inherited(services, ids["x.jpg"]) == {"summer": {"Holiday", "Best"}, "best": {"Best"}}
    services.links.unlink(holiday["id"], viewer=SYSTEM)
    assert inherited(services, ids["x.jpg"]) == {"summer": {"Best"}, "best": {"Best"}}
    services.links.unlink(best["id"], viewer=SYSTEM)
    assert inherited(services, ids["x.jpg"]) == {}
    assert inherited(services, ids["y.jpg"]) == {}
    services.assets.add_tags_many(
        [albums["Holiday"]], ["beach"], viewer=SYSTEM
    )  # the gallery's bulk tagging
    services.links.link(albums["Holiday"], ids["y.jpg"], "includes", viewer=SYSTEM)
    assert inherited(services, ids["y.jpg"]) == {"summer": {"Holiday"}, "beach": {"Holiday"}}


def test_hard_deleting_a_folder_takes_back_what_flowed_through_it(services):
    folders = make_assets(services.database, ["top", "mid"], asset_type=AssetType.COLLECTION)
    leaf = make_assets(services.database, ["leaf.jpg"])["leaf.jpg"]
    services.links.link(folders["top"], folders["mid"], "contains", viewer=SYSTEM)
    services.links.link(folders["mid"], leaf, "contains", viewer=SYSTEM)
    set_tags(services, folders["top"], "t")
    set_tags(services, folders["mid"], "m")
    assert inherited(services, leaf) == {"t": {"top"}, "m": {"mid"}}
    assert inherited(services, folders["mid"]) == {"t": {"top"}}
    services.assets.delete(folders["mid"], hard=True, viewer=SYSTEM)
    assert inherited(services, leaf) == {}
    with services.database.session() as session:
        left = session.scalars(
            select(InheritedTag.tag).where(
                (InheritedTag.asset_id == folders["mid"])
                | (InheritedTag.source_id == folders["mid"])
            )
        )
        assert list(left) == []  # nothing of the deleted folder is left behind


@pytest.mark.slow
def test_tagging_a_folder_of_10k_files_reaches_every_one(services):
    folder = make_assets(services.database, ["big"], asset_type=AssetType.COLLECTION)["big"]
    files = make_assets(services.database, [f"{i}.jpg" for i in range(10_000)])
    with services.database.session() as session:
        services.links.repository(session).add_many(
            [edge(folder, f, "contains") for f in files.values()]
        )
    started = time.monotonic()
    set_tags(services, folder, "big")
    took = time.monotonic() - started
    with services.database.session() as session:
        assert sorted(session.scalars(tagged("big"))) == sorted([folder, *files.values()])
    assert took < 10, took  # generous under load; bench/graph.py measures 100k


def test_a_file_that_gains_children_passes_its_folders_tags_on_and_stops_when_they_go(services):
    folders = make_assets(services.database, ["F", "G"], asset_type=AssetType.COLLECTION)
    files = make_assets(services.database, ["photo.jpg", "face.jpg"])
    photo, face = files["photo.jpg"], files["face.jpg"]
    in_f = services.links.link(folders["F"], photo, "contains", viewer=SYSTEM).link
    set_tags(services, folders["F"], "f")
    set_tags(services, photo, "own")
    region = services.links.link(
        photo, face, "includes", viewer=SYSTEM
    ).link  # the file becomes a holder
    assert inherited(services, face) == {"f": {"F"}, "own": {"photo.jpg"}}
    services.links.unlink(region["id"], viewer=SYSTEM)  # and is a plain file again
    assert inherited(services, face) == {}
    set_tags(services, folders["G"], "g")
    services.links.unlink(in_f["id"], viewer=SYSTEM)
    services.links.link(folders["G"], photo, "contains", viewer=SYSTEM)
    assert inherited(services, photo) == {"g": {"G"}}
    services.links.link(photo, face, "includes", viewer=SYSTEM)
    set_tags(services, folders["G"], "g", "later")  # a tag added above reaches it too
    assert inherited(services, face) == {"g": {"G"}, "later": {"G"}, "own": {"photo.jpg"}}
