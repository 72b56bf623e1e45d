"""What every request passes before a route, a page or socket.io sees it.

- The Host must be one this server answers to: a page on attacker.example that rebinds its
  name to 127.0.0.1 (DNS rebinding) sends `Host: attacker.example`, and is refused.
- A request that changes state (or opens a websocket) from another site's page is refused:
  the browser names that page in `Origin`. A browser signed in by its session cookie must
  also prove the request comes from this site's own pages (`Origin`, or failing that
  `Referer`): the cookie alone proves nothing, a browser attaches it wherever the request
  came from. Requests carrying `Authorization: Bearer` are exempt (another site's page cannot
  set that header without a CORS grant, and Trove grants none), as are scripts and curl
  without a cookie.
- Responses carry the browser-side limits: pages may load only from this server and may not be
  framed; no Referer leaves; nothing is sniffed into another type. The one page made to be
  framed, the asset picker (PICKER_PATH), may be framed by this site and by the origins in
  TROVE_PICKER_ORIGINS, and by no one else.

With TROVE_AUTH=off (loopback only) these checks are all that keeps a web page the user visits
from driving a local Trove.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trove.api.authentication import bearer_token, session_token
from trove.api.routes.tus import PREFIX as TUS_PREFIX
from trove.config import Settings

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_WILDCARD_BINDS = ("0.0.0.0", "::", "")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# JSON bodies are small (the largest field is a description); a bigger one is refused before
# it is read into memory, whether it declares its length or comes in chunks. Uploads are
# multipart, or TUS PATCHes (application/offset+octet-stream), streamed to disk and bounded by
# TROVE_MAX_UPLOAD_BYTES.
MAX_JSON_BODY_BYTES = 1024**2
_STREAMED_BODIES = ("multipart/form-data",)
_TUS_CHUNK = "application/offset+octet-stream"
# tuspyserver routes a request by this header (for clients that cannot send PATCH or DELETE):
# on a GET it would pass here as a safe request and run there as a DELETE or a PATCH.
_METHOD_OVERRIDE = "x-http-method-override"
_TOO_LARGE = f"a JSON body may be at most {MAX_JSON_BODY_BYTES} bytes"

# NiceGUI renders with Vue's in-browser template compiler (eval) and inline scripts and
# styles; what the policy still holds: nothing loads from or talks to another origin, no
# plugin content, no framing, forms post only here.
UI_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from their CDN.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com"
    " https://cdn.redoc.ly; worker-src blob:; frame-ancestors 'none'"
)
_DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")
# The embeddable asset picker (ui/pages/picker.py, docs/picker.md).
PICKER_PATH = "/picker"
_ALWAYS = (
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
)


@dataclass(frozen=True)
class HostPolicy:
    """The host names this server answers to, and which foreign origins it trusts."""

    names: frozenset[str]
    configured: frozenset[str]
    any_host: bool = False
    # Where pages may load images from besides this server: the map's tile source, if set.
    image_origins: frozenset[str] = frozenset()
    # Other sites' pages that may call the API with a token (TROVE_CORS_ORIGINS).
    cors_origins: frozenset[str] = frozenset()
    # Other sites' pages that may frame the picker and hear what it picks (TROVE_PICKER_ORIGINS).
    picker_origins: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> HostPolicy:
        configured = frozenset(settings.allowed_host_names)
        bind = settings.host.strip("[]").lower()
        names = {*LOOPBACK_NAMES, *configured}
        if bind not in _WILDCARD_BINDS:
            names.add(bind)
        tiles = settings.map_tile_origin
        return cls(
            frozenset(names),
            configured,
            any_host="*" in configured,
            image_origins=frozenset([tiles] if tiles else []),
            cors_origins=frozenset(settings.cors_origin_list),
            picker_origins=frozenset(settings.picker_origin_list),
        )

    def allows_host(self, host_header: str | None) -> bool:
        if self.any_host:
            return True
        name = _host_name(host_header)
        return name is not None and (name in self.names or name.endswith(".localhost"))

    def allows_origin(self, origin: str, host_header: str | None) -> bool:
        """Same origin as the request (host and port), or a name the operator configured."""
        try:
            parts = urlsplit(origin)
            origin_name = parts.hostname
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or origin_name is None:
            return False  # includes `Origin: null` from sandboxed frames and file: pages
        if host_header and parts.netloc.lower() == host_header.lower():
            return True
        return self.any_host or origin_name.rstrip(".") in self.configured


def _host_name(host_header: str | None) -> str | None:
    if not host_header:
        return None
    try:
        parts = urlsplit("//" + host_header)
        _ = parts.port  # a malformed port raises
    except ValueError:
        return None
    if parts.username is not None or parts.path or parts.hostname is None:
        return None
    return parts.hostname.rstrip(".")


def policy_of(scope: Scope) -> HostPolicy:
    return scope["app"].state.host_policy


class WebSafetyMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so streamed originals and websockets pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = _refusal(scope, headers, policy_of(scope))
        if refusal is not None:
            await _refuse(scope, receive, send, *refusal)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        cors_origin = _cors_origin(headers, policy_of(scope))
        if cors_origin is not None and _is_preflight(scope, headers):
            await _answer_preflight(send, cors_origin)
            return
        if scope["method"] not in _SAFE_METHODS and not _is_streamed(scope, headers):
            body = await _read_bounded(receive, limit=MAX_JSON_BODY_BYTES)
            if body is None:
                await _refuse(scope, receive, send, 413, _TOO_LARGE)
                return
            receive = _replaying(body, receive)
        sending = _with_headers(
            send, path=scope["path"], policy=policy_of(scope), cors_origin=cors_origin
        )
        await self.app(scope, receive, sending)


def _refusal(scope: Scope, headers: Headers, policy: HostPolicy) -> tuple[int, str] | None:
    host = headers.get("host")
    if not policy.allows_host(host):
        return 400, (
            f"this server does not answer to the host name {host!r};"
            " add it to TROVE_ALLOWED_HOSTS if it is yours"
        )
    if b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]:
        return 422, "the URL contains a NUL byte"
    if scope["type"] == "http" and scope["method"] != "POST" and _METHOD_OVERRIDE in headers:
        return 400, "X-HTTP-Method-Override is honoured on a POST only"
    changes_state = scope["type"] == "websocket" or scope["method"] not in _SAFE_METHODS
    if changes_state:
        refused = _cross_site(scope, headers, policy)
        if refused is not None:
            return 403, refused
    too_large = _declared_length(headers) > MAX_JSON_BODY_BYTES and not _is_streamed(scope, headers)
    if changes_state and too_large:
        return 413, _TOO_LARGE
    return None


def _cross_site(scope: Scope, headers: Headers, policy: HostPolicy) -> str | None:
    """Why a state-changing request is refused as cross-site, or None."""
    if scope["type"] == "http" and bearer_token(headers) is not None:
        return None
    host = headers.get("host")
    origin = headers.get("origin")
    if origin is not None:
        if policy.allows_origin(origin, host):
            return None
        return f"cross-site request from {origin!r} refused"
    if session_token(headers) is None:
        return None
    referer = headers.get("referer")
    if referer and policy.allows_origin(_origin_of(referer), host):
        return None
    return (
        "a signed-in browser request that changes something must come from this site's pages"
        " (no same-site Origin or Referer); scripts use an API token instead"
    )


def _origin_of(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "null"
    return f"{parts.scheme}://{parts.netloc}"


def _declared_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0


def _is_streamed(scope: Scope, headers: Headers) -> bool:
    """Multipart uploads, and TUS chunks on the TUS routes only (elsewhere such a body would
    be read whole by a JSON route)."""
    content_type = headers.get("content-type", "").lower()
    if content_type == _TUS_CHUNK:
        method = headers.get(_METHOD_OVERRIDE, scope.get("method", "")).upper()
        return method == "PATCH" and scope["path"].startswith(TUS_PREFIX + "/")
    return content_type.startswith(_STREAMED_BODIES)


async def _read_bounded(receive: Receive, *, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it passes `limit` bytes (a chunked body
    declares no length to check beforehand)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: the app sees what came
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """Hands the app the body already read, then whatever the connection says next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
        return
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *_ALWAYS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _cors_origin(headers: Headers, policy: HostPolicy) -> str | None:
    """The request's Origin when TROVE_CORS_ORIGINS lists it (else no CORS header is sent)."""
    origin = headers.get("origin")
    if origin is None or origin.lower().rstrip("/") not in policy.cors_origins:
        return None
    return origin


