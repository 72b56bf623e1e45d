"""What users made survives losing the database: export, drop the index, rescan the disk,
import, and every user field is back, on both databases."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from tests.media import make_library
from tests.migrating import migrate_to
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.services.albums import AlbumPatch
from trove.services.assets import AssetPatch
from trove.services.container import Services
from trove.services.user_data import UserDataService

SYSTEM = Viewer.system()
WORDS = ["beach", "family", "2023", "work", "draft", "Kyoto", "café", "best"]


@pytest.fixture
def library(tmp_path) -> Path:
    return make_library(tmp_path / "library", photos=6)


def _open(settings, library: Path) -> Services:
    services = Services.create(settings)
    services.library.scan_and_process([str(library)], wait=True)
    return services


def _ids_by_path(services: Services) -> dict[str, str]:
    page = services.library.list_assets(AssetFilters(limit=1000))
    return {item["path"]: item["id"] for item in page.items}


def _make_random_edits(services: Services, rng: random.Random) -> None:
    """Tags, titles, descriptions, ratings, visibility; nested albums with an order and a
    cover; people, and links to them and between files; a photo's edit list."""
    ids = _ids_by_path(services)
    paths = sorted(ids)
    for path in rng.sample(paths, k=len(paths) // 2 + 1):
        services.assets.update(
            ids[path],
            AssetPatch(
                title=rng.choice([None, f"title {rng.randrange(100)}"]),
                description=rng.choice([None, "a description, with ümlauts"]),
                tags=rng.sample(WORDS, k=rng.randrange(0, 4)),
                visibility=rng.choice(["private", "public"]),
                metadata={
                    "gallery": {"rating": rng.randrange(0, 6), "favorite": rng.random() < 0.5}
                },
            ),
            viewer=SYSTEM,
        )
    files = [p for p in paths if "." in p.rsplit("/", 1)[-1]]
    trips = services.albums.create("Trips", description="every trip", viewer=SYSTEM)
    inner = services.albums.create("Best of", viewer=SYSTEM, parent_id=trips["id"])
    for album in (trips, inner):
        members = rng.sample(files, k=3)
        services.albums.add(album["id"], [ids[p] for p in members], viewer=SYSTEM)
        services.albums.update(album["id"], AlbumPatch(cover_id=ids[members[-1]]), viewer=SYSTEM)
    services.assets.update(inner["id"], AssetPatch(tags=["favourites"]), viewer=SYSTEM)
    person = services.links.create_entity("Person", "Ada")
    a, b = rng.sample(files, k=2)
    services.links.link(ids[a], person["id"], "depicts", viewer=SYSTEM)
    services.links.link(ids[a], ids[b], "related_to", viewer=SYSTEM, metadata={"why": "same day"})
    edited = rng.choice([p for p in files if p.endswith(".jpg")])
    turn = {"op": "rotate", "degrees": rng.choice([90, 180, 270]), "straighten": 2.5}
    crop = {"op": "crop", "box": [0.1, 0.2, 0.5, 0.5]}
    services.edits.save(ids[edited], [turn, crop], viewer=SYSTEM)


def _user_fields(services: Services) -> dict[str, object]:
    """Everything users made, keyed by path or name (ids change when the index is rebuilt)."""
    ids = _ids_by_path(services)
    paths = {asset_id: path for path, asset_id in ids.items()}
    files = {}
    for path, asset_id in ids.items():
        asset = services.assets.get(asset_id, viewer=SYSTEM)
        files[path] = (
            asset["title"],
            asset["description"],
            sorted(asset["tags"]),
            asset["visibility"],
            asset["metadata"].get("gallery"),
            asset["edits"],
            asset["edited"] and (asset["edited"]["width"], asset["edited"]["height"]),
        )
    albums = {}
    for album in _flatten(services.albums.tree(viewer=SYSTEM)):
        detail = services.albums.get(album["id"], viewer=SYSTEM)
        members, _ = services.albums.members(album["id"], limit=100, viewer=SYSTEM)
        albums[album["name"]] = (
            detail["description"],
            paths.get(detail["cover_id"]),
            [paths[m["id"]] for m in members],
            sorted(services.assets.get(album["id"], viewer=SYSTEM)["tags"]),
            len(album.get("children", [])),
        )
    links = set()
    for path, asset_id in ids.items():
        for item in services.links.get_neighbors(asset_id, direction="out", viewer=SYSTEM)["items"]:
            if item["relation"] in ("depicts", "related_to"):
                node = item["node"]
                links.add((path, item["relation"], paths.get(node["id"], node["name"])))
    return {"files": files, "albums": albums, "links": links}


def _flatten(tree: list[dict]) -> list[dict]:
    return [node for album in tree for node in (album, *_flatten(album.get("children", [])))]


@pytest.mark.parametrize("seed", [1, 2])
def test_export_then_a_lost_database_then_import_restores_every_user_field(settings, library, seed):
    services = _open(settings, library)
    try:
        _make_random_edits(services, random.Random(seed))
        before = _user_fields(services)
        exported = io.StringIO()
        written = UserDataService.open(settings).export(exported)
    finally:
        services.database.dispose()
    assert written["asset"] >= 4 and written["album"] == 2 and written["link"] == 2

    migrate_to(settings.resolved_database_url, "base", down=True)  # the index is lost
    # ... and a photo was renamed meanwhile: it is found again by its content.
    old = sorted(library.rglob("*.jpg"))[0]
    new = old.with_name("renamed.jpg")
    old.rename(new)
    expected = _renamed(
        before, old.relative_to(library).as_posix(), new.relative_to(library).as_posix()
    )
    services = _open(settings, library)
    try:
        assert _user_fields(services) != expected  # nothing of it is in the rebuilt index
        report = UserDataService.open(settings).import_lines(io.StringIO(exported.getvalue()))
        assert report.unmatched == {}, report.unmatched_refs
        assert _user_fields(services) == expected
        again = UserDataService.open(settings).import_lines(io.StringIO(exported.getvalue()))
        assert _user_fields(services) == expected and again.unmatched == {}
    finally:
        services.database.dispose()


def _renamed(value: object, old: str, new: str) -> object:
    if value == old:
        return new
    if isinstance(value, dict):
        return {_renamed(k, old, new): _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return type(value)(_renamed(v, old, new) for v in value)
    return value


def test_the_command_line_exports_clean_json_lines_and_imports_them(settings, library, run_trove):
    run_trove("scan", str(library))
    services = Services.create(settings)
    try:
        (photo,) = [i for p, i in _ids_by_path(services).items() if p.endswith("IMG_0000.jpg")]
        services.assets.update(photo, AssetPatch(tags=["keep"], title="kept"), viewer=SYSTEM)
    finally:
        services.database.dispose()
    exported = run_trove("export")
    records = [json.loads(line) for line in exported.stdout.splitlines()]  # nothing else on it
    assert records[0]["kind"] == "header" and exported.stderr.startswith("exported ")
    assert [r["title"] for r in records if r["kind"] == "asset" and r["tags"]] == ["kept"]
    out = settings.data_dir / "user-data.jsonl"
    run_trove("export", "--out", str(out))
    assert out.read_text().count("\n") == len(records)
    report = json.loads(run_trove("import", str(out), "--json").stdout)
    assert report["matched"]["asset"] == len(records) - 1 and report["unmatched"] == {}
    refused = run_trove("import", str(library / "notes" / "readme.txt"), check=False)
    assert refused.returncode == 2 and "not a trove-user-data file" in refused.stderr
