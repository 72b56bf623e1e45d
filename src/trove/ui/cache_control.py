"""NiceGUI's versioned assets are immutable: they are served with its Cache-Control.

NiceGUI's own `SetCacheControlMiddleware` does this as a BaseHTTPMiddleware, which passes
every request body of the app through an in-memory stream between two tasks: a resumable
upload's 2 GB PATCH went several times slower through it. This one is plain ASGI and only
touches the responses it is about.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ImmutableAssetsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        from nicegui import __version__

        self.app = app
        self.prefix = f"/_nicegui/{__version__}/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from nicegui import core

        prefix = self.prefix
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(prefix) or path.startswith(prefix + "dynamic_resources/"):
            await self.app(scope, receive, send)
            return
        directives = core.app.config.cache_control_directives

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(raw=message.setdefault("headers", []))["cache-control"] = directives
            await send(message)

        await self.app(scope, receive, sending)
