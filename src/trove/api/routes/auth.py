"""/api/dam/auth: sign in (a session cookie for the browser), sign out, who am I, and the
one-time set-up of the first admin.

Scripts do not sign in: they send an API token (`trove tokens create`) as
`Authorization: Bearer`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from trove.api.authentication import (
    came_over_https,
    is_local_request,
    session_cookie,
    session_token,
)
from trove.api.deps import PublicAccess, ServicesDep, ViewerDep, client_address
from trove.api.schemas import LoginIn, MeOut, UserOut, errors
from trove.services.errors import Forbidden
from trove.services.users import SignedIn

router = APIRouter(prefix="/api/dam/auth", tags=["auth"])


@router.post(
    "/login",
    response_model=UserOut,
    dependencies=[PublicAccess],
    responses=errors(400, 401, 403, 413, 429),
)
async def login(body: LoginIn, request: Request, services: ServicesDep) -> Response:
    """Check the name and password and start a browser session (the `trove_session` cookie:
    HttpOnly, SameSite=Lax, Secure over https). Five failures for one name from one address
    within 15 minutes lock that pair out for the rest of the window (429, `Retry-After`)."""
    signed_in = await run_in_threadpool(
        services.users.sign_in, body.username, body.password, client=client_address(request)
    )
    return _with_session(request, signed_in)


@router.post("/logout", status_code=204, dependencies=[PublicAccess])
async def logout(request: Request, services: ServicesDep) -> Response:
    """End this browser's session (signed out already, nothing happens)."""
    token = session_token(request.headers)
    if token is not None:
        await run_in_threadpool(services.users.sign_out, token)
    response = Response(status_code=204)
    response.delete_cookie(**_cookie_scope(request))
    return response


@router.get("/me", response_model=MeOut, responses=errors(401))
def me(viewer: ViewerDep, request: Request) -> dict:
    auth = request.app.state.services.settings.auth
    return {
        "id": viewer.user_id,
        "name": viewer.name if auth else "owner",
        "role": "admin" if viewer.is_admin else "member",
        "can_write": viewer.can_write,
        "auth": auth,
    }


@router.post(
    "/setup",
    status_code=201,
    response_model=UserOut,
    dependencies=[PublicAccess],
    responses=errors(400, 403, 409, 413),
)
async def setup(body: LoginIn, request: Request, services: ServicesDep) -> Response:
    """Create the first admin, signed in at once: only while no one can sign in, and only from
    this machine (a loopback address, not through a proxy)."""
    if not is_local_request(request):
        raise Forbidden("the first admin can be created only from this machine (127.0.0.1)")
    signed_in = await run_in_threadpool(
        services.users.set_up, body.username, body.password, client=client_address(request)
    )
    return _with_session(request, signed_in, status_code=201)


def _with_session(request: Request, signed_in: SignedIn, *, status_code: int = 200) -> Response:
    body = UserOut.model_validate(signed_in.user).model_dump_json()
    response = Response(body, status_code=status_code, media_type="application/json")
    response.set_cookie(
        **session_cookie(
            value=signed_in.token, max_age=signed_in.max_age, secure=came_over_https(request.scope)
        )
    )
    return response


def _cookie_scope(request: Request) -> dict:
    cookie = session_cookie(value="", max_age=0, secure=came_over_https(request.scope))
    return {k: cookie[k] for k in ("key", "path", "secure", "httponly", "samesite")}
