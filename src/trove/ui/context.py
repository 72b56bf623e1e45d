"""What a page needs from the running app: its Services, who is looking, and a way to call
services off the loop.

Service calls block (database, disk), so UI callbacks run them with `run.io_bound`: the event
loop keeps serving every other browser meanwhile.

`current_viewer()` is the page's viewer: the one the authentication layer found for the
request that built the page (its session cookie). Pass it to every service call that reads or
changes user-visible data, in the page builder and in its callbacks alike (a callback runs in
the same client, so the same request answers). A page stays open for hours, so its session is
checked again at most every RECHECK_SECONDS: signed out in another tab, or disabled by an
admin, the page goes to /login instead of acting for someone who is no longer signed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

from nicegui import Client, app, context, run, ui
from starlette.requests import Request

from trove.api.authentication import session_token
from trove.api.deps import current_viewer as viewer_of_request
from trove.domain.access import Viewer
from trove.services.container import Services
from trove.services.users import UserService

RECHECK_SECONDS = 30.0
_checked_at: WeakKeyDictionary[Client, float] = WeakKeyDictionary()

T = TypeVar("T")


def services() -> Services:
    return app.state.services


def current_viewer(*, fresh: bool = False) -> Viewer:
    """Who is looking at this page (see the module docstring); `fresh`: checked again now,
    not up to RECHECK_SECONDS ago (an admin's action on libraries: a demoted admin's open
    page must not act as an admin for half a minute more)."""
    client = context.client
    viewer = viewer_of_request(client.request)
    if not (viewer.is_signed_in and services().settings.auth):
        return viewer
    now = time.monotonic()
    if fresh or now - _checked_at.setdefault(client, now) > RECHECK_SECONDS:
        _checked_at[client] = now
        viewer = session_viewer(client.request, services().users)
        client.request.state.viewer = viewer
        if not viewer.is_signed_in:
            ui.navigate.to("/login")
    return viewer


def session_viewer(request: Request, users: UserService) -> Viewer:
    """The viewer the request's session cookie stands for now (anonymous once it ended)."""
    token = session_token(request.headers)
    return (users.viewer_for_session(token) if token else None) or Viewer.anonymous()


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one blocking service call in a worker thread and return its result."""
    result = await run.io_bound(function, *args, **kwargs)
    # NiceGUI answers None instead of the result only while the app shuts down, when no page
    # is left to read it.
    return cast(T, result)
