"""What users made survives losing the database: export, drop the index, rescan the disk,
import, and every user field is back, on both databases (a property over random edits)."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import select

from tests.accounts import add_accounts, with_sign_in
from tests.media import make_library, write_png
from tests.migrating import migrate_to
from trove.db.models import Asset, Entity, Link, User
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.services import albums as album_service
from trove.services.albums import AlbumPatch
from trove.services.assets import AssetPatch
from trove.services.container import Services

SYSTEM = Viewer.system()
OWNER = Viewer.local_owner()
WORDS = ["beach", "family", "2023", "work", "draft", "Kyoto", "café", "best"]
PHOTOS = 2
FILES = PHOTOS + 3  # the photos, a PNG, a text file, an empty file
TEXT = st.text(alphabet="abc ÄéΩ\n<&>'\"", min_size=1, max_size=12).filter(str.strip)
BOXES = [[0.1, 0.1, 0.3, 0.3], [0.5, 0.25, 0.25, 0.5]]
URLS = ["https://example.org/a", "https://example.com/b?q=1"]


@st.composite
def edits(draw: st.DrawFn) -> dict[str, Any]:
    """A plan of what a person did, as plain data (files by index in path order)."""
    file_edit = st.fixed_dictionaries({
        "title": st.none() | TEXT, "description": st.none() | TEXT,
        "tags": st.lists(st.sampled_from(WORDS), max_size=3, unique=True),
        "visibility": st.sampled_from(["private", "public"]),
        "rating": st.none() | st.integers(0, 5), "favorite": st.none() | st.booleans(),
    })  # fmt: skip
    albums = []
    for n in range(draw(st.integers(1, 3))):
        albums.append({
            "parent": draw(st.none() | st.integers(0, n - 1)) if n else None,
            "members": draw(st.lists(st.integers(0, FILES - 1), max_size=4, unique=True)),
            "cover": draw(st.booleans()),
            "tags": draw(st.lists(st.sampled_from(WORDS), max_size=2)),
        })  # fmt: skip
    return {
        "files": draw(st.dictionaries(
            st.integers(0, FILES - 1), file_edit, min_size=1, max_size=4)),
        "albums": albums,
        "regions": draw(st.lists(st.tuples(
            st.integers(0, PHOTOS - 1), st.sampled_from(range(len(BOXES))),
            st.none() | st.sampled_from(["Ada", "Grace"]), st.none() | TEXT,
        ), min_size=1, max_size=2, unique_by=lambda r: r[:2])),
        "notes": draw(st.lists(st.tuples(
            TEXT, st.lists(st.integers(0, FILES - 1), max_size=2, unique=True)), min_size=1,
            max_size=2)),
        "urls": draw(st.lists(st.tuples(st.sampled_from(URLS), st.lists(
            st.sampled_from(WORDS), max_size=2)), min_size=1, max_size=2,
            unique_by=lambda u: u[0])),
        "related": draw(st.lists(st.tuples(st.integers(0, FILES - 1), st.integers(0, FILES - 1))
                                 .filter(lambda p: p[0] != p[1]), max_size=2)),
        "shares": draw(st.lists(st.tuples(
            st.integers(-1, FILES - 1), st.none() | TEXT, st.booleans(), st.booleans(),
        ), min_size=1, max_size=2)),
        "edit": draw(st.none() | st.tuples(st.integers(0, PHOTOS - 1), st.sampled_from([90, 270]))),
    }  # fmt: skip


def _apply(services: Services, plan: dict[str, Any]) -> None:
    ids = _ids_by_path(services)
    files = [ids[p] for p in sorted(ids) if "." in p.rsplit("/", 1)[-1]]
    photos = [ids[p] for p in sorted(ids) if p.endswith(".jpg")]
    for index, edit in plan["files"].items():
        gallery = {k: edit[k] for k in ("rating", "favorite") if edit[k] is not None}
        services.assets.update(files[index], AssetPatch(
            title=edit["title"], description=edit["description"], tags=edit["tags"],
            visibility=edit["visibility"],
            **({"metadata": {"gallery": gallery}} if gallery else {}),
        ), viewer=SYSTEM)  # fmt: skip
    albums: list[str] = []
    for n, album in enumerate(plan["albums"]):
        parent = albums[album["parent"]] if album["parent"] is not None else None
        made = services.albums.create(f"album {n}", description=f"#{n}", viewer=OWNER,
                                      parent_id=parent)["id"]  # fmt: skip
        if album["members"]:
            services.albums.add(made, [files[i] for i in album["members"]], viewer=OWNER)
        if album["cover"] and album["members"]:
            cover = files[album["members"][-1]]
            services.albums.update(made, AlbumPatch(cover_id=cover), viewer=OWNER)
        services.assets.update(made, AssetPatch(tags=album["tags"]), viewer=OWNER)
        albums.append(made)
    for photo, box, person, title in plan["regions"]:
        region = services.regions.create(photos[photo], BOXES[box], viewer=OWNER)["id"]
        services.assets.update(region, AssetPatch(title=title), viewer=OWNER)
        if person:  # as the People page names a face: region and photo depict the person
            named = services.links.create_entity("Person", person)["id"]
            for source in (region, photos[photo]):
                services.links.link(source, named, "depicts", viewer=OWNER)
    for text, related in plan["notes"]:
        at = "2024-05-01T10:00:00Z"
        data = {"text": text, "related_to": [files[i] for i in related], "at": at}
        services.assets.ingest_virtual("log_entry", data, viewer=OWNER)
    for url, tags in plan["urls"]:
        page = services.assets.ingest_virtual("url", {"url": url}, viewer=OWNER)["id"]
        services.assets.update(page, AssetPatch(tags=tags), viewer=OWNER)
        if albums:
            services.albums.add(albums[0], [page], viewer=OWNER)
    for a, b in plan["related"]:
        services.links.link(files[a], files[b], "related_to", viewer=OWNER, metadata={"n": a})
    for target, password, expires, download in plan["shares"]:
        on_album = target < 0 and albums
        services.shares.create(
            viewer=OWNER, album_id=albums[0] if on_album else None,
            asset_id=None if on_album else files[max(target, 0)], password=password,
            expires_at=datetime.now(UTC) + timedelta(days=3) if expires else None,
            allow_download=download,
        )  # fmt: skip

    if plan["edit"]:  # the editor's list, rendered again on import
        photo, degrees = plan["edit"]
        turn = {"op": "rotate", "degrees": degrees, "straighten": 2.5}
        crop = {"op": "crop", "box": [0.1, 0.2, 0.5, 0.5]}
        services.edits.save(photos[photo], [turn, crop], viewer=SYSTEM)


def _ids_by_path(services: Services) -> dict[str, str]:
    page = services.library.list_assets(AssetFilters(limit=1000))
    return {item["path"]: item["id"] for item in page.items if item["path"]}


def _user_fields(services: Services) -> dict[str, Any]:
    """Everything users made, by path or name (ids change when the index is rebuilt)."""
    ids = _ids_by_path(services)
    names = {asset_id: path for path, asset_id in ids.items()}

    def fields(asset_id: str) -> tuple[Any, ...]:
        asset = services.assets.get(asset_id, viewer=SYSTEM)
        edited = asset.get("edited")
        return (asset["title"], asset["description"], sorted(asset["tags"]),
                asset["visibility"], asset["metadata"].get("gallery"), asset.get("edits"),
                edited and (edited["width"], edited["height"]))  # fmt: skip

    def out_links(node_id: str) -> list[tuple[str, str]]:
        found = services.links.get_neighbors(node_id, direction="out", viewer=SYSTEM)["items"]
        return sorted((i["relation"], names.get(i["node"]["id"], i["node"]["name"]))
                      for i in found if i["relation"] in ("depicts", "related_to"))  # fmt: skip

    albums = {}
    for album in _flatten(services.albums.tree(viewer=SYSTEM)):
        detail = services.albums.get(album["id"], viewer=SYSTEM)
        members, _ = services.albums.members(album["id"], limit=100, viewer=SYSTEM)
        names[album["id"]] = album["name"]
        albums[album["name"]] = (
            detail["description"], names.get(detail["cover_id"]),
            [names.get(m["id"], m["filename"]) for m in members], fields(album["id"]),
            sorted(c["name"] for c in album.get("children", [])),
        )  # fmt: skip
    virtual = []
    with services.database.session() as session:
        rows = session.scalars(
            select(Asset).where(Asset.is_virtual.is_(True), Asset.asset_type != "collection")
        ).all()
        regions_of = dict(session.execute(select(Link.source_id, Link.target_id).where(
            Link.relation == "extracted_from")).all())  # fmt: skip
    for asset in rows:  # a region is named by its picture (its file name follows the picture's)
        bbox = (asset.meta.get("region") or {}).get("bbox")
        name = names.get(regions_of.get(asset.id, "")) if bbox else asset.filename
        names[asset.id] = f"{asset.asset_type} {name} {bbox}"
        virtual.append((names[asset.id], asset.meta.get("log_entry"), fields(asset.id),
                        out_links(asset.id)))  # fmt: skip
    shares = [
        (names.get(s["asset_id"] or s["album_id"]), s["token"], s["has_password"],
         s["expires_at"], s["allow_download"], s["revoked_at"])
        for s in services.shares.mine(viewer=OWNER)
    ]  # fmt: skip
    return {
        "files": {path: (fields(i), out_links(i)) for path, i in ids.items()},
        "albums": albums, "virtual": sorted(virtual, key=repr), "shares": sorted(shares, key=repr),
    }  # fmt: skip


def _flatten(tree: list[dict]) -> list[dict]:
    return [node for album in tree for node in (album, *_flatten(album.get("children", [])))]


def _fresh(settings, library: Path) -> Services:
    """The library as made, and an index scanned from it (a database of nothing else)."""
    shutil.rmtree(library, ignore_errors=True)
    make_library(library, photos=PHOTOS)
    migrate_to(settings.resolved_database_url, "base", down=True)
    services = Services.create(settings)
    services.library.scan_and_process([str(library)], wait=True)
    return services


def _renamed(value: object, old: str, new: str) -> object:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {_renamed(k, old, new): _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_renamed(v, old, new) for v in value)
    return value


@examples(
    max_examples=2,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.generate],  # a shrink would rescan for minutes: not worth it
)
@given(plan=edits())
def test_export_then_a_lost_database_then_import_restores_every_user_field(
    settings, tmp_path, plan
):  # fmt: skip
    library = tmp_path / "library"
    services = _fresh(settings, library)
    try:
        _apply(services, plan)
        before = _user_fields(services)
        exported = io.StringIO()
        services.user_data.export(exported, secrets=True)
    finally:
        services.database.dispose()
    # A photo renamed while the index was gone: found by its content.
    old, new = "2023/2023-01 trip/IMG_0000.jpg", "2023/2023-01 trip/renamed.jpg"
    (library / old).rename(library / new)
    expected = _renamed(before, old, new)
    migrate_to(settings.resolved_database_url, "base", down=True)  # the index is lost
    services = Services.create(settings)
    try:
        services.library.scan_and_process([str(library)], wait=True)
        report = services.user_data.import_lines(io.StringIO(exported.getvalue()))
        assert report.unmatched == {}, report.unmatched_refs
        assert _user_fields(services) == expected
        again = services.user_data.import_lines(io.StringIO(exported.getvalue()))
        assert again.unmatched == {} and _user_fields(services) == expected
    finally:
        services.database.dispose()


def test_a_version_1_export_still_imports(settings, tmp_path):
    library = tmp_path / "library"
    services = _fresh(settings, library)
    try:
        photo = services.assets.get(_ids_by_path(services)["graphics/logo.png"], viewer=SYSTEM)
        lines = [
            {"kind": "header", "format": "trove-user-data", "version": 1},
            {"kind": "asset", "ref": {"hash": photo["hash"], "root": "/gone", "path": "x.png"},
             "title": "logo", "description": None, "tags": ["brand"], "visibility": "private",
             "metadata": {"gallery": {"rating": 4}}},
            {"kind": "album", "key": "a1", "name": "Brand", "description": None, "parent": None,
             "members": [{"hash": None, "root": str(library), "path": "notes/readme.txt"}],
             "cover": None, "tags": []},
        ]  # fmt: skip
        report = services.user_data.import_lines(json.dumps(r) + "\n" for r in lines)
        assert report.as_dict()["matched"] == {"asset": 1, "album": 1}
        restored = services.assets.get(photo["id"], viewer=SYSTEM)
        assert (restored["title"], restored["tags"]) == ("logo", ["brand"])
        assert restored["metadata"]["gallery"]["rating"] == 4
    finally:
        services.database.dispose()


def test_a_share_exported_without_secrets_is_reported_not_restored(settings, tmp_path):
    services = _fresh(settings, tmp_path / "library")
    try:
        photo = _ids_by_path(services)["graphics/logo.png"]
        share = services.shares.create(viewer=OWNER, asset_id=photo, password="pw")
        plain, secret = io.StringIO(), io.StringIO()
        services.user_data.export(plain)
        services.user_data.export(secret, secrets=True)
        assert share["token"] not in plain.getvalue() and share["token"] in secret.getvalue()
        assert '"password_hash": "$argon2' in secret.getvalue()
        report = services.user_data.import_lines(io.StringIO(plain.getvalue()))
        assert report.unmatched == {"share": 1}
        assert "use --secrets" in report.unmatched_refs[0]
    finally:
        services.database.dispose()


def test_the_command_line_exports_clean_json_lines_and_imports_them(settings, run_trove, tmp_path):
    library = make_library(tmp_path / "library", photos=2)
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
    kinds = [r["kind"] for r in records]
    assert report["matched"] == {"user": 1, "asset": kinds.count("asset")}
    assert report["unmatched"] == {}
    refused = run_trove("import", str(library / "notes" / "readme.txt"), check=False)
    assert refused.returncode == 2 and "not a trove-user-data file" in refused.stderr
    backup = json.loads(run_trove("backup", "--json").stdout)
    assert Path(backup["path"]).stat().st_size == backup["size"] > 0


def _rebuilt(settings, library: Path | None = None) -> Services:
    """The index lost and made again from the disk (of nothing, without a library)."""
    migrate_to(settings.resolved_database_url, "base", down=True)
    services = Services.create(settings)
    if library is not None:
        services.library.scan_and_process([str(library)], wait=True)
    return services


def _exported(services: Services) -> str:
    out = io.StringIO()
    services.user_data.export(out, secrets=True)
    return out.getvalue()


def _imported(services: Services, exported: str) -> dict[str, Any]:
    report = services.user_data.import_lines(io.StringIO(exported))
    assert report.unmatched == {}, report.unmatched_refs
    return dict(report.matched)


def _files(services: Services) -> list[str]:
    """The ids of the library's files, in path order."""
    ids = _ids_by_path(services)
    return [ids[p] for p in sorted(ids) if "." in p.rsplit("/", 1)[-1]]


