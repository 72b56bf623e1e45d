"""`trove serve`: the app under uvicorn, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

from collections.abc import Sequence

from trove.config import Settings


def run_server(settings: Settings, *, roots: Sequence[str]) -> None:
    import uvicorn

    from trove.app import create_app
    from trove.services.scanner import canonical_root, root_unavailable_reason

    for path in roots:
        reason = root_unavailable_reason(canonical_root(path))
        if reason:
            from trove.services.scanner import RootUnavailable

            raise RootUnavailable(f"{path}: {reason}")
    app = create_app(settings, roots=list(roots))
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
