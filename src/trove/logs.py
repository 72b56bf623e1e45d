"""Where Trove's messages go: progress on the terminal, warnings in the log file.

Imaging libraries warn through Python's `warnings` (Pillow's DecompressionBombWarning, ...);
printed as they come they would break `trove scan`'s progress display and bury `trove serve`'s
lines. They are kept in `<data dir>/trove.log`, with Trove's own warnings and errors.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from trove.config import Settings

LOG_FILE = "trove.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_SETUP = threading.Lock()


def warnings_to_log_file(settings: Settings) -> None:
    """Python warnings and Trove's log records go to the log file; idempotent per process.

    Warnings are captured only once the file handler is in place, and the set-up holds a lock:
    a decoder thread that warned in between would reach logging's last-resort handler, stderr.
    """
    with _SETUP:
        trove, py_warnings = logging.getLogger("trove"), logging.getLogger("py.warnings")
        if any(isinstance(h, _LogFile) for h in py_warnings.handlers):
            return
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError:  # said elsewhere (the database lives there too); never fail a scan here
            return
        # delay: nothing is created until there is something to say.
        handler = _LogFile(settings.data_dir / LOG_FILE, encoding="utf-8", delay=True)
        handler.setFormatter(_formatter(settings, plain=_FORMAT))
        for logger in (trove, py_warnings):
            logger.addHandler(handler)
        trove.setLevel(min(trove.getEffectiveLevel(), logging.INFO))
        py_warnings.propagate = False  # the file only: never the terminal
        logging.captureWarnings(True)


class _LogFile(logging.FileHandler):
    """Trove's log file (a type of its own, so a second set-up finds the first)."""


def progress_to_terminal(settings: Settings) -> None:
    """`trove serve`: Trove's progress lines (scans, pipeline runs) on stdout beside the
    server's own, as plain lines (or one JSON object a line, TROVE_LOG_FORMAT=json)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_formatter(settings, plain="%(message)s"))
    trove = logging.getLogger("trove")
    trove.addHandler(handler)
    trove.setLevel(logging.INFO)


def worker_logs_to_stderr(settings: Settings) -> None:
    """`trove worker` (its supervisor and each worker process): every log record, taskiq's
    included, on stderr in taskiq's plain format (or one JSON object a line); idempotent."""
    from taskiq.cli.worker.args import WorkerArgs

    root = logging.getLogger()
    if any(isinstance(h, _WorkerStderr) for h in root.handlers):
        return
    handler = _WorkerStderr(sys.stderr)
    handler.setFormatter(_formatter(settings, plain=WorkerArgs.log_format))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # each start's schema check: noise
    if settings.log_format == "json":  # a crash's traceback too: one object, not 40 lines
        sys.excepthook = _log_uncaught


def _log_uncaught(kind: type[BaseException], error: BaseException, tb: Any) -> None:
    logging.getLogger("trove").critical("uncaught exception", exc_info=(kind, error, tb))


class _WorkerStderr(logging.StreamHandler):
    """The worker's stderr handler (a type of its own, so a second set-up finds the first)."""


def uvicorn_log_config(settings: Settings) -> dict[str, Any] | None:
    """uvicorn's own lines (start-up, access log) in the same JSON shape as Trove's, or None
    for uvicorn's default plain lines."""
    if settings.log_format != "json":
        return None
    formatter = {"()": "pythonjsonlogger.json.JsonFormatter", **_JSON_OPTIONS}
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": formatter},
        "handlers": {"stdout": handler},
        "loggers": {
            name: {"handlers": ["stdout"], "level": "INFO", "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


# One object a line: a log collector (journald, Loki, a container runtime) reads fields, not text.
_JSON_OPTIONS: dict[str, Any] = {
    "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
}


def _formatter(settings: Settings, *, plain: str) -> logging.Formatter:
    if settings.log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(**_JSON_OPTIONS)
    return logging.Formatter(plain)