def _albums(services: Services) -> list[tuple[Any, ...]]:
    """Every album as (name, description, its parent's description, member paths in order,
    tags, visibility): albums of one name told apart."""
    paths = {asset_id: path for path, asset_id in _ids_by_path(services).items()}
    found = []
    for album in _flatten(services.albums.tree(viewer=SYSTEM)):
        detail = services.albums.get(album["id"], viewer=SYSTEM)
        parent = detail.get("parent_id")
        members, _ = services.albums.members(album["id"], limit=100, viewer=SYSTEM)
        fields = services.assets.get(album["id"], viewer=SYSTEM)
        found.append((
            album["name"], detail["description"],
            parent and services.albums.get(parent, viewer=SYSTEM)["description"],
            [paths[m["id"]] for m in members], sorted(fields["tags"]), fields["visibility"],
        ))  # fmt: skip
    return sorted(found, key=repr)


def _make_album(
    services: Services, description: str, members: list[str], *, parent: str | None = None,
    tags: list[str], visibility: str,
) -> str:  # fmt: skip
    name = "Beach" if parent else "Holiday"
    made = services.albums.create(name, description=description, viewer=OWNER, parent_id=parent)
    services.albums.add(made["id"], members, viewer=OWNER)
    patch = AssetPatch(tags=tags, visibility=visibility)
    services.assets.update(made["id"], patch, viewer=OWNER)
    return str(made["id"])


