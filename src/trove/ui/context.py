"""What a page needs from the running app: its Services, who is looking, and a way to call
services off the loop.

Service calls block (database, disk), so UI callbacks run them with `run.io_bound`: the event
loop keeps serving every other browser meanwhile.

`current_viewer()` is the page's viewer: the one the authentication layer found for the
request that built the page (its session cookie). Pass it to every service call that reads or
changes user-visible data, in the page builder and in its callbacks alike (a callback runs in
the same client, so the same request answers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from nicegui import app, context, run

from trove.api.deps import current_viewer as viewer_of_request
from trove.domain.access import Viewer
from trove.services.container import Services

T = TypeVar("T")


def services() -> Services:
    return app.state.services


def current_viewer() -> Viewer:
    """Who is looking at this page (see the module docstring)."""
    return viewer_of_request(context.client.request)


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one blocking service call in a worker thread and return its result."""
    result = await run.io_bound(function, *args, **kwargs)
    # NiceGUI answers None instead of the result only while the app shuts down, when no page
    # is left to read it.
    return cast(T, result)
