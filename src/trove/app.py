"""create_app(settings): the FastAPI application with its routers, errors and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from trove import __version__
from trove.api.errors import install_error_handlers
from trove.api.routes import assets, jobs, library, thumbnails, upload
from trove.config import Settings
from trove.services.container import Services

_HOME = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Trove</title></head>
<body><h1>Trove</h1><p>The web UI comes soon. Meanwhile: <a href="/docs">API docs</a>,
<a href="/api/dam/assets">assets</a>, <a href="/api/dam/status">status</a>.</p></body></html>"""


def create_app(settings: Settings, *, roots: Sequence[str] = ()) -> FastAPI:
    """Build the app; `roots` are added and scanned in the background once it starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.create(settings)
        app.state.services = services
        services.indexer.start()
        for path in roots:
            services.library.add_root(path, indexer=services.indexer)
        services.indexer.request_processing()  # resume whatever an earlier run left pending
        try:
            yield
        finally:
            services.close()

    app = FastAPI(title="Trove", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    for module in (assets, thumbnails, upload, library, jobs):
        app.include_router(module.router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return _HOME

    return app