def test_two_albums_of_one_name_come_back_as_two_with_their_own_members_and_settings(
    settings, tmp_path
):  # fmt: skip
    library = tmp_path / "library"
    services = _fresh(settings, library)
    try:
        a, b, c, d, e = _files(services)
        spain = _make_album(services, "Spain 2022", [a, b], tags=["spain"], visibility="public")
        italy = _make_album(services, "Italy 2023", [d, c], tags=["italy"], visibility="private")
        _make_album(services, "Spain beach", [e], parent=spain, tags=[], visibility="public")
        _make_album(services, "Italy beach", [a], parent=italy, tags=["sea"], visibility="private")
        before = _albums(services)
        assert len(before) == 4
        exported = _exported(services)
        assert _imported(services, exported)["album"] == 4  # into the index it came from
        assert _albums(services) == before
    finally:
        services.database.dispose()
    services = _rebuilt(settings, library)
    try:
        assert _imported(services, exported)["album"] == 4
        assert _albums(services) == before
        _imported(services, exported)
        assert _albums(services) == before
    finally:
        services.database.dispose()


def _pages(services: Services) -> list[tuple[Any, ...]]:
    """Every web page as (its owner's name, URL, title, tags)."""
    with services.database.session() as session:
        rows = session.execute(
            select(User.name, Asset.id, Asset.filename)
            .join(User, User.id == Asset.owner_id)
            .where(Asset.asset_type == "url", Asset.deleted_at.is_(None))
        ).all()
    found = []
    for owner, page_id, url in rows:
        fields = services.assets.get(page_id, viewer=SYSTEM)
        found.append((owner, url, fields["title"], fields["tags"]))
    return sorted(found)


