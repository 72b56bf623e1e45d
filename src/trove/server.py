"""`trove serve`: the app under uvicorn, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

from collections.abc import Sequence

from trove.config import Settings


def run_server(settings: Settings, *, roots: Sequence[str]) -> None:
    import uvicorn

    from trove.app import create_app

    check_storage(settings)
    from trove.services.scanner import canonical_root, root_unavailable_reason

    for path in roots:
        reason = root_unavailable_reason(canonical_root(path))
        if reason:
            from trove.services.scanner import RootUnavailable

            raise RootUnavailable(f"{path}: {reason}")
    app = create_app(settings, roots=list(roots))
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


def check_storage(settings: Settings) -> None:
    """Before serving: the data and cache folders take writes and the index opens, or one line
    says which does not (uvicorn would report it as a traceback from inside its start-up)."""
    import tempfile

    from trove.db.migrate import ensure_schema
    from trove.services.errors import Unavailable

    for folder in (settings.data_dir, settings.resolved_cache_dir):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise Unavailable(
                f"cannot write to {folder} ({exc.strerror}): Trove keeps its index and previews"
                " there; give it a writable folder with room (--data-dir / TROVE_DATA_DIR)"
            ) from exc
    ensure_schema(settings.resolved_database_url)
