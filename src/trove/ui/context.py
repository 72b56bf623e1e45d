"""What a page needs from the running app: its Services, and a way to call them off the loop.

Service calls block (database, disk), so UI callbacks run them with `run.io_bound`: the event
loop keeps serving every other browser meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from nicegui import app, run

from trove.services.container import Services

T = TypeVar("T")


def services() -> Services:
    return app.state.services


async def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one blocking service call in a worker thread and return its result."""
    result = await run.io_bound(function, *args, **kwargs)
    # NiceGUI answers None instead of the result only while the app shuts down, when no page
    # is left to read it.
    return cast(T, result)
