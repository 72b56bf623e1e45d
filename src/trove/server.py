"""`trove serve`: the app under uvicorn, on 127.0.0.1 unless told otherwise.

Imported only by the `serve` command, so importing uvicorn here costs no other command.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence
from types import FrameType
from typing import Any

import uvicorn

from trove.config import Settings

log = logging.getLogger("trove.server")


def run_server(settings: Settings, *, roots: Sequence[str]) -> None:
    from trove.app import create_app
    from trove.logs import progress_to_terminal, warnings_to_log_file

    check_exposure(settings)
    check_storage(settings)
    warnings_to_log_file(settings)  # before any thread can decode a picture
    app = create_app(settings, roots=list(roots))
    progress_to_terminal(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        **_log_config(settings),
    )
    server = AnnouncingServer(config, app=app, url=server_url(settings.host, settings.port))
    server.run()
    if server.interrupted:
        raise KeyboardInterrupt  # exit status 130, as for every other command


def _log_config(settings: Settings) -> dict[str, Any]:
    from trove.logs import uvicorn_log_config

    config = uvicorn_log_config(settings)
    return {} if config is None else {"log_config": config}


def server_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class AnnouncingServer(uvicorn.Server):
    """Says once, when it listens, where Trove answers and for how many libraries: the one
    line a person looks for among the access logs. Remembers a Ctrl-C itself: uvicorn raises
    the signal again once it has shut down, and a CI run once saw that second SIGINT get
    lost, so a stopped server exited 0 instead of 130."""

    def __init__(self, config: uvicorn.Config, *, app: Any, url: str) -> None:
        super().__init__(config)
        self.trove_app, self.url = app, url
        self.interrupted = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGINT:
            self.interrupted = True
        super().handle_exit(sig, frame)

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            services = self.trove_app.state.services
            libraries = services.library.count_libraries()
            noun = "library" if libraries == 1 else "libraries"
            # Through Trove's stdout handler: a plain line, or a JSON record like every other.
            log.info("Trove is serving %s (%d %s)", self.url, libraries, noun)
            if not services.settings.auth:
                log.warning(AUTH_OFF_NOTICE)
            elif services.users.needs_setup():
                log.warning(
                    "No one can sign in yet: open %s/setup in a browser on this machine,"
                    " or run `trove users add NAME --admin`",
                    self.url,
                )


AUTH_OFF_NOTICE = (
    "sign-in is off (TROVE_AUTH=off): anyone who can reach this address uses Trove as its"
    " owner, so it listens on loopback only"
)


def check_exposure(settings: Settings) -> None:
    """Without sign-in, Trove is one person's app on this machine: any other address is
    refused before anything listens."""
    from trove.services.errors import Invalid

    if not settings.auth and not is_loopback(settings.host):
        raise Invalid(
            f"refusing to listen on {settings.host} with sign-in off (TROVE_AUTH=off): anyone"
            " on the network could read and change every library. Turn sign-in on (the"
            " default: unset TROVE_AUTH) or listen on 127.0.0.1"
        )


def is_loopback(host: str) -> bool:
    from ipaddress import ip_address

    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ip_address(name).is_loopback
    except ValueError:
        return False


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
