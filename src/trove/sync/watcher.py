"""FileWatcher (seed 4.5): keeps the index in step with the disk while Trove runs.

- **Events only enqueue work.** watchdog (inotify) events go to a Debouncer; what is due goes
  to the BackgroundIndexer as one job (so SQLite sees one writer, and a scan and the events'
  syncs never interleave). The job syncs paths *as they are now* (sync/path_sync.py), so
  merged, repeated or late events do no harm.
- **Moves keep identity.** A rename (file or folder) is applied to the index at once, subtree
  and all, before anything queued for the paths involved (which follows the move).
- **One watcher per root across processes** (sync/locks.py).
- **Says when it cannot watch.** A root whose watches cannot all be added (inotify's
  `fs.inotify.max_user_watches` is per user, and watchdog silently skips sub-folders it
  cannot watch, so the watches this process holds are counted against the folders indexed),
  or that lies on a network file system (inotify does not see other machines' changes), is
  rescanned every `watch_fallback_interval` seconds instead; `Root.watch_status`, the log and
  `trove status` say so and why.
- **Offline roots.** A root that vanishes (unmounted, renamed away) is rescanned (so it is
  marked offline, nothing missing) and polled until it is back, then rescanned and watched.
  A root relocated to another folder (services/relocation.py) is followed there; its former
  folder is left alone, whatever appears at it later.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from trove.config import Settings
from trove.errors import is_database_unreachable
from trove.repositories import fast_index
from trove.services.scanner import ScanService
from trove.sync.debounce import Debouncer
from trove.sync.events import EventHandler
from trove.sync.locks import RootLock
from trove.sync.mounts import (
    describe_watch_error,
    folders_on_disk,
    inotify_watch_count,
    network_filesystem,
    root_identity,
    watch_limit_hint,
)
from trove.sync.path_sync import PathSync

log = logging.getLogger(__name__)

_HEALTH_EVERY_S = 5.0


class Submitter(Protocol):
    """Where the watcher sends its work: the BackgroundIndexer (or a stand-in in tests)."""

    def submit(self, label: str, work: Callable[[], Any]) -> None: ...

    def request_scan(self, path: str) -> None: ...

    def request_processing(self) -> None: ...


@dataclass
class RootWatch:
    root: fast_index.RootRow
    lock: RootLock
    mode: str = "starting"  # watching | polling | offline | standby | stopped
    reason: str | None = None
    watch: Any = None
    identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the root folder
    next_poll: float = 0.0
    retry_watch: bool = True
    folders_watched: int = 0
    setup_s: float | None = None  # how long adding the inotify watches took

    @property
    def status_text(self) -> str:
        if self.mode == "watching":
            return f"watching (inotify, {self.folders_watched} folders)"
        return f"{self.mode}: {self.reason}" if self.reason else self.mode


@dataclass
class WatchStats:
    events: int = 0
    dispatched_paths: int = 0
    dispatched_moves: int = 0
    recent: deque[tuple[float, str, str]] = field(default_factory=lambda: deque(maxlen=2000))

    def syncs_of(self, path: str) -> int:
        """How many times `path` was handed over for syncing (tests: once per write)."""
        return sum(1 for _t, kind, p in list(self.recent) if kind == "sync" and p == path)


class FileWatcher:
    def __init__(
        self,
        settings: Settings,
        submitter: Submitter,
        *,
        scanner: ScanService | None = None,
        observer_factory: Callable[[], Any] | None = None,
        tick_s: float = 1.0,
    ) -> None:
        self.settings = settings
        self.url = settings.resolved_database_url
        self.submitter = submitter
        self.scanner = scanner or ScanService(settings)
        self.sync = PathSync(self.scanner)
        self.stats = WatchStats()
        self.roots: dict[str, RootWatch] = {}
        self._observer_factory = observer_factory or _inotify_observer
        self._observer: Any = None
        self._unavailable: str | None = None
        self._debouncer = Debouncer(self._dispatch)
        # Each batch's job label is its own: the indexer keeps one job per label (the newer
        # work wins), and two batches dispatched in the same millisecond with the same counts
        # had the same label, so the first was dropped (a rename never applied).
        self._batch_numbers = itertools.count(1)
        self._handler: Any = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._tick_s = tick_s
        self._next_health = 0.0
        self._short_since: float | None = None
        self._thread = threading.Thread(target=self._supervise, name="trove-watch", daemon=True)
        self._prune = tuple(
            os.path.realpath(p) + os.sep for p in (settings.data_dir, settings.resolved_cache_dir)
        )

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Watch every known root (or stand by / poll), then rescan each once."""
        try:
            self._observer = self._observer_factory()
            self._observer.start()
        except Exception as exc:  # no inotify here at all: every root is polled instead
            log.warning("watcher: file system events are unavailable: %s", exc)
            self._observer, self._unavailable = None, f"file system events are unavailable: {exc}"
        self._handler = EventHandler(self)
        self._debouncer.start()
        self.refresh_roots()
        for state in list(self.roots.values()):
            self.submitter.request_scan(state.root.path)  # what changed while Trove was down
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        self._debouncer.stop()
        with self._lock:
            for state in self.roots.values():
                self._unwatch(state)
                if state.lock.held:
                    self._write_status(state, None)
                    state.lock.release()
                state.mode = "stopped"
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(10)

    def refresh_roots(self) -> None:
        """Pick up roots added since start (POST /api/dam/roots, an upload root), follow a
        root relocated to another folder, and let go of a root that was removed."""
        with fast_index.connect(self.url) as conn:
            rows = {row.id: row for row in fast_index.all_roots(conn)}
        with self._lock:
            for root_id in self.roots.keys() - rows.keys():
                self._let_go(self.roots.pop(root_id))
            for row in rows.values():
                state = self.roots.get(row.id)
                if state is None:
                    state = RootWatch(row, RootLock(self.url, row.id))
                    self.roots[row.id] = state
                    self._establish(state)
                elif state.root.path != row.path:
                    self._follow(state, row)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "roots": {s.root.path: s.status_text for s in self.roots.values()},
                "setup_s": {  # roots never watched yet (offline, standby) have no figure
                    s.root.path: s.setup_s for s in self.roots.values() if s.setup_s is not None
                },
                "events": self.stats.events,
                "pending": self._debouncer.pending(),
                "inotify_watches": inotify_watch_count(),
            }

    # --- events ----------------------------------------------------------------------------

    def on_path_event(self, path: str, *, delay: float) -> None:
        self.stats.events += 1
        if not self._is_pruned(path):
            self._debouncer.touch(path, delay=delay)

    def _is_pruned(self, path: str) -> bool:
        """Trove's own data and cache folders (say, inside a library) make no events worth
        syncing, except a root that lives there (the upload folder)."""
        if not path.startswith(self._prune):
            return False
        roots = [s.root.path + os.sep for s in list(self.roots.values())]
        return not any(path.startswith(r) and r.startswith(self._prune) for r in roots)

    def on_move_event(self, src: str, dest: str) -> None:
        self.stats.events += 1
        self._debouncer.moved(src, dest)

    def on_root_event(self, path: str) -> None:
        """The watched root itself was deleted or moved: check it on the next tick."""
        self._next_health = 0.0

    def _dispatch(self, moves: list[tuple[str, str]], paths: list[str]) -> None:
        now = time.monotonic()
        for src, dest in moves:
            self.stats.recent.append((now, "move", f"{src} -> {dest}"))
        for path in paths:
            self.stats.recent.append((now, "sync", path))
        self.stats.dispatched_moves += len(moves)
        self.stats.dispatched_paths += len(paths)
        label = f"watch #{next(self._batch_numbers)}: {len(moves)} moves, {len(paths)} paths"
        self.submitter.submit(label, lambda: self._apply(moves, paths))

    def _apply(self, moves: list[tuple[str, str]], paths: list[str]) -> None:
        """On the indexer's thread: moves first (in order), then the quiet paths."""
        wrote = False
        for src, dest in moves:
            wrote |= self.sync.move(src, dest).wrote
        if paths:
            wrote |= self.sync.sync(paths).wrote
        if wrote:
            self.submitter.request_processing()

    # --- supervision -----------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stop.wait(self._tick_s):
            try:
                self.tick()
            except Exception as exc:
                if _database_away(exc):  # health and the API say so already
                    log.warning("watcher: the database does not answer (%s); retrying", exc)
                else:
                    log.exception("watcher: supervision failed; retrying")

    def tick(self) -> None:
        now = time.monotonic()
        with self._lock:
            for state in self.roots.values():
                self._check(state, now)
            if now >= self._next_health:
                self._next_health = now + _HEALTH_EVERY_S
                self.refresh_roots()
                self._check_watch_count(now)

    def _check(self, state: RootWatch, now: float) -> None:
        if state.mode == "standby":
            self._establish(state)
        elif state.mode == "watching":
            if not state.lock.still_held():
                self._unwatch(state)
                state.mode, state.reason = "standby", "lost the watch lock; taking it back"
            elif root_identity(state.root.path) != state.identity:
                self._went_away(state)
        elif state.mode in ("polling", "offline") and now >= state.next_poll:
            self._poll(state, now)

    def _poll(self, state: RootWatch, now: float) -> None:
        identity = root_identity(state.root.path)
        if state.mode == "offline":
            state.next_poll = now + self._tick_s
            if identity is None:
                return
            log.info("watcher: root %s is back; rescanning", state.root.path)
            self.submitter.request_scan(state.root.path)
            self._establish(state)
            return
        state.next_poll = now + self.settings.watch_fallback_interval
        self.submitter.request_scan(state.root.path)
        if state.retry_watch and identity is not None:
            self._establish(state, quiet=True)

    def _follow(self, state: RootWatch, row: fast_index.RootRow) -> None:
        """The root was relocated: its former folder is no longer watched (nor polled, nor
        rescanned), its new one is."""
        log.info("watcher: root %s moved to %s; following it", state.root.path, row.path)
        self._unwatch(state)
        state.root, state.identity = row, None
        self._establish(state)

    def _let_go(self, state: RootWatch) -> None:
        log.info("watcher: root %s was removed; no longer watched", state.root.path)
        self._unwatch(state)
        state.lock.release()
        state.mode = "stopped"

    def _went_away(self, state: RootWatch) -> None:
        log.warning("watcher: root %s disappeared or was remounted", state.root.path)
        self._unwatch(state)
        state.mode, state.reason = "offline", "the folder is gone or was remounted"
        state.next_poll = time.monotonic() + self._tick_s
        self._write_status(state, state.status_text)  # before the scan says the root is offline
        self.submitter.request_scan(state.root.path)  # marks it offline, nothing missing

    def _check_watch_count(self, now: float) -> None:
        """watchdog skips sub-folders it cannot watch without a word: count the watches."""
        watching = [s for s in self.roots.values() if s.mode == "watching"]
        if not watching:
            return
        held = inotify_watch_count()
        if held is None:
            return
        with fast_index.connect(self.url) as conn:
            needed = sum(fast_index.count_folders(conn, s.root.id) for s in watching)
        if held < needed:  # the index may hold folders the disk no longer has
            needed = sum(folders_on_disk(s.root.path, up_to=needed) for s in watching)
        if held >= needed:
            self._short_since = None
            return
        if self._short_since is None:  # a folder deleted a moment ago: look again first
            self._short_since = now
            return
        log.warning("watcher: %d inotify watches for %d folders; re-checking roots", held, needed)
        self._short_since = None
        for state in watching:
            self._unwatch(state)
        for state in watching:
            self._establish(state)

    # --- establishing a watch --------------------------------------------------------------

    def _establish(self, state: RootWatch, *, quiet: bool = False) -> None:
        identity = root_identity(state.root.path)
        if identity is None:
            state.mode, state.reason = "offline", "the folder is missing or unreadable"
            state.next_poll = time.monotonic() + self._tick_s
            if state.lock.acquire():
                self._write_status(state, state.status_text)
            return
        if not state.lock.acquire():
            state.mode, state.reason = "standby", "watched by another Trove process"
            return
        network = network_filesystem(state.root.path)
        if network:
            self._fall_back(
                state,
                f"{state.root.path} is on a network file system ({network}); inotify does not"
                " see changes made by other machines",
                retry=False,
            )
            return
        started = time.perf_counter()
        problem = self._watch(state)
        state.setup_s = round(time.perf_counter() - started, 4)
        if problem is None:
            state.mode, state.reason, state.identity = "watching", None, identity
            self._write_status(state, state.status_text)
            log.info("watcher: watching %s (%d folders)", state.root.path, state.folders_watched)
        elif not (quiet and state.mode == "polling"):
            self._fall_back(state, problem, retry=True)

    def _watch(self, state: RootWatch) -> str | None:
        """Add the inotify watches of a root; a reason when they could not all be added."""
        from watchdog.events import (
            DirAttribEvent,
            DirCreatedEvent,
            DirDeletedEvent,
            DirMovedEvent,
            FileAttribEvent,
            FileClosedEvent,
            FileCreatedEvent,
            FileDeletedEvent,
            FileModifiedEvent,
            FileMovedEvent,
        )

        if self._observer is None:
            return self._unavailable or "file system events are unavailable"
        with fast_index.connect(self.url) as conn:
            needed = fast_index.count_folders(conn, state.root.id)
        before = inotify_watch_count()
        try:
            state.watch = self._observer.schedule(
                self._handler,
                state.root.path,
                recursive=True,
                event_filter=[
                    FileCreatedEvent,
                    FileModifiedEvent,
                    FileAttribEvent,
                    FileClosedEvent,
                    FileDeletedEvent,
                    FileMovedEvent,
                    DirAttribEvent,  # permissions: a folder that could not be listed
                    DirCreatedEvent,
                    DirDeletedEvent,
                    DirMovedEvent,
                ],
            )
        except OSError as exc:
            state.watch = None
            return describe_watch_error(exc)
        after = inotify_watch_count()
        added = (after - before) if before is not None and after is not None else needed
        state.folders_watched = added
        if added < needed:  # the index may hold folders the disk does not have (yet)
            needed = folders_on_disk(state.root.path, up_to=needed)
        if added < needed:
            self._unwatch(state)  # give the watches back: a partial watch misses changes
            return (
                f"inotify watch limit reached: {added} of {needed} folders could be watched"
                f" ({watch_limit_hint()})"
            )
        return None

    def _fall_back(self, state: RootWatch, reason: str, *, retry: bool) -> None:
        interval = self.settings.watch_fallback_interval
        state.mode = "polling"
        state.reason = f"every {interval:g} s, because {reason}"
        state.retry_watch = retry
        state.next_poll = time.monotonic() + interval
        self._write_status(state, state.status_text)
        log.warning("watcher: %s is rescanned %s", state.root.path, state.reason)

    def _unwatch(self, state: RootWatch) -> None:
        if state.watch is not None and self._observer is not None:
            with contextlib.suppress(Exception):
                self._observer.unschedule(state.watch)
        state.watch = None

    def _write_status(self, state: RootWatch, text: str | None) -> None:
        try:
            with fast_index.connect(self.url) as conn:
                fast_index.set_watch_status(conn, state.root.id, text)
        except Exception as exc:
            log.warning("watcher: cannot record the watch status of %s: %s", state.root.path, exc)


def _inotify_observer() -> Any:
    """inotify on Linux (what the watch accounting above is written for); elsewhere
    watchdog's native observer for the platform."""
    from watchdog.observers import Observer

    return Observer()


def _database_away(exc: Exception) -> bool:
    """The index cannot be opened or reached right now (its file swapped, a server down):
    the next tick tries again, and one line says so instead of a traceback each tick."""
    away = (fast_index.IndexUnavailable, fast_index.DatabaseUnreachable)
    return isinstance(exc, away) or is_database_unreachable(exc)