def test_two_users_pages_of_one_url_come_back_as_two_each_with_its_owner(settings):
    settings = with_sign_in(settings)
    services = _rebuilt(settings)
    try:
        for name, account in add_accounts(services).items():
            viewer = Viewer(user_id=account["id"], is_admin=name == "alice")
            url = {"url": "https://example.org/recipes"}
            page = services.assets.ingest_virtual("url", url, viewer=viewer)["id"]
            patch = AssetPatch(title=f"{name}'s recipes", tags=[name])
            services.assets.update(page, patch, viewer=viewer)
        before = _pages(services)
        assert [owner for owner, *_ in before] == ["alice", "bob"]
        exported = _exported(services)
        assert _imported(services, exported)["url"] == 2  # into the index it came from
        assert _pages(services) == before
    finally:
        services.database.dispose()
    services = _rebuilt(settings)
    try:
        assert _imported(services, exported)["url"] == 2
        assert _pages(services) == before
        _imported(services, exported)
        assert _pages(services) == before
    finally:
        services.database.dispose()


def test_a_members_uploads_and_libraries_come_back_as_theirs(settings, tmp_path):
    """Who uploaded a file and which libraries a member was given were not exported: after
    a rebuild and an import, bob's upload was the admin's and he saw none of it."""
    settings = with_sign_in(settings)
    library = make_library(tmp_path / "library", photos=2)
    services = _rebuilt(settings, library)
    try:
        bob = Viewer(user_id=add_accounts(services)["bob"]["id"])
        (root,) = services.library.roots()
        services.library_admin.set_member(root["id"], bob.user_id, can_write=True)
        picture = write_png(tmp_path / "bobs.png", seed=9).read_bytes()
        uploaded = services.uploads.store(bob, "bobs.png", io.BytesIO(picture))
        upload_root = next(r["path"] for r in services.library.roots() if r["id"] != root["id"])
        exported = _exported(services)
        assert services.assets.get(uploaded, viewer=bob)["filename"] == "bobs.png"
    finally:
        services.database.dispose()
    services = _rebuilt(settings, library)
    try:
        services.library.scan_and_process([upload_root], wait=True)
        matched = _imported(services, exported)
        assert (matched["library"], matched["user"]) == (1, 2)
        with services.database.session() as session:
            bob = Viewer(user_id=session.scalar(select(User.id).where(User.name == "bob")))
        page = services.assets.list(AssetFilters(limit=100), viewer=bob).items
        names = {item["filename"] for item in page}
        assert {"bobs.png", "readme.txt"} <= names  # his, and his library's
        (upload,) = [item for item in page if item["filename"] == "bobs.png"]
        assert services.assets.get(upload["id"], viewer=bob)["owner_id"] == bob.user_id
    finally:
        services.database.dispose()


