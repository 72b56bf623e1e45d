"""Sign-in, sessions, API tokens and the same-origin proof, through the real app (both
databases) with sign-in on, as it is by default."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from nicegui import Client

from tests.accounts import ADMIN, LOGIN, MEMBER, ORIGIN, add_accounts, bearer, sign_in, with_sign_in
from tests.conftest import trove_env
from tests.media import write_jpeg, write_text
from tests.routes import api_routes
from trove.api.deps import POLICIES, public_access
from trove.config import Settings
from trove.domain.access import LOCAL_OWNER_ID, TokenScope
from trove.server import check_exposure
from trove.services.credentials import LoginThrottle
from trove.services.errors import Invalid
from trove.ui.static_files import STATIC_URL

ME = "/api/dam/auth/me"
ASSETS = "/api/dam/assets"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return with_sign_in(settings)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    write_jpeg(root / "a.jpg", seed=1)
    write_text(root / "notes.txt", "hello")
    return root


@pytest.fixture
def accounts(client: TestClient) -> dict:
    return add_accounts(client.app.state.services)  # type: ignore[attr-defined]


def _first_asset_id(client: TestClient, headers: dict[str, str]) -> str:
    return client.get(ASSETS, headers=headers).json()["items"][0]["id"]


def test_signed_out_the_api_answers_401_with_a_detail_and_pages_send_the_browser_to_login(
    client, accounts
):
    for path in (ASSETS, "/api/dam/status", ME, "/api/dam/albums"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["detail"]
    page = client.get("/albums?x=1", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/albums%3Fx%3D1"
    assert client.get("/login").status_code == 200  # the sign-in page itself is public


def test_signing_in_gives_an_httponly_lax_cookie_and_signing_out_ends_the_session(client, accounts):
    response = client.post(LOGIN, json={"username": "Alice", "password": ADMIN[1]})
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    session = response.cookies["trove_session"]
    client.cookies.clear()
    headers = {"Cookie": f"trove_session={session}", "Origin": ORIGIN}
    me = client.get(ME, headers=headers).json()
    assert me["name"] == "alice" and me["role"] == "admin" and me["can_write"]
    assert me["id"] == LOCAL_OWNER_ID  # the first admin owns what was indexed before
    assert client.post("/api/dam/auth/logout", headers=headers).status_code == 204
    assert client.get(ME, headers=headers).status_code == 401  # the old cookie is dead
    behind_https = client.post(
        LOGIN,
        json={"username": "bob", "password": MEMBER[1]},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "secure" in behind_https.headers["set-cookie"].lower()


def test_a_wrong_password_is_401_and_the_sixth_try_within_the_window_is_429(
    client, accounts, caplog
):
    for name in ("alice", "nobody"):
        wrong = client.post(LOGIN, json={"username": name, "password": "wrong-password"})
        assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong user name or password"
    assert "failed sign-in for 'nobody' from testclient" in caplog.text
    assert "wrong-password" not in caplog.text
    for _ in range(4):
        client.post(LOGIN, json={"username": "alice", "password": "still-wrong"})
    locked = client.post(LOGIN, json={"username": "alice", "password": ADMIN[1]})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 900
    assert "try again" in locked.json()["detail"]
    assert client.post(LOGIN, json={"username": "bob", "password": MEMBER[1]}).status_code == 200


def test_the_throttle_counts_per_name_and_address_and_forgets_after_its_window():
    now = [0.0]
    throttle = LoginThrottle(attempts=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        throttle.failed("alice", "10.0.0.9")
    assert throttle.retry_after("ALICE", "10.0.0.9") == 60
    assert throttle.retry_after("alice", "10.0.0.10") == 0  # a guesser elsewhere: no lock-out
    now[0] = 59.5
    assert throttle.retry_after("alice", "10.0.0.9") == 1
    now[0] = 60.0
    assert throttle.retry_after("alice", "10.0.0.9") == 0
    throttle.failed("alice", "10.0.0.9")
    throttle.succeeded("alice", "10.0.0.9")
    assert throttle.retry_after("alice", "10.0.0.9") == 0


def test_a_read_token_reads_a_write_token_writes_and_a_revoked_one_is_refused(client, accounts):
    users = client.app.state.services.users
    read, _ = users.create_token("bob", scope=TokenScope.READ)
    write, record = users.create_token("alice", scope=TokenScope.WRITE, name="backup script")
    asset_id = _first_asset_id(client, bearer(write))
    assert client.get(f"{ASSETS}/{asset_id}", headers=bearer(read)).status_code in (200, 404)
    refused = client.patch(f"{ASSETS}/{asset_id}", json={"title": "x"}, headers=bearer(read))
    assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
    changed = client.patch(f"{ASSETS}/{asset_id}", json={"title": "x"}, headers=bearer(write))
    assert changed.status_code == 200 and changed.json()["title"] == "x"
    listed = users.list_tokens(viewer=users.viewer_for_token(write))
    assert [t["name"] for t in listed] == ["backup script"] and listed[0]["last_used_at"]
    users.revoke_token(record["id"], viewer=users.viewer_for_token(write))
    assert client.get(ASSETS, headers=bearer(write)).status_code == 401
    assert client.get(ASSETS, headers=bearer("trove_not-a-token")).status_code == 401


def test_a_disabled_user_is_signed_out_everywhere_and_their_tokens_stop(client, accounts):
    users = client.app.state.services.users
    token, _ = users.create_token("bob", scope=TokenScope.WRITE)
    session = sign_in(client, *MEMBER)
    users.set_disabled("bob", disabled=True)
    assert client.get(ME, headers=session).status_code == 401
    assert client.get(ME, headers=bearer(token)).status_code == 401
    refused = client.post(LOGIN, json={"username": "bob", "password": MEMBER[1]})
    assert refused.status_code == 401
    users.set_disabled("bob", disabled=False)
    assert client.get(ME, headers=bearer(token)).status_code == 200
    with pytest.raises(Invalid, match="at least 8"):
        users.add_user("eve", "short")
    with pytest.raises(Invalid, match="user name"):
        users.add_user(" eve", "long enough")


def test_an_open_page_finds_out_that_its_session_ended(client, accounts):
    from starlette.requests import Request

    from trove.ui.context import session_viewer

    users = client.app.state.services.users
    session = sign_in(client, *MEMBER)
    page_request = Request({"type": "http", "headers": [(b"cookie", session["Cookie"].encode())]})
    assert session_viewer(page_request, users).name == "bob"
    assert client.post("/api/dam/auth/logout", headers=session).status_code == 204
    assert not session_viewer(page_request, users).is_signed_in


def test_a_cookie_signed_change_needs_this_sites_origin_and_a_bearer_one_does_not(client, accounts):
    session = sign_in(client, *ADMIN)
    asset_id = _first_asset_id(client, session)
    url, body = f"{ASSETS}/{asset_id}", {"title": "changed"}
    cookie_only = {"Cookie": session["Cookie"]}
    foreign = client.patch(
        url, json=body, headers={**cookie_only, "Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403 and "cross-site" in foreign.json()["detail"]
    unproven = client.patch(url, json=body, headers=cookie_only)  # neither Origin nor Referer
    assert unproven.status_code == 403
    other_referer = {**cookie_only, "Referer": "https://evil.example/page"}
    assert client.patch(url, json=body, headers=other_referer).status_code == 403
    assert client.get(url, headers=cookie_only).json()["title"] != "changed"
    assert client.patch(url, json=body, headers=session).status_code == 200
    same_referer = {**cookie_only, "Referer": f"{ORIGIN}/albums"}
    assert client.patch(url, json=body, headers=same_referer).status_code == 200
    token, _ = client.app.state.services.users.create_token("alice", scope=TokenScope.WRITE)
    script = {**bearer(token), "Origin": "https://evil.example"}
    assert client.patch(url, json=body, headers=script).status_code == 200
    assert client.get(ME, headers={"Host": "evil.example", **session}).status_code == 400
    preflight = client.options(
        url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PATCH"}
    )
    assert "access-control-allow-origin" not in preflight.headers  # no CORS grant


def test_cors_answers_only_the_configured_origins_and_never_with_cookies(settings):
    from trove.app import create_app

    dashboard = "https://dash.example.org"
    app = create_app(dataclasses.replace(settings, cors_origins=dashboard + "/"))
    with TestClient(app) as client:
        add_accounts(app.state.services)
        token, _ = app.state.services.users.create_token("bob")
        asks = {"Origin": dashboard, "Access-Control-Request-Method": "GET"}
        preflight = client.options(
            ME, headers={**asks, "Access-Control-Request-Headers": "authorization"}
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == dashboard
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in preflight.headers
        called = client.get(ME, headers={**bearer(token), "Origin": dashboard})
        assert (
            called.status_code == 200 and called.headers["access-control-allow-origin"] == dashboard
        )
        other = client.options(ME, headers={**asks, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        session = sign_in(client, *MEMBER)
        cookie_from_there = {"Cookie": session["Cookie"], "Origin": dashboard}
        assert client.post("/api/dam/auth/logout", headers=cookie_from_there).status_code == 403


def test_libraries_are_managed_by_admins_only(client, accounts, tmp_path):
    member = sign_in(client, *MEMBER)
    admin = sign_in(client, *ADMIN)
    refused = client.post("/api/dam/roots", json={"path": str(tmp_path)}, headers=member)
    assert refused.status_code == 403 and refused.json()["detail"]
    assert client.post("/api/dam/integrity/verify", headers=member).status_code == 403
    assert client.post("/api/dam/integrity/verify", headers=admin).status_code == 202
    assert "Add library" in client.get("/libraries", headers=admin).text
    assert client.get("/users", headers=member).status_code == 403
    users_page = client.get("/users", headers=admin)
    assert (
        users_page.status_code == 200 and "Add user" in users_page.text and "bob" in users_page.text
    )
    page = client.get("/libraries", headers=member)
    assert page.status_code == 200 and "Add library" not in page.text


def test_the_first_admin_is_set_up_once_and_only_from_this_machine(tmp_path, settings):
    from trove.app import create_app

    app = create_app(settings)
    body = {"username": "root", "password": "correct horse"}
    with TestClient(app, client=("127.0.0.1", 5000)) as local:
        relayed = local.post(
            "/api/dam/auth/setup", json=body, headers={"X-Forwarded-For": "1.2.3.4"}
        )
        assert relayed.status_code == 403
        assert local.get("/login", follow_redirects=False).headers["location"] == "/setup"
        created = local.post("/api/dam/auth/setup", json=body)
        assert created.status_code == 201 and created.json()["id"] == LOCAL_OWNER_ID
        assert local.get(ME, headers={"Origin": ORIGIN}).json()["name"] == "root"  # signed in
        again = local.post(
            "/api/dam/auth/setup", json={**body, "username": "second"}, headers={"Origin": ORIGIN}
        )
        assert again.status_code == 409
        assert local.get("/setup", follow_redirects=False).status_code == 303


def test_every_route_and_page_declares_its_access_policy(client):
    """A route without one of the policy dependencies (api/deps.py) fails here, so no
    endpoint is open by accident; pages answer signed-out browsers with the sign-in page."""
    undeclared, pages, public = [], [], set()
    # NiceGUI's and Trove's own scripts, styles and icons: the same files for everyone.
    APP_FILES = ("/_nicegui", STATIC_URL + "/")
    page_paths = set(Client.page_routes.values())
    for route in api_routes(client.app.routes):
        if route.path.startswith(APP_FILES):
            continue
        direct = {dependency.call for dependency in route.dependant.dependencies}
        if not direct & set(POLICIES):
            undeclared.append(f"{sorted(route.methods)} {route.path}")
        if route.path in page_paths:
            pages.append(route.path)
            if public_access in direct:
                public.add(route.path)
    assert undeclared == []
    assert {"/", "/login", "/setup", "/tokens", "/users", "/libraries"} <= set(pages)
    assert {"/login", "/setup"} <= public
    for path in pages:
        response = client.get(path.replace("{", "").replace("}", ""), follow_redirects=False)
        if path in public:
            assert response.status_code in (200, 303), path
        else:
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next="), path


def test_sign_in_off_is_refused_on_any_address_but_loopback(tmp_path):
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_exposure(Settings(auth=False, host=host))
    for host in ("0.0.0.0", "::", "192.168.1.20"):
        check_exposure(Settings(host=host))  # sign-in on: any address
        with pytest.raises(Invalid, match="TROVE_AUTH=off"):
            check_exposure(Settings(auth=False, host=host))
    off = Settings(data_dir=tmp_path / "data", auth=False)
    served = subprocess.run(
        [sys.executable, "-m", "trove", "serve", "--host", "0.0.0.0", "--port", "9"],
        env=trove_env(off),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert served.returncode == 2
    assert "refusing to listen on 0.0.0.0 with sign-in off (TROVE_AUTH=off)" in served.stderr


@pytest.mark.slow
def test_without_sign_in_the_server_log_says_so(tmp_path):
    from tests.browser.server import start_server

    server = start_server(data_dir=tmp_path / "data", roots=[])  # TROVE_AUTH=off
    try:
        assert "sign-in is off (TROVE_AUTH=off)" in server.log.read_text()
    finally:
        server.stop()


def test_without_sign_in_every_page_says_so(tmp_path):
    from trove.app import create_app

    off = Settings(data_dir=tmp_path / "data", allowed_hosts="testserver", auth=False)
    with TestClient(create_app(off)) as client:
        assert "no sign-in (TROVE_AUTH=off)" in client.get("/albums").text
        assert client.get(ME).json() == {
            "id": LOCAL_OWNER_ID,
            "name": "owner",
            "role": "admin",
            "can_write": True,
            "auth": False,
        }


# The command line calls the same service the other tests run on both databases.
@pytest.mark.databases("sqlite")
def test_users_and_tokens_from_the_command_line_sign_in_through_the_api(
    run_trove, settings, library
):
    added = run_trove("users", "add", "carol", "--admin", input="carol-password\n")
    assert "admin carol" in added.stdout
    run_trove("users", "add", "dave", input="dave-password\n")
    created = run_trove("tokens", "create", "dave", "--scope", "write")
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("trove_")
    listed = run_trove("users", "list").stdout
    assert "carol" in listed and "dave" in listed
    from trove.app import create_app

    with TestClient(create_app(settings)) as client:
        me = client.get(ME, headers=bearer(token)).json()
        assert me["name"] == "dave" and me["role"] == "member" and me["can_write"]
        assert me["id"] != LOCAL_OWNER_ID
        (listed_token,) = json.loads(run_trove("tokens", "list", "--json").stdout)
        run_trove("tokens", "revoke", listed_token["id"])
        assert client.get(ME, headers=bearer(token)).status_code == 401
        run_trove("users", "disable", "carol")
        refused = client.post(LOGIN, json={"username": "carol", "password": "carol-password"})
        assert refused.status_code == 401
