"""Where Trove's messages go: progress on the terminal, warnings in the log file.

Imaging libraries warn through Python's `warnings` (Pillow's DecompressionBombWarning, ...);
printed as they come they would break `trove scan`'s progress display and bury `trove serve`'s
lines. They are kept in `<data dir>/trove.log`, with Trove's own warnings and errors.
"""

from __future__ import annotations

import logging
import sys
import threading

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
        handler.setFormatter(logging.Formatter(_FORMAT))
        for logger in (trove, py_warnings):
            logger.addHandler(handler)
        trove.setLevel(min(trove.getEffectiveLevel(), logging.INFO))
        py_warnings.propagate = False  # the file only: never the terminal
        logging.captureWarnings(True)


class _LogFile(logging.FileHandler):
    """Trove's log file (a type of its own, so a second set-up finds the first)."""


def progress_to_terminal() -> None:
    """`trove serve`: Trove's progress lines (scans, pipeline runs) on stdout beside the
    server's own, as plain lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    trove = logging.getLogger("trove")
    trove.addHandler(handler)
    trove.setLevel(logging.INFO)