def test_a_url_written_two_ways_is_one_page_however_often_it_is_imported(settings):
    """`HTTPS://h:443/b` was stored as `https://h:443/b`, which an import stored as
    `https://h/b`: a second import found no page of that URL and made another one."""
    services = _rebuilt(settings)
    try:
        url = {"url": "HTTPS://Example.org:443/b"}
        page = services.assets.ingest_virtual("url", url, viewer=OWNER)["id"]
        assert services.assets.get(page, viewer=SYSTEM)["filename"] == "https://example.org/b"
        services.assets.update(page, AssetPatch(tags=["kept"]), viewer=OWNER)
        exported = _exported(services)
    finally:
        services.database.dispose()
    # An export made before URLs were stored one way holds it as it was typed.
    older = exported.replace("https://example.org/b", "https://example.org:443/b")
    services = _rebuilt(settings)
    try:
        for export in (older, older, exported):
            _imported(services, export)
        pages = [(page_url, tags) for _owner, page_url, _title, tags in _pages(services)]
        assert pages == [("https://example.org/b", ["kept"])]
    finally:
        services.database.dispose()


def _places(services: Services) -> list[tuple[str, dict[str, Any]]]:
    """Every Place as (the path of the file related to it, its metadata)."""
    paths = {asset_id: path for path, asset_id in _ids_by_path(services).items()}
    with services.database.session() as session:
        rows = session.execute(
            select(Link.source_id, Entity.meta)
            .join(Entity, Entity.id == Link.target_id)
            .where(Entity.type == "Place", Entity.name == "Springfield")
        ).all()
    return sorted(((paths[source], meta) for source, meta in rows), key=repr)


