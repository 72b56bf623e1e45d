"""Who a request comes from: sets `request.state.viewer` before any route or page runs.

A request is signed in by an API token (`Authorization: Bearer trove_...`) or by the session
cookie a browser got from `POST /api/dam/auth/login`; a credential that is unknown, expired,
revoked or belongs to a disabled user counts as none (the route's policy then answers 401, or a
page sends the browser to /login). A credential that cannot be checked because the database
does not answer is answered 503 right here. With TROVE_AUTH=off every request is the one local
user.

The same-origin proof for cookie-signed requests that change state lives in web_safety.py,
which runs first. NiceGUI's own assets and websocket, and Trove's static files, need no viewer
and cost no lookup; a NiceGUI page reads the viewer of the request that built it
(`trove.ui.context.current_viewer`).
"""

from __future__ import annotations

import logging
from ipaddress import ip_address
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request, cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from trove.domain.access import Viewer
from trove.errors import is_database_unreachable
from trove.ui.static_files import STATIC_URL

log = logging.getLogger(__name__)

SESSION_COOKIE = "trove_session"
_NO_VIEWER_NEEDED = ("/_nicegui", STATIC_URL + "/")
CREDENTIAL_UNCHECKED = "The database does not answer, so the sign-in cannot be checked; try again."


class AuthenticationMiddleware:
    """Pure ASGI, so streamed originals and websockets pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not scope["path"].startswith(
            _NO_VIEWER_NEEDED
        ):
            try:
                scope.setdefault("state", {})["viewer"] = await viewer_of(scope)
            except Exception as exc:
                if not is_database_unreachable(exc):
                    raise
                await _credential_unchecked(scope, receive, send, exc)
                return
        await self.app(scope, receive, send)


async def _credential_unchecked(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """503, not 500: an outage the caller can wait out, not a bug. The request goes no further,
    so a credential that cannot be checked never counts as anyone's, nor as none (a public
    route would answer as if the caller were signed out)."""
    log.warning("%s: %s (%s)", scope["path"], CREDENTIAL_UNCHECKED, str(exc).splitlines()[0])
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1013})  # try again later
        return
    response = JSONResponse(
        {"detail": CREDENTIAL_UNCHECKED}, status_code=503, headers={"Retry-After": "10"}
    )
    await response(scope, receive, send)


async def viewer_of(scope: Scope) -> Viewer:
    services = scope["app"].state.services
    if not services.settings.auth:
        return Viewer.local_owner()
    headers = Headers(scope=scope)
    token = bearer_token(headers)
    viewer = None
    if token is not None:
        viewer = await run_in_threadpool(services.users.viewer_for_token, token)
    elif (session := session_token(headers)) is not None:
        viewer = await run_in_threadpool(services.users.viewer_for_session, session)
    return viewer or Viewer.anonymous()


def bearer_token(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def session_token(headers: Headers) -> str | None:
    cookie = headers.get("cookie")
    if not cookie:
        return None
    return cookie_parser(cookie).get(SESSION_COOKIE) or None


def session_cookie(*, value: str, max_age: int, secure: bool) -> dict[str, Any]:
    """`Response.set_cookie` arguments: script cannot read it (HttpOnly), other sites' pages
    do not send it on their requests (SameSite=Lax), and it travels only over https when the
    request came that way (Secure)."""
    return {
        "key": SESSION_COOKIE,
        "value": value,
        "max_age": max_age,
        "httponly": True,
        "samesite": "lax",
        "secure": secure,
        "path": "/",
    }


def is_local_request(request: Request) -> bool:
    """A request from this machine itself, not relayed by a proxy on it (the set-up page)."""
    relayed = {"x-forwarded-for", "forwarded", "x-real-ip"} & set(request.headers.keys())
    host = request.client.host if request.client else ""
    try:
        return not relayed and ip_address(host).is_loopback
    except ValueError:
        return False


def came_over_https(scope: Scope) -> bool:
    """Whether the browser used https: directly, or through a reverse proxy that says so
    (uvicorn already applies X-Forwarded-Proto from a trusted proxy; the header is read too, so
    a proxy outside uvicorn's trusted list still gets a Secure cookie)."""
    if scope.get("scheme") == "https":
        return True
    forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"
