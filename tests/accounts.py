"""Accounts for tests about access: an admin and a member, and how a test client signs in.

Most tests run with sign-in off (the `settings` fixture); a test about access turns it on with
`with_sign_in(settings)`, adds `add_accounts(services)` and signs in per request with the
headers `sign_in` returns (one TestClient can then act as several users at once).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from trove.api.authentication import SESSION_COOKIE
from trove.config import Settings

ADMIN = ("alice", "alice-secret-1")
MEMBER = ("bob", "bob-secret-22")
# TestClient's requests go to http://testserver: a browser on that page sends this Origin.
ORIGIN = "http://testserver"
LOGIN = "/api/dam/auth/login"


def with_sign_in(settings: Settings) -> Settings:
    return dataclasses.replace(settings, auth=True)


def add_accounts(services: Any) -> dict[str, dict[str, Any]]:
    """alice (admin: she claims the owner of everything indexed so far) and bob (member)."""
    return {
        "alice": services.users.add_user(*ADMIN, admin=True),
        "bob": services.users.add_user(*MEMBER),
    }


def sign_in(client: Any, name: str, password: str) -> dict[str, str]:
    """Sign in as a browser would; the headers a same-site page's later requests carry."""
    response = client.post(LOGIN, json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    session = response.cookies[SESSION_COOKIE]
    client.cookies.clear()
    return {"Cookie": f"{SESSION_COOKIE}={session}", "Origin": ORIGIN}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