def test_two_entities_of_one_name_come_back_as_two(settings, tmp_path):
    library = tmp_path / "library"
    services = _fresh(settings, library)
    try:
        a, b, *_ = _files(services)
        for file_id, state in ((a, "IL"), (b, "MA")):
            place = services.links.create_entity("Place", "Springfield", {"state": state})
            services.links.link(file_id, place["id"], "related_to", viewer=OWNER)
        before = _places(services)
        exported = _exported(services)
        assert _imported(services, exported)["entity"] == 2  # into the index it came from
        assert _places(services) == before
    finally:
        services.database.dispose()
    services = _rebuilt(settings, library)
    try:
        _imported(services, exported)
        assert _places(services) == before
        _imported(services, exported)
        assert _places(services) == before
        assert len(services.links.list_entities(type="Place")["items"]) == 2
    finally:
        services.database.dispose()


def test_an_album_of_more_members_than_one_add_takes_comes_back_whole(
    settings, tmp_path, monkeypatch
):  # fmt: skip
    library = tmp_path / "library"
    services = _fresh(settings, library)
    try:
        files = _files(services)[::-1]
        _make_album(services, "all of it", files, tags=[], visibility="private")
        before = _albums(services)
        exported = _exported(services)
    finally:
        services.database.dispose()
    monkeypatch.setattr(album_service, "MAX_ADD", 2)  # the real limit, 10,000, made small
    services = _rebuilt(settings, library)
    try:
        assert _imported(services, exported)["album"] == 1
        assert _albums(services) == before
    finally:
        services.database.dispose()


SAME_BYTES = "the same bytes in every copy\n"


def _copies(library: Path, *paths: str) -> Path:
    """Files of identical content at PATHS under LIBRARY."""
    for path in paths:
        (library / path).parent.mkdir(parents=True, exist_ok=True)
        (library / path).write_text(SAME_BYTES)
    return library


def _exported_and_closed(services: Services) -> str:
    """The export (without secrets), the index closed for the next one to be built."""
    try:
        out = io.StringIO()
        services.user_data.export(out)
        return out.getvalue()
    finally:
        services.database.dispose()


def _where_each_copy_went(services: Services) -> dict[str, Any]:
    """Each file's title, tags, albums, links people made and whether it is the preferred
    copy, by path."""
    ids = _ids_by_path(services)
    names = {asset_id: path for path, asset_id in ids.items()}
    albums: dict[str, list[str]] = {}
    for album in _flatten(services.albums.tree(viewer=SYSTEM)):
        members, _ = services.albums.members(album["id"], limit=100, viewer=SYSTEM)
        for member in members:
            albums.setdefault(member["id"], []).append(album["name"])
    state = {}
    for path, asset_id in ids.items():
        if "." not in path.rsplit("/", 1)[-1]:
            continue  # a folder
        asset = services.assets.get(asset_id, viewer=SYSTEM)
        found = services.links.get_neighbors(asset_id, direction="out", viewer=SYSTEM)["items"]
        links = sorted(
            (i["relation"], names.get(i["node"]["id"], i["node"]["name"]))
            for i in found
            if i["relation"] in ("depicts", "related_to", "owns")
        )
        copies = services.stacks.members(asset_id, viewer=SYSTEM)
        preferred = len(copies) > 1 and any(c["preferred"] and c["id"] == asset_id for c in copies)
        state[path] = (asset["title"], sorted(asset["tags"]), albums.get(asset_id, []), links,
                       preferred)  # fmt: skip
    return state


