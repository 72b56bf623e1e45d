"""Signing in through a real browser (Debian's Chromium through Playwright) against
`trove serve` with sign-in on: the one-time set-up, sign-out, a wrong password, signing in
again, and an API token made on the tokens page. Screenshots land in test-artifacts/ui/."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.fixtures import require_chromium, shot
from tests.browser.server import TroveServer, start_server
from tests.media import write_jpeg

pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")

require_chromium()


NAME, PASSWORD = "alice", "alice-secret-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TroveServer]:
    base = tmp_path_factory.mktemp("login")
    write_jpeg(base / "library" / "photo.jpg", seed=3)
    trove = start_server(data_dir=base / "data", roots=[base / "library"], env={"TROVE_AUTH": "on"})
    try:
        yield trove
    finally:
        trove.stop()


def fill_credentials(page: Any, name: str, password: str) -> None:
    page.locator(".trove-login-name input").fill(name)
    page.locator(".trove-login-password input").fill(password)
    page.locator(".trove-login-submit").click()


def me(server: TroveServer, token: str) -> dict[str, Any]:
    request = urllib.request.Request(
        server.url + "/api/dam/auth/me", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_the_first_admin_is_set_up_signs_out_and_in_makes_a_token_and_adds_a_member(page, server):
    assert "No one can sign in yet: open" in server.log.read_text()  # the log says how
    expect = playwright_api.expect
    page.goto(server.url + "/albums")
    page.wait_for_url(server.url + "/setup")  # nobody can sign in yet, and this is loopback
    shot(page, "setup")
    fill_credentials(page, NAME, PASSWORD)
    page.wait_for_url(server.url + "/")
    page.locator(".trove-account").click()
    expect(page.locator(".trove-signed-in")).to_have_text(f"Signed in as {NAME}")
    shot(page, "signed-in")

    page.locator(".trove-sign-out").click()
    page.wait_for_url(server.url + "/login")
    page.goto(server.url + "/graph")
    page.wait_for_url(server.url + "/login?next=/graph")
    fill_credentials(page, NAME, "not-the-password")
    expect(page.locator(".trove-login-error")).to_have_text("wrong user name or password")
    shot(page, "login-wrong-password")
    fill_credentials(page, NAME, PASSWORD)
    page.wait_for_url(server.url + "/graph")  # back where the browser wanted to go

    page.goto(server.url + "/tokens")
    page.locator(".trove-token-create").click()
    token_shape = re.compile(r"trove_[A-Za-z0-9_-]{40,}")
    shown = page.locator(".trove-token-secret")  # the token and its copy icon
    expect(shown).to_contain_text(token_shape)  # ui.code fills its text a tick after it appears
    secret = token_shape.search(shown.inner_text()).group(0)
    expect(page.locator(".trove-token-row")).to_have_count(1)
    shot(page, "tokens")
    assert me(server, secret)["name"] == NAME

    page.goto(server.url + "/users")  # an admin adds a household member
    page.locator(".trove-user-name input").fill("carol")
    page.locator(".trove-user-password input").fill("carol-secret-3")
    page.locator(".trove-user-add").click()
    expect(page.locator(".trove-user-row", has_text="carol")).to_contain_text("member")
    shot(page, "users")
    page.watch.assert_clean()


def test_an_admin_disabled_while_the_libraries_page_is_open_cannot_remove_a_library(page, tmp_path):
    """The page was drawn for an admin, with a library's Remove button; the admin is disabled
    (another admin, `trove users disable`) while it stays open. Removing is refused at once,
    not half a minute later when the page's session is checked again, and the library stays."""
    expect = playwright_api.expect
    write_jpeg(tmp_path / "library" / "photo.jpg", seed=5)
    trove = start_server(
        data_dir=tmp_path / "data", roots=[tmp_path / "library"], env={"TROVE_AUTH": "on"}
    )
    try:
        page.goto(trove.url + "/libraries")
        page.wait_for_url(trove.url + "/setup")
        fill_credentials(page, NAME, PASSWORD)
        page.wait_for_url(trove.url + "/")
        page.goto(trove.url + "/libraries")
        remove = page.locator(".trove-root-remove-button")
        expect(remove).to_be_visible()
        cli = {k: v for k, v in os.environ.items() if not k.startswith("TROVE_")}
        cli.update(TROVE_DATA_DIR=str(tmp_path / "data"))
        disabled = subprocess.run(
            [sys.executable, "-m", "trove", "users", "disable", NAME],
            env=cli, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert disabled.returncode == 0, disabled.stderr
        remove.click()
        # At once: the page's own check of its session comes only every 30 s.
        page.wait_for_url(re.compile(r".*/login.*"), timeout=10_000)
        expect(page.locator(".trove-remove-root")).to_have_count(0)  # no removal asked
        listed = subprocess.run(
            [sys.executable, "-m", "trove", "status", "--json"],
            env=cli, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert [root["path"] for root in json.loads(listed.stdout)["roots"]] == [
            str(tmp_path / "library")
        ]
    finally:
        trove.stop()
