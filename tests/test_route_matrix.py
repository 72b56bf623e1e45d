"""The route-policy matrix: every API route in the app's table, asked by an anonymous caller,
the owner of the data it names, another member, an admin and a share-link holder, answers
what the route's policy and the viewer-scoped repositories say it must (both databases).

A route missing from SAMPLES fails the first test: a new route has to say here what it is
asked with, so the matrix always covers the whole table.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image

from tests.accounts import ADMIN, MEMBER, ORIGIN, add_accounts, sign_in, with_sign_in
from tests.media import write_jpeg
from tests.routes import api_routes as all_routes
from trove.api.deps import admin, public_access
from trove.config import Settings

ROLES = ("anonymous", "holder", "member", "owner", "admin")
OTHER = ("carol", "carol-secret-3")
OK = frozenset(range(200, 300))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_sign_in(settings)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    write_jpeg(tmp_path / "library" / "indexed.jpg", seed=9)
    return tmp_path / "library"


@dataclass
class Things:
    """One set of Bob's things; the owner acts on one set, the admin on another, so that
    deleting (the last routes asked) leaves the other's intact."""

    asset: str
    album: str
    link: str
    share: str
    token: str


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    owner: Things
    spare: Things
    second: str  # another of Bob's assets (the far end of his links)
    entity: str
    root: str
    member_id: str  # Carol's user id


