"""What a caller who only reaches the port, or a web page the user visits, cannot do.

The app is the real one with Trove's default host rules: the test client speaks to it as
`localhost`. What is refused here is refused before a query is made, so on SQLite; the one
refusal that is the database's own is PostgreSQL's.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.media import make_library, write_jpeg, write_text
from trove.api.web_safety import HostPolicy
from trove.config import Settings
from trove.services.errors import Forbidden, Invalid
from trove.services.root_policy import check_requested_root

pytestmark = pytest.mark.databases("sqlite")

LOCAL = "http://localhost:8000"


@pytest.fixture
def library(tmp_path):
    root = make_library(tmp_path / "allowed" / "library")
    write_text(root / "web" / "page.svg", _svg("http://127.0.0.1:9/leak"))
    write_text(root / "web" / "page.html", "<script>alert(1)</script>")
    return root


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "allowed" / "data",
        database_url=database_url,
        allowed_roots=str(tmp_path / "allowed"),
        auth=False,
    )


@pytest.fixture
def client(settings, library):
    from trove.app import create_app

    app = create_app(settings, roots=[str(library)])
    with TestClient(app, base_url=LOCAL, raise_server_exceptions=False) as test_client:
        assert app.state.services.indexer.wait_idle(60)
        yield test_client


def _svg(url: str) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        f'<image href="{url}" width="10" height="10"/></svg>'
    )


def _asset(client, rel):
    items = client.get("/api/dam/assets", params={"limit": 1000}).json()["items"]
    (item,) = [i for i in items if i["path"] == rel]
    return item


def _cursor(value) -> str:  # type: ignore[no-untyped-def]
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _roots(client):
    return sorted(r["path"] for r in client.get("/api/dam/roots").json()["items"])


# --- Host allowlist ------------------------------------------------------------------------


def test_a_foreign_host_is_refused_with_json_and_loopback_names_are_answered(client, library):
    for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000", "app.localhost", "LOCALHOST"):
        assert client.get("/api/dam/status", headers={"Host": host}).status_code == 200, host
    for host in ("rebind.attacker.example", "evil.example:8000", "localhost.evil.example", ""):
        refused = client.get("/api/dam/status", headers={"Host": host})
        assert refused.status_code == 400, host
        assert "TROVE_ALLOWED_HOSTS" in refused.json()["detail"]
    before = _roots(client)
    rebound = client.post(
        "/api/dam/roots",
        json={"path": str(library.parent)},
        headers={"Host": "rebind.attacker.example"},
    )
    assert rebound.status_code == 400
    assert _roots(client) == before
    page = client.get("/", headers={"Host": "rebind.attacker.example"})
    assert page.status_code == 400 and page.headers["content-type"] == "application/json"


def test_the_bind_address_and_configured_names_are_answered_and_star_answers_any():
    policy = HostPolicy.from_settings(Settings(host="192.168.1.20", allowed_hosts="Photos.Lan"))
    assert policy.allows_host("192.168.1.20:8000")
    assert policy.allows_host("photos.lan") and policy.allows_host("photos.lan.:443")
    assert policy.allows_host("[::1]") and policy.allows_host("127.0.0.1")
    assert not policy.allows_host("192.168.1.21:8000")
    assert not policy.allows_host("user@photos.lan") and not policy.allows_host("photos.lan:x")
    wildcard_bind = HostPolicy.from_settings(Settings(host="0.0.0.0"))
    assert not wildcard_bind.allows_host("0.0.0.0") and not wildcard_bind.allows_host("nas")
    assert HostPolicy.from_settings(Settings(allowed_hosts="*")).allows_host("anything.example")


# --- Libraries through the API: only below TROVE_ALLOWED_ROOTS -------------------------------


def test_libraries_are_added_through_the_api_only_below_the_allowed_roots(
    client, settings, tmp_path
):
    inside = tmp_path / "allowed" / "more photos"
    write_jpeg(inside / "a.jpg")
    outside = tmp_path / "elsewhere"
    write_jpeg(outside / "secret.jpg")
    (tmp_path / "allowed" / "sneaky").symlink_to(outside)

    added = client.post("/api/dam/roots", json={"path": str(inside)})
    assert added.status_code == 202, added.text
    for path in (outside, tmp_path / "allowed" / "sneaky", Path("/etc")):
        refused = client.post("/api/dam/roots", json={"path": str(path)})
        assert refused.status_code == 403, path
        assert "TROVE_ALLOWED_ROOTS" in refused.json()["detail"]
    for path in (settings.data_dir, settings.resolved_cache_dir, "/proc", "/sys/kernel", "/dev"):
        refused = client.post("/api/dam/roots", json={"path": str(path)})
        assert refused.status_code == 422, path
    nul = client.post("/api/dam/roots", json={"path": str(inside) + "\x00/etc"})
    assert nul.status_code == 422 and "NUL" in nul.json()["detail"]
    missing = client.post("/api/dam/roots", json={"path": str(tmp_path / "allowed" / "nope")})
    assert missing.status_code == 422 and "no such folder" in missing.json()["detail"]
    assert str(outside) not in _roots(client)
    assert str(inside) in _roots(client)


def test_without_allowed_roots_only_the_command_line_adds_libraries(tmp_path):
    (tmp_path / "photos").mkdir()
    with pytest.raises(Forbidden, match="TROVE_ALLOWED_ROOTS"):
        check_requested_root(str(tmp_path / "photos"), Settings(data_dir=tmp_path / "data"))
    allowed = Settings(data_dir=tmp_path / "d", allowed_roots=f"{tmp_path}/photos, /srv/media")
    assert check_requested_root(str(tmp_path / "photos"), allowed) == str(tmp_path / "photos")
    with pytest.raises(Forbidden):
        check_requested_root(str(tmp_path / "photos-2"), allowed)  # a sibling is not below it
    with pytest.raises(Invalid, match="system folders"):
        check_requested_root("/", Settings(data_dir=tmp_path / "d", allowed_roots="/"))


# --- Bad input: 422 with limits, never a server error ----------------------------------------


def test_bad_input_gets_a_422_with_the_limit_and_changes_nothing(client):
    asset = _asset(client, "notes/readme.txt")
    url = f"/api/dam/assets/{asset['id']}"

    def raw_patch(body: str):  # type: ignore[no-untyped-def]
        return client.patch(url, content=body, headers={"Content-Type": "application/json"})

    album = client.post("/api/dam/albums", json={"name": "holiday"}).json()["id"]
    cases = [
        client.patch(url, json={"metadata": None}),
        client.patch(url, json={"metadata": {"notes": {"text": "x" * 70_000}}}),
        client.patch(url, json={"metadata": {"notes": {"text": "a\x00b"}}}),
        client.patch(url, json={"title": "a\x00b"}),
        client.patch(url, json={"tags": ["a\x00b"]}),
        client.get("/api/dam/assets", params={"q": "x" * 60_000}),
        client.get("/api/dam/assets", params={"q": "a\x00b"}),
        client.get("/api/dam/assets", params={"path": "p\x00"}),
        client.get("/api/dam/assets", params=[("tag", f"t{i}") for i in range(2000)]),
        client.get("/api/dam/assets", params=[("type", "image")] * 101),
        client.get("/api/dam/assets", params={"since": "2023-" + "1" * 5000}),
        client.get("/api/dam/assets", params={"root": "r\x00"}),
        client.get(url + "%00"),
        client.post("/api/dam/albums", json={"name": "a\x00b"}),  # refused by PostgreSQL
        raw_patch('{"tags": ["\\udfff"]}'),  # a lone surrogate: no UTF-8 text holds it
        raw_patch('{"metadata": {"notes": {"k": "\\ud800"}}}'),
        raw_patch('{"metadata": {"notes": {"k": NaN}}}'),  # Python's JSON reads it; no DB should
        client.get("/api/dam/assets", params={"sort": "size", "cursor": _cursor([[10**30], "a"])}),
        client.get("/api/dam/assets", params={"sort": "size", "cursor": _cursor([10**30, "a"])}),
        client.post(
            f"/api/dam/albums/{album}/assets", json={"asset_ids": [asset["id"]], "position": 10**20}
        ),
    ]
    for response in cases:
        assert response.status_code == 422, (response.request.url, response.text[:200])
        assert response.json()["detail"]
    assert "at most 1000 characters" in cases[5].json()["detail"]
    assert "at most 100" in cases[8].json()["detail"]
    assert "65536 bytes" in cases[1].json()["detail"]
    assert client.get(url).json()["title"] is None
    assert client.get(url).json()["tags"] == []
    ok = client.patch(url, json={"metadata": {"notes": {"text": "fine", "escaped": "\\u0000"}}})
    assert ok.status_code == 200, ok.text


def test_a_50_mb_metadata_patch_is_refused_before_it_is_read(client):
    asset = _asset(client, "notes/readme.txt")
    body = json.dumps({"metadata": {"notes": {"text": "x" * 50 * 1024**2}}})
    response = client.patch(
        f"/api/dam/assets/{asset['id']}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "at most 1048576 bytes" in response.json()["detail"]
    assert "notes" not in client.get(f"/api/dam/assets/{asset['id']}").json()["metadata"]


def test_a_chunked_body_past_the_limit_is_refused_without_being_held(client):
    asset = _asset(client, "notes/readme.txt")
    chunk = b'{"metadata": {"notes": {"text": "' + b"x" * 64 * 1024

    def chunks():  # no Content-Length: the client sends it chunked
        yield chunk
        for _ in range(40):
            yield b"x" * 64 * 1024
        yield b'"}}}'

    response = client.patch(
        f"/api/dam/assets/{asset['id']}",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "at most 1048576 bytes" in response.json()["detail"]
    assert "notes" not in client.get(f"/api/dam/assets/{asset['id']}").json()["metadata"]
    small = client.patch(
        f"/api/dam/assets/{asset['id']}",
        content=iter([b'{"title": ', b'"chunked"}']),
        headers={"Content-Type": "application/json"},
    )
    assert small.status_code == 200, small.text
    assert small.json()["title"] == "chunked"


# --- Browser-side limits ---------------------------------------------------------------------


def test_originals_allow_nothing_to_load_and_active_types_download(client, library):
    svg = client.get(f"/api/dam/assets/{_asset(client, 'web/page.svg')['id']}/file")
    assert svg.status_code == 200
    assert svg.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert svg.headers["x-content-type-options"] == "nosniff"
    assert svg.headers["content-disposition"].startswith("attachment")
    html = client.get(f"/api/dam/assets/{_asset(client, 'web/page.html')['id']}/file")
    assert html.headers["content-disposition"].startswith("attachment")
    assert html.content == (library / "web" / "page.html").read_bytes()
    photo = client.get(f"/api/dam/assets/{_asset(client, 'graphics/logo.png')['id']}/file")
    assert photo.headers["content-disposition"].startswith("inline")
    assert photo.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert photo.headers["cache-control"] == "private"  # a shared cache would serve it to anyone


def test_ui_pages_carry_a_csp_that_forbids_framing_and_send_no_referrer(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert "connect-src 'self'" in csp and "object-src 'none'" in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"
    api = client.get("/api/dam/status")
    assert api.headers["referrer-policy"] == "no-referrer"
    assert "content-security-policy" not in api.headers  # JSON is not a document


def test_a_cross_site_upload_is_refused_and_same_origin_or_scripts_still_upload(
    client, settings, tmp_path
):
    photo = write_jpeg(tmp_path / "up.jpg", seed=7).read_bytes()

    def upload(name, **headers):
        files = {"file": (name, photo, "image/jpeg")}
        return client.post("/api/dam/upload", files=files, headers=headers)

    for origin in ("http://evil.example", "null", "http://localhost:9999", "file://"):
        refused = upload("evil.jpg", Origin=origin)
        assert refused.status_code == 403, origin
        assert "cross-site" in refused.json()["detail"]
    own_folder = settings.resolved_upload_dir / "owner"
    assert not (own_folder / "evil.jpg").exists()
    assert upload("same.jpg", Origin=LOCAL).status_code == 201
    assert upload("script.jpg").status_code == 201
    stored = sorted(os.listdir(own_folder))
    assert [n for n in stored if not n.startswith(".")] == ["same.jpg", "script.jpg"]
    cross_delete = client.delete(
        f"/api/dam/assets/{_asset(client, 'notes/readme.txt')['id']}",
        headers={"Origin": "http://evil.example"},
    )
    assert cross_delete.status_code == 403


def test_socket_io_answers_its_own_origin_only_and_never_with_credentials(client):
    path = "/_nicegui_ws/socket.io/?EIO=4&transport=polling"
    same = client.get(path, headers={"Origin": LOCAL})
    assert same.status_code == 200
    assert same.headers.get("access-control-allow-origin") in (None, LOCAL)
    assert "access-control-allow-credentials" not in same.headers
    foreign = client.get(path, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 400
    assert "access-control-allow-origin" not in foreign.headers
    assert "access-control-allow-credentials" not in foreign.headers


@pytest.mark.databases("postgresql")  # SQLite stores any text
def test_a_value_the_database_refuses_is_a_422_not_a_server_error(database_url):
    """The last line of defence behind the checks above: PostgreSQL's refusal of a NUL."""
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.exc import DataError

    from trove.api.errors import _unstorable
    from trove.db.engine import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn, pytest.raises(DataError) as refused:
            conn.execute(text("SELECT CAST(:v AS text)"), {"v": "a\x00b"})
    finally:
        engine.dispose()
    response = asyncio.run(_unstorable(None, refused.value))  # type: ignore[arg-type]
    assert response.status_code == 422
    assert b"cannot be stored" in response.body and b"NUL" in response.body


