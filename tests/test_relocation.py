"""Relocating a library whose folder moved: ids, tags, albums and previews kept once a sample
of its files is found at the new place with the same content; a folder with other content is
refused; a library that reappears elsewhere is offered for relocation, not indexed anew.
Both databases."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.pipeline_media import write_photo
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.services.assets import AssetPatch
from trove.services.container import Services
from trove.services.errors import Invalid, RelocationOffered

SYSTEM = Viewer.system()


@pytest.fixture
def services(settings) -> Iterator[Services]:
    services = Services.create(settings)
    yield services
    services.database.dispose()


def _listing(services: Services) -> dict[str, dict]:
    items = services.assets.list(AssetFilters(), viewer=SYSTEM).items
    return {a["path"]: a for a in items if a["path"]}


def test_a_moved_library_keeps_its_ids_tags_albums_and_previews_and_is_offered_when_found_again(
    services, tmp_path
):
    old = tmp_path / "nas-a" / "photos"
    for i in range(6):
        write_photo(old / ("trip" if i % 2 else "") / f"p{i}.jpg", seed=i)
    services.library.scan_and_process([str(old)], wait=True)
    before = _listing(services)
    tagged = before["p0.jpg"]["id"]
    services.assets.update(tagged, AssetPatch(tags=["keeper"], title="First"), viewer=SYSTEM)
    album = services.albums.create(
        "Best", viewer=SYSTEM, asset_ids=[before["trip/p1.jpg"]["id"], tagged]
    )

    # Another folder with the same names and other pictures is not this library.
    impostor = tmp_path / "impostor"
    for i in range(6):
        write_photo(impostor / ("trip" if i % 2 else "") / f"p{i}.jpg", seed=100 + i)
    with pytest.raises(Invalid, match="other content"):
        services.library.relocate(str(old), str(impostor))

    new = tmp_path / "nas-b" / "pictures"
    new.parent.mkdir()
    shutil.move(old, new)
    done = services.library.relocate(str(old), str(new))
    assert (done["old_path"], done["new_path"]) == (str(old), str(new))
    assert done["matched"] == done["sampled"] == 6
    services.library.scan_and_process([str(new)], wait=True)

    after = _listing(services)
    assert {p: a["id"] for p, a in after.items()} == {p: a["id"] for p, a in before.items()}
    assert {a["status"] for a in after.values() if a["asset_type"] != "collection"} == {"ready"}
    detail = services.assets.get(tagged, viewer=SYSTEM)
    assert (detail["tags"], detail["title"]) == (["keeper"], "First")
    assert detail["storage_urn"] == f"fs://local{new}/p0.jpg"
    assert detail["thumbnails"] == before["p0.jpg"]["thumbnails"]  # the same previews
    members, _ = services.albums.members(album["id"], viewer=SYSTEM)
    assert [m["id"] for m in members] == [before["trip/p1.jpg"]["id"], tagged]
    roots = services.library.roots()
    assert [(r["path"], r["name"]) for r in roots] == [(str(new), "pictures")]

    # It moves again and is scanned where it reappears: offered, not indexed a second time.
    again = tmp_path / "disk2" / "pictures"
    again.parent.mkdir()
    shutil.move(new, again)
    with pytest.raises(RelocationOffered) as offered:
        services.library.scan_and_process([str(again)], wait=True)
    assert (offered.value.offer["old_path"], offered.value.offer["matched"]) == (str(new), 6)
    assert "trove roots relocate" in str(offered.value)
    assert [r["path"] for r in services.library.roots()] == [str(new)]
    services.library.scan_and_process([str(again)], wait=True, relocate=True)
    assert {p: a["id"] for p, a in _listing(services).items()} == {
        p: a["id"] for p, a in before.items()
    }
    assert [r["path"] for r in services.library.roots()] == [str(again)]