@pytest.fixture
def world(client: TestClient) -> World:
    services = client.app.state.services  # type: ignore[attr-defined]
    add_accounts(services)
    carol = services.users.add_user(*OTHER)
    bob = sign_in(client, *MEMBER)
    headers = {
        "anonymous": {"Origin": ORIGIN},
        "holder": {"Origin": ORIGIN},
        "member": sign_in(client, *OTHER),
        "owner": bob,
        "admin": sign_in(client, *ADMIN),
    }

    def upload(name: str, seed: int) -> str:
        image = io.BytesIO()
        Image.new("RGB", (16, 12), (seed * 20 % 255, 90, 160)).save(image, "JPEG")
        answer = client.post(
            "/api/dam/upload", headers=bob, files={"file": (name, image.getvalue(), "image/jpeg")}
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    second = upload("second.jpg", 1)

    def things(name: str, seed: int) -> Things:
        asset = upload(f"{name}.jpg", seed)
        album = client.post("/api/dam/albums", headers=bob, json={"name": name}).json()["id"]
        client.post(f"/api/dam/albums/{album}/assets", headers=bob, json={"asset_ids": [asset]})
        link = client.post(
            "/api/dam/links",
            headers=bob,
            json={"source_id": asset, "target_id": second, "relation": "related_to"},
        ).json()["id"]
        share = client.post("/api/dam/shares", headers=bob, json={"asset_id": asset}).json()
        return Things(asset, album, link, share["id"], share["token"])

    entity = client.post(
        "/api/dam/entities", headers=bob, json={"type": "Person", "name": "Ada"}
    ).json()["id"]
    roots = client.get("/api/dam/roots", headers=headers["admin"]).json()["items"]
    (root,) = [r["id"] for r in roots if not r["is_upload_target"]]  # not Bob's uploads
    return World(headers, things("mine", 2), things("spare", 3), second, entity, root, carol["id"])


Request = tuple[str, dict[str, Any]]  # path, and keyword arguments of TestClient.request


@dataclass(frozen=True)
class Sample:
    """How a route is asked, for the given set of Bob's things, and what each role gets
    where the route's policy alone does not say (`expect`)."""

    ask: Callable[[World, Things], Request]
    expect: dict[str, frozenset[int]] = field(default_factory=dict)
    last: int = 0  # asked after the others, in this order (it deletes something)


def _path(template: str) -> Callable[[World, Things], Request]:
    def ask(w: World, t: Things) -> Request:
        return template.format(w=w, t=t), {}

    return ask


def _json(
    template: str, body: Callable[[World, Things], Any]
) -> Callable[[World, Things], Request]:
    def ask(w: World, t: Things) -> Request:
        return template.format(w=w, t=t), {"json": body(w, t)}

    return ask


HIDDEN = frozenset({404})
TUS = OK | frozenset({400, 404, 412, 415})
SIGNED_OUT = frozenset({401})
ADMINS_ONLY = frozenset({403})
A = "/api/dam"

SAMPLES: dict[str, Sample] = {
    # sign-in (its own tests are in test_auth.py): public, and never a 500
    f"POST {A}/auth/login": Sample(
        _json(f"{A}/auth/login", lambda w, t: {"username": "nobody", "password": "x"}),
        {r: frozenset({401}) for r in ROLES},
    ),
    f"GET {A}/auth/me": Sample(_path(f"{A}/auth/me")),
    f"POST {A}/auth/setup": Sample(
        _json(f"{A}/auth/setup", lambda w, t: {"username": "eve", "password": "eve-secret-1"}),
        {r: frozenset({403, 409}) for r in ROLES},
    ),
    f"POST {A}/auth/logout": Sample(_path(f"{A}/auth/logout"), {}, last=99),
    f"GET {A}/health": Sample(_path(f"{A}/health"), {r: OK | {503} for r in ROLES}),
    # assets
    f"GET {A}/assets": Sample(_path(f"{A}/assets")),
    f"GET {A}/assets/{{asset_id}}": Sample(_path(A + "/assets/{t.asset}")),
    f"PATCH {A}/assets/{{asset_id}}": Sample(
        _json(A + "/assets/{t.asset}", lambda w, t: {"title": "x", "visibility": "shared"})
    ),
    f"POST {A}/assets/{{asset_id}}/restore": Sample(_path(A + "/assets/{t.asset}/restore")),
    f"GET {A}/assets/{{asset_id}}/file": Sample(_path(A + "/assets/{t.asset}/file")),
    f"GET {A}/assets/{{asset_id}}/thumbnail/{{size}}": Sample(
        _path(A + "/assets/{t.asset}/thumbnail/small"),
        {"owner": OK | HIDDEN, "admin": OK | HIDDEN},  # 404 until the preview is made
    ),
    # the editor: 409 while the upload is not fingerprinted yet
    f"GET {A}/assets/{{asset_id}}/edits": Sample(_path(A + "/assets/{t.asset}/edits")),
    f"PUT {A}/assets/{{asset_id}}/edits": Sample(
        _json(A + "/assets/{t.asset}/edits", lambda w, t: {"edits": [{"op": "flip", "axis": "h"}]}),
        {"owner": OK | {409}, "admin": OK | {409}},
    ),
    f"DELETE {A}/assets/{{asset_id}}/edits": Sample(
        _path(A + "/assets/{t.asset}/edits"), {"owner": OK | {409}, "admin": OK | {409}}
    ),
    f"GET {A}/assets/{{asset_id}}/neighbours": Sample(_path(A + "/assets/{t.asset}/neighbours")),
    f"GET {A}/assets/{{asset_id}}/entries/{{index}}": Sample(
        _path(A + "/assets/{t.asset}/entries/0"),
        {"owner": HIDDEN, "admin": HIDDEN},  # a photo has no entries
    ),
    f"GET {A}/assets/{{asset_id}}/entries/{{index}}/preview": Sample(
        _path(A + "/assets/{t.asset}/entries/0/preview"), {"owner": HIDDEN, "admin": HIDDEN}
    ),
    f"POST {A}/assets/{{asset_id}}/install": Sample(
        _path(A + "/assets/{t.asset}/install"), {"owner": ADMINS_ONLY, "admin": HIDDEN}
    ),
    f"POST {A}/assets/bulk/tags": Sample(
        _json(f"{A}/assets/bulk/tags", lambda w, t: {"ids": [t.asset], "tags": ["x"]}),
        {"member": OK},  # nothing it may see: updated 0 (checked below)
    ),
    f"POST {A}/upload": Sample(
        lambda w, t: (f"{A}/upload", {"files": {"file": ("new.txt", b"hi", "text/plain")}}),
        {"member": OK},
    ),
    f"GET {A}/tags": Sample(_path(f"{A}/tags")),
    # graph
    f"GET {A}/graph/neighbors/{{node_id}}": Sample(_path(A + "/graph/neighbors/{t.asset}")),
    f"GET {A}/graph/path": Sample(
        lambda w, t: (f"{A}/graph/path", {"params": {"from": t.asset, "to": w.second}}),
        {"member": HIDDEN},  # the ids are in the query, not the path
    ),
    f"GET {A}/graph/impact/{{node_id}}": Sample(_path(A + "/graph/impact/{t.asset}")),
    f"POST {A}/links": Sample(
        _json(
            f"{A}/links",
            lambda w, t: {"source_id": t.asset, "target_id": w.second, "relation": "depicts"},
        ),
        {"member": HIDDEN},
    ),
    f"GET {A}/entities": Sample(_path(f"{A}/entities"), {"member": OK}),
    f"POST {A}/entities": Sample(
        _json(f"{A}/entities", lambda w, t: {"type": "Place", "name": "Oslo"}), {"member": OK}
    ),
    # albums
    f"GET {A}/albums": Sample(_path(f"{A}/albums"), {"member": OK}),
    f"POST {A}/albums": Sample(_json(f"{A}/albums", lambda w, t: {"name": "n"}), {"member": OK}),
    f"GET {A}/albums/{{album_id}}": Sample(_path(A + "/albums/{t.album}")),
    f"PATCH {A}/albums/{{album_id}}": Sample(
        _json(A + "/albums/{t.album}", lambda w, t: {"description": "d"})
    ),
    f"GET {A}/albums/{{album_id}}/assets": Sample(_path(A + "/albums/{t.album}/assets")),
    f"POST {A}/albums/{{album_id}}/assets": Sample(
        _json(A + "/albums/{t.album}/assets", lambda w, t: {"asset_ids": [w.second]})
    ),
    # library, maintenance, progress
    f"GET {A}/status": Sample(_path(f"{A}/status"), {"member": OK}),
    f"GET {A}/roots": Sample(_path(f"{A}/roots"), {"member": OK}),
    f"POST {A}/roots": Sample(
        _json(f"{A}/roots", lambda w, t: {"path": "/nonexistent-trove-root"}),
        {"owner": ADMINS_ONLY, "member": ADMINS_ONLY, "admin": frozenset({400, 403, 422})},
    ),
    f"POST {A}/roots/{{root_id}}/scan": Sample(_path(A + "/roots/{w.root}/scan")),
    f"GET {A}/duplicates": Sample(_path(f"{A}/duplicates")),
    f"PUT {A}/duplicates/{{content_hash}}/preferred": Sample(  # not a copy of that hash
        _json(f"{A}/duplicates/{'0' * 64}/preferred", lambda w, t: {"asset_id": t.asset}),
        {"admin": frozenset({422})},
    ),
    f"GET {A}/assets/{{asset_id}}/stack": Sample(_path(A + "/assets/{t.asset}/stack")),
    # the Trash
    f"GET {A}/trash": Sample(_path(f"{A}/trash"), {"member": OK}),
    f"POST {A}/trash/restore": Sample(
        _json(f"{A}/trash/restore", lambda w, t: {"ids": [t.asset]}), {"member": OK}
    ),
    f"GET {A}/integrity": Sample(_path(f"{A}/integrity"), {"member": OK}),
    f"POST {A}/integrity/verify": Sample(_path(f"{A}/integrity/verify")),
    f"GET {A}/jobs": Sample(_path(f"{A}/jobs"), {"member": OK}),
    f"GET {A}/places/markers": Sample(
        lambda w, t: (
            f"{A}/places/markers",
            {"params": {"west": -180, "south": -85, "east": 180, "north": 85, "zoom": 2}},
        ),
        {"member": OK},
    ),
    f"GET {A}/people": Sample(_path(f"{A}/people"), {"member": OK}),
    f"POST {A}/people/name": Sample(  # a face on no photo: not found, whoever asks
        _json(f"{A}/people/name", lambda w, t: {"faces": [f"{t.asset}:0"], "name": "Ada"}),
        {"owner": HIDDEN, "member": HIDDEN, "admin": HIDDEN},
    ),
    f"POST {A}/people/{{person_id}}/merge": Sample(  # people are not anyone's: as entities
        _json(A + "/people/{w.entity}/merge", lambda w, t: {"people": [w.entity]}),
        {"member": OK},
    ),
    f"GET {A}/search/meaning": Sample(  # off in this app: refused as a bad query
        lambda w, t: (f"{A}/search/meaning", {"params": {"q": "dog"}}),
        {"owner": frozenset({422}), "member": frozenset({422}), "admin": frozenset({422})},
    ),
    f"GET {A}/search/suggestions": Sample(
        lambda w, t: (f"{A}/search/suggestions", {"params": {"q": "mi"}}), {"member": OK}
    ),
    f"GET {A}/timeline": Sample(_path(f"{A}/timeline"), {"member": OK}),
    f"GET {A}/schemas": Sample(_path(f"{A}/schemas"), {"member": OK}),
    f"POST {A}/assets/virtual": Sample(  # refused content: nothing is made, nothing fetched
        _json(f"{A}/assets/virtual", lambda w, t: {"asset_type": "nope", "data": {}}),
        {r: frozenset({422}) for r in ("member", "owner", "admin")},
    ),
    # resumable uploads (TUS): signed in, the protocol's own answers to a bare request
    **{
        f"{method} {A}/uploads/tus{tail}": Sample(
            _path(f"{A}/uploads/tus{tail}".replace("{uuid}", "0" * 32)),
            {r: TUS for r in ("member", "owner", "admin")},
        )
        for method, tail in (
            ("OPTIONS", "/"),
            ("POST", "/"),
            ("POST", ""),
            ("PATCH", "/{uuid}"),
            ("DELETE", "/{uuid}"),
        )
    },
    # library management (admins)
    f"GET {A}/folders": Sample(_path(f"{A}/folders"), {"admin": OK | {403, 422}}),
    f"GET {A}/roots/{{root_id}}/members": Sample(_path(A + "/roots/{w.root}/members")),
    f"PUT {A}/roots/{{root_id}}/members/{{user_id}}": Sample(
        _json(A + "/roots/{w.root}/members/{w.member_id}", lambda w, t: {"can_write": False})
    ),
    f"DELETE {A}/roots/{{root_id}}/members/{{user_id}}": Sample(
        _path(A + "/roots/{w.root}/members/{w.member_id}"), last=7
    ),
    f"PATCH {A}/roots/{{root_id}}": Sample(_json(A + "/roots/{w.root}", lambda w, t: {})),
    f"GET {A}/roots/{{root_id}}/removal": Sample(_path(A + "/roots/{w.root}/removal")),
    f"POST {A}/roots/{{root_id}}/relocate": Sample(
        _json(A + "/roots/{w.root}/relocate", lambda w, t: {"new_path": "/nonexistent-trove"}),
        {"admin": frozenset({400, 403})},
    ),
    f"GET {A}/roots/relocation-offer": Sample(
        _path(f"{A}/roots/relocation-offer?path=/tmp"), {"admin": frozenset({400, 403})}
    ),
    f"DELETE {A}/roots/{{root_id}}": Sample(_path(A + "/roots/{w.root}"), last=98),
    # share links: an owner's, and a holder's four reads
    f"POST {A}/shares": Sample(
        _json(f"{A}/shares", lambda w, t: {"asset_id": t.asset}), {"member": HIDDEN}
    ),
    f"GET {A}/shares": Sample(_path(f"{A}/shares"), {"member": OK}),
    f"POST {A}/shared/{{token}}/unlock": Sample(
        _json(A + "/shared/{t.token}/unlock", lambda w, t: {"password": "x"}),
        {r: OK for r in ROLES},  # no password: the empty key
    ),
    f"GET {A}/shared/{{token}}/assets": Sample(
        _path(A + "/shared/{t.token}/assets"), {r: OK for r in ROLES}
    ),
    f"GET {A}/shared/{{token}}/assets/{{asset_id}}": Sample(
        _path(A + "/shared/{t.token}/assets/{t.asset}"), {r: OK for r in ROLES}
    ),
    f"GET {A}/shared/{{token}}/assets/{{asset_id}}/thumbnail/{{size}}": Sample(
        _path(A + "/shared/{t.token}/assets/{t.asset}/thumbnail/small"),
        {r: OK | HIDDEN for r in ROLES},
    ),
    f"GET {A}/shared/{{token}}/assets/{{asset_id}}/file": Sample(
        _path(A + "/shared/{t.token}/assets/{t.asset}/file"),
        {r: frozenset({403}) for r in ROLES},  # downloads not allowed on this share
    ),
    # what deletes, last
    f"DELETE {A}/links/{{link_id}}": Sample(_path(A + "/links/{t.link}"), last=1),
    f"DELETE {A}/shares/{{share_id}}": Sample(_path(A + "/shares/{t.share}"), last=2),
    f"DELETE {A}/albums/{{album_id}}/assets": Sample(
        _json(A + "/albums/{t.album}/assets", lambda w, t: {"asset_ids": [t.asset]}), last=3
    ),
    f"DELETE {A}/albums/{{album_id}}": Sample(_path(A + "/albums/{t.album}"), last=4),
    f"POST {A}/assets/bulk/delete": Sample(
        _json(f"{A}/assets/bulk/delete", lambda w, t: {"ids": [t.asset]}),
        {"member": OK},
        last=5,
    ),
    f"DELETE {A}/assets/{{asset_id}}": Sample(_path(A + "/assets/{t.asset}"), last=6),
    f"DELETE {A}/trash/{{asset_id}}": Sample(_path(A + "/trash/{t.asset}"), last=8),
    f"DELETE {A}/trash": Sample(_path(f"{A}/trash"), {"member": OK}, last=9),
}


def api_routes(client: TestClient) -> dict[str, APIRoute]:
    return {
        f"{method} {route.path}": route
        for route in all_routes(client.app.routes)  # type: ignore[attr-defined]
        if route.path.startswith("/api/") and route.include_in_schema
        for method in sorted(route.methods)
        if method != "HEAD"
    }


def expected(key: str, route: APIRoute, role: str) -> frozenset[int]:
    sample = SAMPLES[key]
    if role in sample.expect:
        return sample.expect[role]
    policies = {dependency.call for dependency in route.dependant.dependencies}
    if public_access in policies:
        return OK
    if role in ("anonymous", "holder"):
        return SIGNED_OUT
    if admin in policies:
        return OK if role == "admin" else ADMINS_ONLY
    if role == "member" and "{" in route.path:
        return HIDDEN  # Bob's asset, album, link or share: not revealed to Carol
    return OK


def test_every_api_route_is_in_the_matrix(client):
    assert sorted(set(api_routes(client)) - set(SAMPLES)) == []
    assert sorted(set(SAMPLES) - set(api_routes(client))) == []


def test_each_route_answers_anonymous_owner_member_admin_and_share_holder_as_its_policy_says(
    client, world
):
    routes = api_routes(client)
    failures = []
    for key in sorted(routes, key=lambda k: (SAMPLES[k].last, k)):
        route, sample = routes[key], SAMPLES[key]
        method = key.split(" ", 1)[0]
        for role in ROLES:
            things = world.spare if role == "admin" else world.owner
            path, kwargs = sample.ask(world, things)
            answer = client.request(method, path, headers=world.headers[role], **kwargs)
            if answer.status_code not in expected(key, route, role):
                failures.append(f"{key} as {role}: {answer.status_code} {answer.text[:120]}")
            assert answer.status_code < 500, f"{key} as {role}: {answer.text}"
    assert failures == [], "\n".join(failures)


def test_what_a_member_may_list_never_holds_another_member_s_assets(client, world):
    carol = world.headers["member"]
    hidden = {world.owner.asset, world.spare.asset, world.second}
    listed = {i["id"] for i in client.get(f"{A}/assets", headers=carol).json()["items"]}
    assert listed & hidden == set()
    tagged = client.post(
        f"{A}/assets/bulk/tags", headers=carol, json={"ids": sorted(hidden), "tags": ["x"]}
    )
    assert tagged.json() == {"updated": 0}
    assert client.get(f"{A}/albums", headers=carol).json()["items"] == []
    assert client.get(f"{A}/roots", headers=carol).json()["items"] == []
    assert client.get(f"{A}/shares", headers=carol).json()["items"] == []
    bob = world.headers["owner"]
    assert {i["id"] for i in client.get(f"{A}/assets", headers=bob).json()["items"]} >= hidden
