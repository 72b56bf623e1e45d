"""create_app(settings): NiceGUI's app as the root, with the API routers, the UI, errors, lifespan.

NiceGUI's `app` must be the root ASGI application (mounted under another app, routes added
afterwards answer 404 and its test tooling cannot start), and it is one object per process. So
routers, error handlers and pages are installed into it once (`_install`), and each call of
`create_app` only sets what differs between calls: the lifespan that builds `Services` from
these settings. One app serves at a time per process, which is all a server or a test needs.
"""

from __future__ import annotations

import gc
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from trove import __version__
from trove.api.authentication import AuthenticationMiddleware
from trove.api.errors import install_error_handlers
from trove.api.routes import (
    albums,
    archives,
    assets,
    auth,
    bulk,
    edits,
    graph,
    integrity,
    jobs,
    library,
    library_admin,
    links,
    meaning,
    metadata,
    not_found,
    ops,
    packages,
    people,
    places,
    search,
    shares,
    tags,
    thumbnails,
    timeline,
    trash,
    tus,
    upload,
)
from trove.api.schemas import errors
from trove.api.web_safety import HostPolicy, install_web_safety
from trove.config import Settings
from trove.services.container import Services

_nicegui_lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] | None = None
_frozen = False  # _freeze_start_up ran in this process


def create_app(settings: Settings, *, roots: Sequence[str] = ()) -> FastAPI:
    """The app; `roots` are added and scanned in the background once it starts."""
    from nicegui import app

    if _nicegui_lifespan is None:
        _install(app)
    app.state.host_policy = HostPolicy.from_settings(settings)
    app.router.lifespan_context = _lifespan(settings, roots)
    return app


def _lifespan(
    settings: Settings, roots: Sequence[str]
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.create(settings)
        app.state.services = services
        services.indexer.start()
        services.library.add_server_roots(roots, indexer=services.indexer)
        services.uploads.recover()  # uploads whose last byte came just before a stop
        services.uploads.expire()
        services.indexer.request_processing()  # resume whatever an earlier run left pending
        services.start_sync()  # watch the roots, rescan them, schedule scavenger and verify
        try:
            assert _nicegui_lifespan is not None
            async with _nicegui_lifespan(app):
                _freeze_start_up()
                yield
        finally:
            gc.unfreeze()
            services.close()

    return lifespan


def _freeze_start_up() -> None:
    """What start-up made lives as long as the server: kept out of the cyclic garbage
    collector's full passes, which otherwise walk it all again every few hundred requests,
    each pass landing on one of them (bench/search.py: 40-77 ms CPU a pass, 5 in 200 search
    pages; frozen, 3-11 ms). Once a process: the first start-up made what is worth freezing,
    and a process that starts app after app (the tests) paid a full collection of its
    ever larger heap each time (0.2-0.5 s)."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()


def _install(app: Any) -> None:
    """Everything that is the same for every create_app call, done once per process."""
    global _nicegui_lifespan
    from trove.ui import install_ui

    _nicegui_lifespan = app.router.lifespan_context
    app.title, app.version = "Trove", __version__
    install_error_handlers(app)
    app.add_middleware(AuthenticationMiddleware)
    install_web_safety(app)  # outside authentication: a foreign Host costs no lookup
    # Any parameter can be malformed (422), and any route may be refused to this caller
    # (401 signed out, 403 a read-only credential or not an admin).
    malformed = errors(401, 403, 422)
    app.include_router(auth.router, responses=errors(422))
    resources = (
        bulk,
        assets,
        edits,
        upload,
        library,
        graph,
        links,
        tags,
        integrity,
        albums,
        places,
        people,
        metadata,
        trash,
    )
    for module in (*resources, library_admin, timeline, search, meaning):
        app.include_router(module.router, responses=malformed)
    app.include_router(tus.router, include_in_schema=False)  # a header protocol: see tus.py
    # The media pipeline's products and progress, what is made of a file's inside, and the
    # operators' health and metrics.
    for module in (thumbnails, archives, packages, jobs, ops):
        app.include_router(module.router, responses=malformed)
    app.include_router(shares.router, responses=malformed)  # an owner's share links
    app.include_router(shares.holder_router, responses=malformed)  # a link holder's view
    app.include_router(not_found.router)  # last: unknown /api/ paths answer JSON, not a page
    install_ui(app)
    app.docs_url, app.openapi_url = "/docs", "/openapi.json"
    app.setup()  # NiceGUI's app starts without docs; this adds /docs and /openapi.json
    app.openapi = _api_only(app.openapi)


def _api_only(openapi: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """The contract is the API: NiceGUI's own resource routes, and the schemas only they used
    (FastAPI's default validation error, which our handler never sends), stay out of it."""

    def schema() -> dict[str, Any]:
        document = openapi()
        document["paths"] = {p: v for p, v in document["paths"].items() if p.startswith("/api/")}
        schemas = document.get("components", {}).get("schemas", {})
        while unused := _unreferenced(schemas, json.dumps(document)):
            for name in unused:
                del schemas[name]
        return document

    return schema


def _unreferenced(schemas: dict[str, Any], document_text: str) -> list[str]:
    return [name for name in schemas if f'"#/components/schemas/{name}"' not in document_text]
