"""Debounced syncing, without relying on `closed` events.

A path is synced once it has been quiet for `watch_debounce` seconds (a file still being
written keeps pushing that back); a close-after-write shortens the wait to `watch_settle`. A
file in a brand-new folder may only get a synthetic `created` event: the quiet period alone
then decides. Moves are handed over at once, in order, before the paths they affect.
"""

from __future__ import annotations

import heapq
import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Debouncer:
    """Collects paths to sync, each with the time it is due, and moves, in order.

    `touch(path, delay)` (re)sets when `path` is due: the latest event decides. `moved(src,
    dest)` is dispatched at once, and pending paths at or below `src` are renamed to `dest`.
    A background thread hands what is due to `dispatch(moves, paths)`.
    """

    # Paths falling due within this much of each other go out in one batch (one job).
    BATCH_WINDOW_S = 0.05

    def __init__(
        self,
        dispatch: Callable[[list[tuple[str, str]], list[str]], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._dispatch = dispatch
        self._clock = clock
        self._due: dict[str, float] = {}
        # (due, path) in due order; entries whose due no longer matches _due are stale. A heap
        # keeps a burst of thousands of events (a folder copied in) linear, not quadratic.
        self._heap: list[tuple[float, str]] = []
        self._wake_at = float("inf")
        self._moves: list[tuple[str, str]] = []
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="trove-debounce", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(5)

    def touch(self, path: str, *, delay: float) -> None:
        with self._cond:
            self._schedule(path, self._clock() + delay)

    def moved(self, src: str, dest: str) -> None:
        with self._cond:
            prefix = src + os.sep
            for path in [p for p in self._due if p == src or p.startswith(prefix)]:
                self._schedule(dest + path[len(src) :], self._due.pop(path))
            self._moves.append((src, dest))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._due) + len(self._moves)

    def _schedule(self, path: str, due: float) -> None:
        self._due[path] = due
        heapq.heappush(self._heap, (due, path))
        if due < self._wake_at:  # only wake the thread when it would sleep too long
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                moves, paths = self._take_due()
                while not (moves or paths or self._stopped):
                    self._cond.wait(self._wait_s())
                    moves, paths = self._take_due()
                if self._stopped:
                    return
            try:
                self._dispatch(moves, paths)
            except Exception:  # never let one bad batch stop the watcher
                log.exception("watcher: dispatching %d paths failed", len(paths))

    def _take_due(self) -> tuple[list[tuple[str, str]], list[str]]:
        horizon = self._clock() + self.BATCH_WINDOW_S
        paths = []
        while self._heap and self._heap[0][0] <= horizon:
            due, path = heapq.heappop(self._heap)
            if self._due.get(path) == due:
                del self._due[path]
                paths.append(path)
        moves, self._moves = self._moves, []
        return moves, paths

    def _wait_s(self) -> float | None:
        while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
            heapq.heappop(self._heap)  # stale
        if not self._heap:
            self._wake_at = float("inf")
            return None
        self._wake_at = self._heap[0][0]
        return max(0.0, self._wake_at - self._clock())
