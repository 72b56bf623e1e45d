"""The app's routes, whichever way FastAPI holds them (it keeps an included router as one
entry that stands for its routes)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi.routing import APIRoute


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, those of included routers too."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from api_routes(original.routes)
        elif isinstance(route, APIRoute):
            yield route