def test_identical_copies_of_a_library_mounted_elsewhere_each_get_their_own_record(
    settings, tmp_path
):  # fmt: skip
    library = _copies(tmp_path / "old" / "lib", "2023/beach.txt", "backup/beach.txt")
    services = _rebuilt(settings, library)
    try:
        ids = _ids_by_path(services)
        beach, backup = ids["2023/beach.txt"], ids["backup/beach.txt"]
        services.assets.update(beach, AssetPatch(title="Beach day", tags=["beach"]), viewer=SYSTEM)
        services.assets.update(backup, AssetPatch(title="Backup", tags=["old"]), viewer=SYSTEM)
        summer = services.albums.create("Summer", viewer=OWNER)["id"]
        services.albums.add(summer, [beach], viewer=OWNER)
        ada = services.links.create_entity("Person", "Ada")["id"]
        services.links.link(backup, ada, "depicts", viewer=OWNER)
        services.links.link(beach, backup, "related_to", viewer=OWNER)
        services.stacks.prefer(services.assets.get(backup, viewer=SYSTEM)["hash"], backup,
                               viewer=OWNER)  # fmt: skip
        before = _where_each_copy_went(services)
    finally:
        exported = _exported_and_closed(services)
    shutil.move(tmp_path / "old", tmp_path / "new")  # the same library, mounted elsewhere
    services = _rebuilt(settings, tmp_path / "new" / "lib")
    try:
        report = services.user_data.import_lines(io.StringIO(exported))
        assert report.unmatched == {}, report.unmatched_refs
        assert report.matched == {
            "user": 1, "entity": 1, "asset": 2, "album": 1, "link": 2, "preferred copy": 1,
        }  # fmt: skip
        assert _where_each_copy_went(services) == before == {
            "2023/beach.txt": ("Beach day", ["beach"], ["Summer"],
                               [("related_to", "backup/beach.txt")], False),
            "backup/beach.txt": ("Backup", ["old"], [],
                                 [("depicts", "Ada"), ("related_to", "2023/beach.txt")], True),
        }  # fmt: skip
    finally:
        services.database.dispose()


def test_one_of_two_identical_copies_moved_to_another_folder_keeps_its_own_record(
    settings, tmp_path
):  # fmt: skip
    library = _copies(tmp_path / "lib", "dup1/same.txt", "dup2/same.txt")
    services = _rebuilt(settings, library)
    try:
        ids = _ids_by_path(services)
        one, two = ids["dup1/same.txt"], ids["dup2/same.txt"]
        services.assets.update(one, AssetPatch(title="copy one", tags=["one"]), viewer=SYSTEM)
        services.assets.update(two, AssetPatch(title="copy two", tags=["two"]), viewer=SYSTEM)
        ones = services.albums.create("Ones", viewer=OWNER)["id"]
        services.albums.add(ones, [one], viewer=OWNER)
        alex = services.links.create_entity("Person", "Alex")["id"]
        services.links.link(one, alex, "depicts", viewer=OWNER)
    finally:
        exported = _exported_and_closed(services)
    (library / "other").mkdir()
    (library / "dup1/same.txt").rename(library / "other/same.txt")
    services = _rebuilt(settings, library)
    try:
        report = services.user_data.import_lines(io.StringIO(exported))
        assert report.unmatched == {}, report.unmatched_refs
        assert report.matched == {"user": 1, "entity": 1, "asset": 2, "album": 1, "link": 1}
        assert _where_each_copy_went(services) == {
            "other/same.txt": ("copy one", ["one"], ["Ones"], [("depicts", "Alex")], False),
            "dup2/same.txt": ("copy two", ["two"], [], [], False),
        }
    finally:
        services.database.dispose()


def test_the_copy_that_stayed_keeps_its_records_when_the_moved_copys_record_comes_first(
    settings, tmp_path
):  # fmt: skip
    """Of two identical pictures, the one moved since the export has the only file record (a
    title, tags), so an import meets it first; the one that stayed is named only later (a face
    drawn on it, an album). The copy where it stayed is still its own: the moved record takes
    the other copy, not the first of the same name."""
    library = tmp_path / "lib"
    for path in ("dup1/x.png", "dup2/x.png"):
        write_png(library / path, seed=7)
    services = _rebuilt(settings, library)
    try:
        ids = _ids_by_path(services)
        moved, stayed = ids["dup1/x.png"], ids["dup2/x.png"]
        services.assets.update(moved, AssetPatch(title="moved", tags=["one"]), viewer=SYSTEM)
        services.regions.create(moved, BOXES[0], viewer=OWNER)
        services.regions.create(stayed, BOXES[1], viewer=OWNER)
        twos = services.albums.create("Twos", viewer=OWNER)["id"]
        services.albums.add(twos, [stayed], viewer=OWNER)
    finally:
        exported = _exported_and_closed(services)
    (library / "other").mkdir()
    (library / "dup1/x.png").rename(library / "other/x.png")
    services = _rebuilt(settings, library)
    try:
        report = services.user_data.import_lines(io.StringIO(exported))
        assert report.unmatched == {}, report.unmatched_refs
        ids = _ids_by_path(services)
        boxes = {
            path: [r["bbox"] for r in services.regions.regions_of(ids[path], viewer=SYSTEM)]
            for path in ("dup2/x.png", "other/x.png")
        }
        assert boxes == {"dup2/x.png": [BOXES[1]], "other/x.png": [BOXES[0]]}
        assert _where_each_copy_went(services) == {
            "other/x.png": ("moved", ["one"], [], [], False),
            "dup2/x.png": (None, [], ["Twos"], [], False),
        }
    finally:
        services.database.dispose()


