"""Who sees what, through the services (the same calls the API and the UI make): every read
of assets is narrowed by the one predicate in repositories/access.py, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import false, select

from tests.media import write_jpeg
from trove.db.models import OWNER_ID, AssetGrant, RootMember, User
from trove.domain.access import Viewer
from trove.domain.filters import AssetFilters
from trove.repositories._sql import utcnow
from trove.repositories.roots import RootRepository
from trove.services.albums import AlbumPatch
from trove.services.assets import AssetPatch
from trove.services.container import Services
from trove.services.errors import Forbidden, Gone, NotFound

SYSTEM = Viewer.system()
ADMIN = Viewer(user_id=OWNER_ID, is_admin=True)


@pytest.fixture
def libraries(tmp_path: Path) -> dict[str, Path]:
    found = {}
    for name in ("family", "work"):
        for i in range(3):
            write_jpeg(tmp_path / name / f"{name}_{i}.jpg", seed=i + (10 if name == "work" else 0))
        found[name] = tmp_path / name
    return found


@pytest.fixture
def services(settings, libraries) -> Iterator[Services]:
    """Two libraries scanned as `trove scan` does (they belong to the first admin), and two
    members who have been assigned nothing yet."""
    services = Services.create(settings)
    services.library.scan_and_process([str(p) for p in libraries.values()], wait=True)
    with services.database.session() as session:
        for name in ("alice", "bob"):
            session.add(User(id=_user(name), name=name, created_at=utcnow()))
    try:
        yield services
    finally:
        services.database.dispose()


def _user(name: str) -> str:
    return {"alice": "00000000-0000-7000-8000-0000000000a1"}.get(
        name, "00000000-0000-7000-8000-0000000000b0"
    )


ALICE = Viewer(user_id=_user("alice"))
BOB = Viewer(user_id=_user("bob"))


def files(services: Services, viewer: Viewer) -> dict[str, str]:
    page = services.assets.list(AssetFilters(type=["image"], limit=1000), viewer=viewer)
    return {item["filename"]: item["id"] for item in page.items}


def assign(services: Services, library: Path, user: str, *, can_write: bool = False) -> None:
    with services.database.session() as session:
        root = RootRepository(session).by_path(str(library.resolve()))
        assert root is not None
        session.merge(RootMember(root_id=root.id, user_id=user, can_write=can_write))


def grant(services: Services, asset_id: str, user: str) -> None:
    with services.database.session() as session:
        session.add(AssetGrant(asset_id=asset_id, user_id=user, created_at=utcnow()))


def test_a_scanned_library_belongs_to_the_first_admin_and_a_member_sees_it_only_once_assigned(
    services, libraries
):
    everything = files(services, ADMIN)
    assert len(everything) == 6
    assert files(services, ALICE) == {}
    assert services.library.status(viewer=ALICE)["roots"] == []
    photo = everything["family_0.jpg"]
    for read in (
        lambda: services.assets.get(photo, viewer=ALICE),
        lambda: services.media.thumbnail(photo, "small", viewer=ALICE),
        lambda: services.assets.original(photo, viewer=ALICE),
        lambda: services.links.get_neighbors(photo, viewer=ALICE),
    ):
        with pytest.raises(NotFound):
            read()

    assign(services, libraries["family"], _user("alice"))
    assert set(files(services, ALICE)) == {"family_0.jpg", "family_1.jpg", "family_2.jpg"}
    assert [r["name"] for r in services.library.status(viewer=ALICE)["roots"]] == ["family"]
    assert services.media.thumbnail(photo, "small", viewer=ALICE).is_file()
    services.assets.original(photo, viewer=ALICE).file.close()
    assert files(services, BOB) == {}  # assigned to Alice, not to Bob


def test_tag_counts_and_status_count_only_the_assets_the_viewer_sees(services, libraries):
    everything = files(services, ADMIN)
    services.assets.update(everything["work_0.jpg"], AssetPatch(tags=["secret"]), viewer=ADMIN)
    services.assets.update(everything["family_0.jpg"], AssetPatch(tags=["beach"]), viewer=ADMIN)
    assign(services, libraries["family"], _user("alice"))
    assert services.assets.tag_counts(viewer=ALICE) == [{"tag": "beach", "count": 1}]
    assert {t["tag"] for t in services.assets.tag_counts(viewer=ADMIN)} == {"beach", "secret"}
    assert services.library.status(viewer=ALICE)["by_type"]["image"] == 3
    # The step outcomes are the whole index's (6 files hashed): an admin's to see alone.
    assert services.library.status(viewer=ADMIN)["steps"]["hash"] == {"ok": 6}
    assert services.library.status(viewer=ALICE)["steps"] == {}
    # So are the outcome counts of the pipeline's progress; how busy it is stays.
    assert services.media.jobs(viewer=ADMIN)["steps"]["hash"]["done"] == 6
    alices = services.media.jobs(viewer=ALICE)["steps"]["hash"]
    assert (alices["done"], alices["failed"]) == (0, 0) and "per_minute" in alices
    assert services.library.status(viewer=ALICE)["jobs"]["steps"]["hash"]["done"] == 0


def test_is_duplicate_counts_only_the_copies_the_viewer_may_see(services, libraries):
    """A file whose only copy lies in a library the member cannot open is not a duplicate
    for them: `is:duplicate` would tell that the other library holds the same bytes."""
    import shutil

    shutil.copy(libraries["family"] / "family_0.jpg", libraries["work"] / "copy.jpg")
    services.library.scan_and_process([str(libraries["work"])], wait=True)
    assign(services, libraries["family"], _user("alice"))

    def duplicates(viewer: Viewer) -> list[str]:
        page = services.assets.list(AssetFilters(q="is:duplicate", limit=100), viewer=viewer)
        return sorted(item["filename"] for item in page.items)

    assert duplicates(ADMIN) == ["copy.jpg", "family_0.jpg"]
    assert duplicates(ALICE) == []
    assign(services, libraries["work"], _user("alice"))
    assert duplicates(ALICE) == ["copy.jpg", "family_0.jpg"]


def test_a_public_albums_collage_is_not_shown_to_one_who_may_not_see_its_pictures(
    services, libraries
):
    """The collage is drawn from the album's first members whoever looks: a member who may
    see a public album of a library they cannot open got its pictures (and their content
    hashes in the album's metadata) through it."""
    everything = files(services, ADMIN)
    work = [everything["work_0.jpg"], everything["work_1.jpg"]]
    album = services.albums.create("Work trip", asset_ids=work, viewer=ADMIN)
    services.assets.update(album["id"], AssetPatch(visibility="public"), viewer=ADMIN)
    services.library.pipeline().run_pending()  # the collage is drawn
    assign(services, libraries["family"], _user("alice"))

    assert services.media.thumbnail(album["id"], "medium", viewer=ADMIN).is_file()
    assert services.assets.get(album["id"], viewer=ADMIN)["metadata"]["album"]["preview_sources"]
    with pytest.raises(NotFound, match="shows pictures you may not see"):
        services.media.thumbnail(album["id"], "medium", viewer=ALICE)
    assert (
        "preview_sources" not in services.assets.get(album["id"], viewer=ALICE)["metadata"]["album"]
    )
    assign(services, libraries["work"], _user("alice"))  # now she sees its pictures
    assert services.media.thumbnail(album["id"], "medium", viewer=ALICE).is_file()
    services.assets.delete(work[1], viewer=ADMIN)  # in the Trash, still in the collage
    assert services.media.thumbnail(album["id"], "medium", viewer=ALICE).is_file()


def test_an_albums_tile_has_no_preview_urls_for_one_who_may_not_see_its_collage(
    services, libraries
):
    """The tile would show a broken image where the empty album's icon belongs: the
    listings leave out the URLs of a collage that answers 404, and keep the others'."""
    everything = files(services, ADMIN)
    work = services.albums.create("Work trip", asset_ids=[everything["work_0.jpg"]], viewer=ADMIN)
    family = services.albums.create(
        "Beach", asset_ids=[everything["family_0.jpg"]], parent_id=work["id"], viewer=ADMIN
    )
    for album in (work, family):
        services.assets.update(album["id"], AssetPatch(visibility="public"), viewer=ADMIN)
    services.library.pipeline().run_pending()  # the collages are drawn
    assign(services, libraries["family"], _user("alice"))

    def tiles(viewer: Viewer) -> dict[str, dict]:
        top = services.albums.tree(viewer=viewer)
        listed = services.assets.list(AssetFilters(type=["collection"], limit=100), viewer=viewer)
        overview = services.albums.overview(work["id"], viewer=viewer)
        around = services.links.get_neighbors(family["id"], "contains", viewer=viewer)
        return {
            "graph": around["items"][0]["node"]["asset"]["thumbnails"],
            "tree": top[0]["thumbnails"],
            "tree child": top[0]["children"][0]["thumbnails"],
            "listing": {a["filename"]: a["thumbnails"] for a in listed.items}["Work trip"],
            "overview": overview["album"]["thumbnails"],
            "overview child": overview["children"][0]["thumbnails"],
            "album": services.albums.get(work["id"], viewer=viewer)["thumbnails"],
            "asset": services.assets.get(work["id"], viewer=viewer)["thumbnails"],
        }

    def collage_keys(viewer: Viewer) -> tuple[str | None, str | None, str | None, dict]:
        """The cache URN and the hash of the collage's pictures, from which a viewer could
        confirm which pictures are in it; and the album as its own stack shows it."""
        detail = services.assets.get(work["id"], viewer=viewer)
        (stacked,) = services.stacks.members(work["id"], viewer=viewer)
        return detail["thumbnail_urn"], detail["hash"], stacked["hash"], stacked["thumbnails"]

    admins = tiles(ADMIN)
    assert all(set(urls) == {"small", "medium", "large"} for urls in admins.values()), admins
    assert all(collage_keys(ADMIN))
    alices = tiles(ALICE)
    beach = alices.pop("tree child"), alices.pop("overview child")  # a picture she may see
    assert beach == (admins["tree child"], admins["overview child"])
    assert alices == {where: {} for where in alices}
    assert collage_keys(ALICE) == (None, None, None, {})
    assign(services, libraries["work"], _user("alice"))  # now she sees its pictures
    assert tiles(ALICE) == admins
    assert collage_keys(ALICE) == collage_keys(ADMIN)


def test_a_granted_album_shows_its_members_and_nothing_beside_them(services, libraries):
    everything = files(services, ADMIN)
    album = services.albums.create(
        "Trip", asset_ids=[everything["family_1.jpg"], everything["work_1.jpg"]], viewer=ADMIN
    )
    assert services.albums.tree(viewer=BOB) == []
    grant(services, album["id"], _user("bob"))
    assert set(files(services, BOB)) == {"family_1.jpg", "work_1.jpg"}
    assert [a["name"] for a in services.albums.tree(viewer=BOB)] == ["Trip"]
    members, _ = services.albums.members(album["id"], viewer=BOB)
    assert len(members) == 2
    with pytest.raises(NotFound):
        services.assets.get(everything["family_0.jpg"], viewer=BOB)
    # a region is part of its picture: the owner's shows to whoever sees the picture, one
    # drawn by someone who only sees it stays theirs
    photo = everything["family_1.jpg"]
    drawn = services.regions.create(photo, [0.1, 0.1, 0.5, 0.5], viewer=ADMIN)
    assign(services, libraries["family"], _user("alice"))
    services.regions.create(photo, [0.2, 0.2, 0.3, 0.3], viewer=ALICE)
    assert [r["id"] for r in services.regions.regions_of(photo, viewer=BOB)] == [drawn["id"]]
    assert services.assets.get(drawn["id"], viewer=BOB)["id"] == drawn["id"]
    assert len(services.regions.regions_of(photo, viewer=ALICE)) == 2


def test_the_graph_never_reaches_or_passes_through_an_asset_the_viewer_may_not_see(
    services, libraries
):
    everything = files(services, ADMIN)
    visible, hidden, beyond = (
        everything["family_0.jpg"],
        everything["work_0.jpg"],
        everything["family_1.jpg"],
    )
    services.links.link(visible, hidden, "related_to", viewer=ADMIN)
    services.links.link(hidden, beyond, "related_to", viewer=ADMIN)
    assign(services, libraries["family"], _user("alice"))

    def reached(viewer: Viewer) -> set[str]:
        page = services.links.get_neighbors(visible, "related_to", depth=3, viewer=viewer)
        return {item["node"]["id"] for item in page["items"]}

    assert reached(ADMIN) == {hidden, beyond}
    assert reached(ALICE) == set()
    adjacent = services.links.get_neighbors(visible, "related_to", viewer=ALICE)
    assert adjacent["items"] == [] and adjacent["counts"] == {}
    with pytest.raises(NotFound):
        services.links.shortest_path(visible, beyond, "related_to", viewer=ALICE)
    assert (
        len(services.links.shortest_path(visible, beyond, "related_to", viewer=ADMIN)["edges"]) == 2
    )
    assert services.links.impact_analysis(visible, viewer=ALICE)["items"] == []
    services.assets.delete(hidden, viewer=ADMIN)  # the Trash hides it from the graph too
    assert reached(ADMIN) == set()
    assert services.links.get_neighbors(visible, "related_to", viewer=ADMIN)["items"] == []


def test_seeing_an_asset_is_not_changing_it_and_only_its_owner_or_an_admin_changes_who_sees_it(
    services, libraries
):
    photo = files(services, ADMIN)["family_0.jpg"]
    services.assets.update(photo, AssetPatch(visibility="public"), viewer=ADMIN)
    assign(services, libraries["family"], _user("alice"))  # read-only
    flip = [{"op": "flip", "axis": "h"}]
    changes = (
        (services.assets.update, AssetPatch(title="Mine")),
        (services.assets.update, AssetPatch(favorite=True)),
        (services.edits.save, flip),
        (services.edits.revert,),
        (services.assets.delete,),
    )
    for viewer in (ALICE, BOB):  # Bob sees it because it is public
        for change, *args in changes:
            with pytest.raises(Forbidden):
                change(photo, *args, viewer=viewer)
        assert services.assets.add_tags_many([photo], ["mine"], viewer=viewer) == 0
        assert services.assets.delete_many([photo], viewer=viewer) == 0
    unchanged = services.assets.get(photo, viewer=ADMIN)
    assert (unchanged["title"], unchanged["tags"], unchanged["version"]) == (None, [], 1)

    assign(services, libraries["family"], _user("alice"), can_write=True)
    edited = services.assets.update(photo, AssetPatch(title="Beach"), viewer=ALICE)
    assert edited["title"] == "Beach"
    assert services.assets.add_tags_many([photo], ["sea"], viewer=ALICE) == 1
    with pytest.raises(Forbidden):
        services.assets.update(photo, AssetPatch(visibility="private"), viewer=ALICE)
    with pytest.raises(Forbidden):
        services.assets.delete(photo, viewer=ALICE, hard=True)
    services.assets.update(photo, AssetPatch(visibility="private"), viewer=ADMIN)
    assert "family_0.jpg" not in files(services, BOB)


def test_an_album_belongs_to_its_creator_and_is_hidden_from_other_members(services, libraries):
    assign(services, libraries["family"], _user("alice"))
    assign(services, libraries["family"], _user("bob"))
    photo = files(services, ALICE)["family_0.jpg"]
    album = services.albums.create("Mine", asset_ids=[photo], viewer=ALICE)
    assert services.albums.get(album["id"], viewer=ALICE)["count"] == 1
    for attempt in (
        lambda: services.albums.get(album["id"], viewer=BOB),
        lambda: services.albums.update(album["id"], AlbumPatch(name="x"), viewer=BOB),
        lambda: services.albums.add(album["id"], [photo], viewer=BOB),
    ):
        with pytest.raises(NotFound):
            attempt()
    with pytest.raises(NotFound):  # an asset Alice may not see cannot go into her album
        services.albums.add(album["id"], [files(services, ADMIN)["work_0.jpg"]], viewer=ALICE)


def _web_copy(services: Services, original_id: str) -> str:
    """A web copy of the original in the cache, recorded as the transcode step records one."""
    from trove.repositories.proxies import Proxy, ProxyRepository
    from trove.storage import cache

    with services.database.session() as session:
        original = services.assets.get(original_id, viewer=SYSTEM)
        path = cache.derivative_path(
            services.settings.resolved_cache_dir, original["hash"], "w.webp"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF-webp")
        proxy = Proxy(
            storage_urn=cache.urn(original["hash"], "w.webp"),
            filename="w.webp",
            mime_type="image/webp",
            size=9,
            width=None,
            height=None,
            duration=None,
            meta={},
            timeline_at=utcnow(),
        )
        return ProxyRepository(session).save(
            proxy, original_id=original_id, relation="transformed_to", now=utcnow()
        )


def test_a_web_copy_is_served_to_whoever_sees_its_original_and_to_no_one_else(services, libraries):
    photo = files(services, ADMIN)["family_0.jpg"]
    copy_id = _web_copy(services, photo)
    with pytest.raises(NotFound):
        services.assets.original(copy_id, viewer=ALICE)
    assign(services, libraries["family"], _user("alice"))
    assert services.assets.get(photo, viewer=ALICE)["web_copy"]["id"] == copy_id
    served = services.assets.original(copy_id, viewer=ALICE)
    with served.file:
        assert served.file.read() == b"RIFF-webp"
    with pytest.raises(NotFound):
        services.assets.original(copy_id, viewer=BOB)
    with pytest.raises(NotFound):  # the copy is a way to its file, not to other records
        services.assets.get(copy_id, viewer=ALICE)
    services.assets.original(copy_id, viewer=ADMIN).file.close()


def test_the_lightbox_trail_names_no_album_or_asset_the_viewer_may_not_see(services):
    photo = files(services, ADMIN)["family_0.jpg"]
    outer = services.albums.create("Secret trip", viewer=ADMIN)
    inner = services.albums.create("Beach", viewer=ADMIN, parent_id=outer["id"])
    grant(services, inner["id"], _user("bob"))
    labels = [p["label"] for p in services.breadcrumbs.of(inner["id"], viewer=BOB)]
    assert "Secret trip" not in labels and labels[-1] == "Beach"
    assert "Secret trip" in [p["label"] for p in services.breadcrumbs.of(inner["id"], viewer=ADMIN)]
    with pytest.raises(NotFound):
        services.breadcrumbs.of(photo, viewer=BOB)


def test_an_album_suggestion_counts_only_the_members_the_viewer_sees(services, libraries):
    everything = files(services, ADMIN)
    album = services.albums.create(
        "Holiday", asset_ids=[everything["family_1.jpg"], everything["work_1.jpg"]], viewer=ADMIN
    )
    services.assets.update(album["id"], AssetPatch(visibility="public"), viewer=ADMIN)
    assign(services, libraries["family"], _user("alice"))

    def counted(viewer: Viewer) -> list[tuple[str, int]]:
        found = services.search.suggestions(viewer, "holi", kinds=["album"])
        return [(s.value, s.count) for s in found]

    assert counted(ADMIN) == [("Holiday", 2)]
    assert counted(ALICE) == [("Holiday", 1)]


@pytest.mark.parametrize("common", [False, True], ids=["rare", "common"])
def test_a_search_finds_nothing_through_the_name_of_an_album_the_viewer_may_not_see(
    services, libraries, monkeypatch, common
):
    """Also with every word taken as common: its page is then read down the timeline,
    probing each row, and the viewer's scope still holds."""
    if common:
        monkeypatch.setattr("trove.repositories.search.MANY_MATCHES", 1)
        monkeypatch.setattr("trove.repositories.search.RANK_CANDIDATES", 1)
        monkeypatch.setattr("trove.repositories.search.SQLITE_RANK_CANDIDATES", 1)
    assign(services, libraries["family"], _user("bob"))
    photo = files(services, ADMIN)["family_0.jpg"]
    services.albums.create("Surprise party", asset_ids=[photo], viewer=ADMIN)

    def found(q: str, viewer: Viewer, sort: str | None = None) -> list[str]:
        filters = AssetFilters(q=q, type=["image"], sort=sort)
        return sorted(
            item["filename"] for item in services.assets.list(filters, viewer=viewer).items
        )

    work = ["work_0.jpg", "work_1.jpg", "work_2.jpg"]
    for sort in (None, "-timeline_at"):
        for q in ("album:surprise", "surprise"):
            assert found(q, ADMIN, sort) == ["family_0.jpg"], q
            assert found(q, BOB, sort) == [], q  # Bob sees the photo, not the album naming it
        assert found("work", ADMIN, sort) == work  # the folder's name
        assert found("work", BOB, sort) == []  # a library Bob is not in
        assert found("family", BOB, sort) == ["family_0.jpg", "family_1.jpg", "family_2.jpg"]


def test_the_months_a_sampled_rail_missed_count_only_what_the_viewer_may_see(
    services, libraries, monkeypatch
):
    """A rail drawn from a sample of the library (PostgreSQL, every word common) counts the
    months the sample missed from their candidates: still only what the viewer sees, and
    nothing through an album they may not see."""
    assign(services, libraries["family"], _user("bob"))
    photo = files(services, ADMIN)["family_0.jpg"]
    services.albums.create("Surprise party", asset_ids=[photo], viewer=ADMIN)
    queries = ("surprise", "album:surprise", "work", "family")

    def rails(viewer: Viewer) -> dict[str, dict]:
        return {q: services.assets.timeline(AssetFilters(q=q), viewer) for q in queries}

    counted = {"admin": rails(ADMIN), "bob": rails(BOB)}
    assert counted["admin"]["surprise"]["months"] and not counted["bob"]["surprise"]["months"]
    assert counted["admin"]["work"]["months"] and not counted["bob"]["work"]["months"]
    monkeypatch.setattr("trove.repositories.search.MANY_MATCHES", 1)
    monkeypatch.setattr("trove.repositories.assets.SAMPLED_PAST", -1)
    monkeypatch.setattr("trove.repositories.assets.SAMPLE_MATCHES", 0)

    def nothing(table, *args, **kwargs):  # a sample that misses every month
        return select(table.c.id).where(false()).subquery()

    monkeypatch.setattr("trove.repositories.assets.tablesample", nothing)
    for name, viewer in (("admin", ADMIN), ("bob", BOB)):
        for q, rail in rails(viewer).items():
            assert {**rail, "estimated": False} == counted[name][q], (name, q)


def test_only_an_albums_owner_changes_what_it_includes_through_a_plain_link(services, libraries):
    everything = files(services, ADMIN)
    album = services.albums.create("Family", asset_ids=[everything["family_1.jpg"]], viewer=ADMIN)
    for user in ("alice", "bob"):
        grant(services, album["id"], _user(user))
    assign(services, libraries["work"], _user("bob"))
    with pytest.raises(Forbidden):  # Bob would hand Alice a photo of a library she is not in
        services.links.link(album["id"], everything["work_0.jpg"], "includes", viewer=BOB)
    assert set(files(services, ALICE)) == {"family_1.jpg"}
    included = services.links.get_neighbors(album["id"], "includes", viewer=BOB)["items"]
    with pytest.raises(Forbidden):
        services.links.unlink(included[0]["link_id"], viewer=BOB)
    own = services.albums.create("Bob's", viewer=BOB)
    services.links.link(own["id"], everything["work_0.jpg"], "includes", viewer=BOB)
    services.links.link(album["id"], everything["work_0.jpg"], "includes", viewer=ADMIN)
    assert set(files(services, ALICE)) == {"family_1.jpg", "work_0.jpg"}


def test_a_member_is_not_shown_the_scans_of_libraries_not_assigned_to_them(services, libraries):
    """Status names only the libraries the viewer is shown: the indexer's scans, queue and
    last error named every library's folder to every member (and the Libraries page showed
    "Scanning /their/folder")."""
    family, work = (str(libraries[name].resolve()) for name in ("family", "work"))
    services.indexer.start()
    try:
        for path in (family, work):
            services.indexer.request_scan(path)
        assert services.indexer.wait_idle(60)
    finally:
        services.indexer.stop()
    services.indexer.state.queued = [f"scan {work}"]
    services.indexer.state.last_error = f"scan {work}: it failed"
    assign(services, libraries["family"], _user("alice"))

    assert set(services.status(viewer=ADMIN)["indexer"]["last_scans"]) == {family, work}
    shown = services.status(viewer=ALICE)
    assert set(shown["indexer"]["last_scans"]) == {family}
    assert work not in json.dumps(shown, default=str)


def test_a_members_album_link_shows_only_their_own_files_of_what_the_album_includes(
    settings, services, libraries
):
    """Bob writes to a library Alice's admin owns, so he may put its photos in an album of
    his. Sharing it must not hand them to whoever holds the link: who else sees a file is its
    owner's call. An admin's link shows the whole album; the rule is read at each opening."""
    from tests.accounts import with_sign_in
    from trove.db.models import Asset

    signed = Services.create(with_sign_in(settings))
    try:
        with signed.database.session() as session:  # the first admin claims the owner's row
            session.get(User, OWNER_ID).is_admin = True
        assign(signed, libraries["family"], _user("bob"), can_write=True)
        family = files(signed, BOB)
        his = family["family_2.jpg"]
        with signed.database.session() as session:  # as an upload of his would be
            session.get(Asset, his).owner_id = _user("bob")
        # A region is its drawer's, but it shows its picture: Bob's over all of the admin's.
        region = signed.regions.create(family["family_1.jpg"], [0, 0, 1, 1], viewer=BOB)["id"]
        with pytest.raises(Forbidden):
            signed.shares.create(asset_id=region, viewer=BOB)
        members = [family["family_0.jpg"], family["family_1.jpg"], his, region]
        album = signed.albums.create("Bob's", asset_ids=members, viewer=BOB)
        bobs = signed.shares.create(album_id=album["id"], viewer=BOB)["token"]
        admins = signed.shares.create(album_id=album["id"], viewer=ADMIN)["token"]

        def shown(token: str) -> set[str]:
            """The album's members the link reaches by id; what it lists is among them."""
            holder = signed.shares.holder(token)
            listed = {a["id"] for a in signed.shares.assets(token, viewer=holder)["items"]}
            reached = set()
            for asset_id in members:
                try:
                    signed.shares.asset(token, asset_id, viewer=holder)
                    reached.add(asset_id)
                except NotFound:
                    pass
            assert listed <= reached and his in listed
            return reached

        assert shown(bobs) == {his}
        assert shown(admins) == set(members)
        # Nor through the album's own preview, a collage of its first members.
        signed.library.pipeline().run_pending()
        assert signed.media.thumbnail(album["id"], "small", viewer=signed.shares.holder(admins))
        with pytest.raises(NotFound):
            signed.media.thumbnail(album["id"], "small", viewer=signed.shares.holder(bobs))
        with signed.database.session() as session:
            session.get(User, _user("bob")).is_admin = True
        assert shown(bobs) == set(members)
        own = signed.shares.create(asset_id=his, viewer=BOB)["token"]
        picked = signed.picker.picked([his], viewer=ADMIN)[0]["public_url"]
        assert picked == f"/s/{own}"
        with signed.database.session() as session:
            session.get(User, _user("bob")).disabled_at = utcnow()
        for token in (bobs, own):
            with pytest.raises(Gone):
                signed.shares.holder(token)
        # The picker does not hand out a link that no longer answers.
        assert signed.picker.picked([his], viewer=ADMIN)[0]["public_url"] is None
        assert shown(admins) == set(members)
    finally:
        signed.database.dispose()