def _tus_upload(client, size: int) -> str:
    from tests.tus_client import HEADERS, TUS, metadata

    created = client.post(
        TUS,
        headers={
            **HEADERS,
            "Upload-Length": str(size),
            "Upload-Metadata": metadata(filename="big.bin", filetype="application/octet-stream"),
        },
    )
    assert created.status_code == 201, created.text
    return TUS + created.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def test_a_method_override_on_a_get_is_refused_instead_of_deleting_an_upload(client):
    from tests.tus_client import HEADERS

    url = _tus_upload(client, 10)
    for method in ("GET", "HEAD"):
        sneaked = client.request(
            method, url, headers={**HEADERS, "X-HTTP-Method-Override": "DELETE"}
        )
        assert sneaked.status_code == 400, method
    assert client.head(url, headers=HEADERS).status_code == 200
    refused = client.post(
        url,
        headers={**HEADERS, "X-HTTP-Method-Override": "DELETE", "Origin": "http://evil.example"},
    )
    assert refused.status_code == 403
    assert client.head(url, headers=HEADERS).status_code == 200


def test_a_tus_chunk_is_streamed_on_the_tus_routes_only(client):
    from tests.tus_client import HEADERS

    body = b"x" * (2 * 1024**2)
    url = _tus_upload(client, len(body))
    chunk = {**HEADERS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    overridden = client.post(
        url, content=body, headers={**chunk, "X-HTTP-Method-Override": "PATCH"}
    )
    assert overridden.status_code == 204, overridden.text
    assert overridden.headers["Upload-Offset"] == str(len(body))
    asset = _asset(client, "notes/readme.txt")
    elsewhere = client.patch(f"/api/dam/assets/{asset['id']}", content=body, headers=chunk)
    assert elsewhere.status_code == 413