def _is_preflight(scope: Scope, headers: Headers) -> bool:
    return scope["method"] == "OPTIONS" and "access-control-request-method" in headers


async def _answer_preflight(send: Send, origin: str) -> None:
    """Another site's page may send these methods with a token; never with cookies
    (no Allow-Credentials), so a signed-in browser's session is not usable from there."""
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                (b"access-control-allow-origin", origin.encode()),
                (b"access-control-allow-methods", b"GET, HEAD, POST, PATCH, DELETE"),
                (b"access-control-allow-headers", b"Authorization, Content-Type"),
                (b"access-control-max-age", b"600"),
                (b"vary", b"Origin"),
                *_ALWAYS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def _with_headers(
    send: Send, *, path: str, policy: HostPolicy, cors_origin: str | None = None
) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(raw=message.setdefault("headers", []))
            for name, value in _always(path, policy):
                headers.setdefault(name.decode(), value.decode())
            if cors_origin is not None:
                headers["access-control-allow-origin"] = cors_origin
                headers.add_vary_header("Origin")
            if headers.get("content-type", "").startswith("text/html"):
                headers.setdefault("content-security-policy", _page_csp(path, policy))
        await send(message)

    return sending


def _always(path: str, policy: HostPolicy) -> tuple[tuple[bytes, bytes], ...]:
    """The headers every response carries. X-Frame-Options names no origin but the page's
    own: the picker states who may frame it in its CSP (`frame-ancestors`, which browsers
    obey over X-Frame-Options) and sends SAMEORIGIN only when that is all it allows."""
    if path != PICKER_PATH:
        return _ALWAYS
    kept = tuple(h for h in _ALWAYS if h[0] != b"x-frame-options")
    return kept if policy.picker_origins else (*kept, (b"x-frame-options", b"SAMEORIGIN"))


def _page_csp(path: str, policy: HostPolicy) -> str:
    if path in _DOCS_PATHS:
        return DOCS_CSP
    csp = UI_CSP
    if policy.image_origins:
        extra = " ".join(sorted(policy.image_origins))
        csp = csp.replace("img-src 'self' data: blob:;", f"img-src 'self' data: blob: {extra};")
    if path == PICKER_PATH:
        ancestors = " ".join(["'self'", *sorted(policy.picker_origins)])
        csp = csp.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")
    return csp


def socketio_origin_check(origin: str | None, environ: dict[str, Any]) -> bool:
    """For NiceGUI's socket.io server (`cors_allowed_origins`): the same rule as requests."""
    if origin is None:
        return True
    scope = environ.get("asgi.scope", {})
    return policy_of(scope).allows_origin(origin, environ.get("HTTP_HOST"))


def install_web_safety(app: Any) -> None:
    """Once per process: the middleware, and socket.io held to this server's origin with no
    credentials echoed to any other (NiceGUI allows every origin)."""
    from nicegui import core

    app.add_middleware(WebSafetyMiddleware)
    core.sio.eio.cors_allowed_origins = socketio_origin_check
    core.sio.eio.cors_credentials = False