def test_a_record_whose_identical_copies_are_all_taken_is_reported_not_merged(
    settings, tmp_path
):  # fmt: skip
    library = _copies(tmp_path / "lib", "a/x.txt", "b/x.txt", "c/x.txt")
    services = _rebuilt(settings, library)
    try:
        ids = _ids_by_path(services)
        for name in "abc":
            patch = AssetPatch(title=f"copy {name}", tags=[name])
            services.assets.update(ids[f"{name}/x.txt"], patch, viewer=SYSTEM)
        bs = services.albums.create("Bs", viewer=OWNER)["id"]
        services.albums.add(bs, [ids["b/x.txt"]], viewer=OWNER)
    finally:
        exported = _exported_and_closed(services)
    (library / "b/x.txt").unlink()  # its record has no copy of its own left
    services = _rebuilt(settings, library)
    try:
        report = services.user_data.import_lines(io.StringIO(exported))
        assert report.matched == {"user": 1, "asset": 2, "album": 1}
        assert report.unmatched == {"asset": 1, "album member": 1}
        assert [r.split(":")[0] for r in report.unmatched_refs] == ["asset", "album member"]
        assert all("b/x.txt" in r for r in report.unmatched_refs)
        assert _where_each_copy_went(services) == {
            "a/x.txt": ("copy a", ["a"], [], [], False),
            "c/x.txt": ("copy c", ["c"], [], [], False),
        }
        assert [a["name"] for a in services.albums.tree(viewer=SYSTEM)] == ["Bs"]
    finally:
        services.database.dispose()


def test_a_link_that_cannot_be_made_here_is_reported_and_the_import_carries_on(
    settings, tmp_path
):  # fmt: skip
    library = _copies(tmp_path / "lib", "2023/beach.txt", "backup/beach.txt")
    services = _rebuilt(settings, library)
    try:
        ids = _ids_by_path(services)
        digest = services.assets.get(ids["2023/beach.txt"], viewer=SYSTEM)["hash"]
        beach, backup, folder = (
            {"hash": digest, "root": str(library), "path": "2023/beach.txt"},
            {"hash": digest, "root": str(library), "path": "backup/beach.txt"},
            {"hash": None, "root": str(library), "path": "2023"},
        )
        lines = [
            {"kind": "header", "format": "trove-user-data", "version": 2},
            {"kind": "asset", "ref": beach, "title": "Beach day", "tags": ["beach"]},
            {"kind": "link", "source": beach, "target": beach, "relation": "related_to"},
            {"kind": "link", "source": beach, "target": folder, "relation": "owns"},
            {"kind": "link", "source": beach, "target": backup, "relation": "related_to"},
            {"kind": "preferred_copy", "ref": backup},
        ]
        report = services.user_data.import_lines(json.dumps(r) + "\n" for r in lines)
        assert report.matched == {"asset": 1, "link": 1, "preferred copy": 1}
        assert report.unmatched == {"link": 2}
        self_link, cycle = report.unmatched_refs
        assert self_link.startswith("link: related_to") and "linked to itself" in self_link
        assert cycle.startswith("link: owns") and "would make a cycle" in cycle
        assert f"{library}/2023/beach.txt -> {library}/2023:" in cycle
        assert _where_each_copy_went(services) == {
            "2023/beach.txt": ("Beach day", ["beach"], [], [("related_to", "backup/beach.txt")],
                               False),
            "backup/beach.txt": (None, [], [], [("related_to", "2023/beach.txt")], True),
        }  # fmt: skip
    finally:
        services.database.dispose()
