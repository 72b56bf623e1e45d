"""The periodic part of a running server: every root rescanned every `scavenger_interval`
seconds (the watcher rescans each at start, to catch what happened while Trove was stopped),
the throttled bitrot check every `verify_interval` seconds, the nightly export of what
users made at `export_at` (unless `export_keep` is 0), and small chores every minute (uploads
waiting for an offline library)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from trove.config import Settings
from trove.repositories import fast_index

if TYPE_CHECKING:
    from trove.sync.watcher import Submitter

log = logging.getLogger(__name__)

# Small periodic chores (uploads waiting for an offline library): cheap when there are none.
UPKEEP_EVERY_S = 60.0


class Scavenger:
    """Periodic work of a running server: rescan every root every `scavenger_interval`
    seconds, and run the throttled bitrot check every `verify_interval` seconds."""

    def __init__(
        self,
        settings: Settings,
        submitter: Submitter,
        *,
        verify: Callable[[threading.Event, bool], Any],
        roots: Callable[[], list[str]],
        nightly: Callable[[], Any] | None = None,
        upkeep: Callable[[], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.submitter = submitter
        self._verify = verify
        self._roots = roots
        self._nightly = nightly if settings.export_keep > 0 else None
        self._upkeep = upkeep
        self._stop = threading.Event()
        self._verifying: threading.Thread | None = None
        self._thread = threading.Thread(target=self._run, name="trove-scavenger", daemon=True)
        self.last_verify: Any = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in (self._thread, self._verifying):
            if thread is not None and thread.is_alive():
                thread.join(10)

    def _run(self) -> None:
        scan_every = self.settings.scavenger_interval
        verify_every = self.settings.verify_interval
        next_scan = time.monotonic() + scan_every if scan_every else None
        next_verify = time.monotonic() + min(verify_every, 60.0) if verify_every else None
        next_nightly = self._next_nightly()
        next_upkeep = time.monotonic() + UPKEEP_EVERY_S if self._upkeep else None
        while True:
            due = [t for t in (next_scan, next_verify, next_nightly, next_upkeep) if t is not None]
            if self._stop.wait(max(0.0, min(due) - time.monotonic()) if due else None):
                return
            now = time.monotonic()
            if next_scan is not None and now >= next_scan:
                for path in self._roots():
                    self.submitter.request_scan(path)
                next_scan = now + scan_every
            if next_verify is not None and now >= next_verify:
                self._start_verify()
                next_verify = now + verify_every
            if next_nightly is not None and now >= next_nightly and self._nightly is not None:
                self._nightly()
                next_nightly = self._next_nightly()
            if next_upkeep is not None and now >= next_upkeep and self._upkeep is not None:
                try:
                    self._upkeep()
                except Exception:  # the next minute tries again
                    log.exception("scavenger: upkeep failed")
                next_upkeep = now + UPKEEP_EVERY_S

    def _next_nightly(self) -> float | None:
        """The monotonic time of the next nightly export (wall-clock `export_at`)."""
        from trove.services.user_data.nightly import next_run, seconds_until

        if self._nightly is None:
            return None
        now = datetime.now()
        # A minute ahead: a timer that fires a little early must not run twice that night.
        moment = next_run(now + timedelta(minutes=1), self.settings.export_at)
        return time.monotonic() + seconds_until(moment, now)

    def verify_now(self) -> bool:
        """Start a bitrot check of every file now; False when one is already running."""
        return self._start_verify(full=True)

    def _start_verify(self, *, full: bool = False) -> bool:
        if self._verifying is not None and self._verifying.is_alive():
            return False  # the last pass is still reading (throttled): let it finish

        def run() -> None:
            try:
                self.last_verify = self._verify(self._stop, full)
            except Exception:
                log.exception("scavenger: bitrot check failed")

        self._verifying = threading.Thread(target=run, name="trove-verify", daemon=True)
        self._verifying.start()
        return True


def known_root_paths(url: str) -> list[str]:
    with fast_index.connect(url) as conn:
        return [root.path for root in fast_index.all_roots(conn)]
