"""FileWatcher (seed 4.5): keeps the index in step with the disk while Trove runs.

- **Events only enqueue work.** watchdog (inotify) events go to a Debouncer; what is due goes
  to the BackgroundIndexer as one job (so SQLite sees one writer, and a scan and the events'
  syncs never interleave). The job syncs paths *as they are now* (services/path_sync.py), so
  merged, repeated or late events do no harm.
- **Debounced, without relying on `closed` events.** A path is synced once it has been quiet
  for `watch_debounce` seconds (a file still being written keeps pushing that back); a
  close-after-write shortens the wait to `watch_settle`. A file in a brand-new folder may only
  get a synthetic `created` event: the quiet period alone then decides.
- **Moves keep identity.** A rename (file or folder) is applied to the index at once, subtree
  and all, before anything queued for the paths involved (which follows the move).
- **One watcher per root across processes.** Each root is watched only by the process that
  holds its lock: a `flock` on a file beside the SQLite database, or a PostgreSQL
  session-level advisory lock (works across machines). Neither outlives a crashed holder.
  Other processes stand by and take over when the lock frees.
- **Says when it cannot watch.** A root whose watches cannot all be added (inotify's
  `fs.inotify.max_user_watches` is per user, and watchdog silently skips sub-folders it
  cannot watch, so the watches this process holds are counted against the folders indexed),
  or that lies on a network file system (inotify does not see other machines' changes), is
  rescanned every `watch_fallback_interval` seconds instead; `Root.watch_status`, the log and
  `trove status` say so and why.
- **Offline roots.** A root that vanishes (unmounted, renamed away) is rescanned (so it is
  marked offline, nothing missing) and polled until it is back, then rescanned and watched.

The Scavenger (below) is the periodic part: every root rescanned every `scavenger_interval`
seconds (and at start, to catch what happened while Trove was stopped), and the throttled
bitrot check every `verify_interval` seconds.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import logging
import os
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from trove.config import Settings
from trove.repositories import fast_index
from trove.services.path_sync import PathSync
from trove.services.scanner import ScanService

log = logging.getLogger(__name__)

# inotify cannot see changes made by other machines on these.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "davfs",
        "fuse.sshfs",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.glusterfs",
        "fuse.davfs2",
        "fuse.gcsfuse",
        "fuse.smbnetfs",
    }
)
_LOCK_NAMESPACE = 0x7472  # "tr": first key of the PostgreSQL advisory lock pair
_HEALTH_EVERY_S = 5.0


class Submitter(Protocol):
    """Where the watcher sends its work: the BackgroundIndexer (or a stand-in in tests)."""

    def submit(self, label: str, work: Callable[[], Any]) -> None: ...

    def request_scan(self, path: str) -> None: ...

    def request_processing(self) -> None: ...


# --- debouncing ---------------------------------------------------------------------------------


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


# --- locks -------------------------------------------------------------------------------------


class RootLock:
    """The right to watch one root, held by at most one process (see the module docstring)."""

    def __init__(self, url: str, root_id: str) -> None:
        self.url = url
        self.root_id = root_id
        self._fd: int | None = None
        self._conn: Any = None
        self._held: contextlib.ExitStack | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None or self._conn is not None

    def acquire(self) -> bool:
        if self.held:
            return True
        try:
            return self._acquire_file() if self.url.startswith("sqlite") else self._acquire_pg()
        except Exception as exc:  # a database hiccup: try again on the next tick
            log.warning("watcher: cannot take the watch lock of root %s: %s", self.root_id, exc)
            return False

    def still_held(self) -> bool:
        """A PostgreSQL lock dies with its connection: check it is alive."""
        if self._conn is None:
            return self.held
        if fast_index.ping(self._conn):
            return True
        self.release()
        return False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
        if self._held is not None:
            with contextlib.suppress(Exception):
                self._held.close()
            self._held, self._conn = None, None

    def _acquire_file(self) -> bool:
        import fcntl

        database = self.url.split("///", 1)[1]
        path = os.path.join(os.path.dirname(database), f".trove-watch-{self.root_id}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def _acquire_pg(self) -> bool:
        stack = contextlib.ExitStack()
        conn = stack.enter_context(fast_index.held_connection(self.url))
        key = zlib.crc32(self.root_id.encode()) - 2**31  # a signed 32-bit int
        if not fast_index.try_advisory_lock(conn, _LOCK_NAMESPACE, key):
            stack.close()
            return False
        self._held, self._conn = stack, conn
        return True


# --- per-root state ----------------------------------------------------------------------------


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


# --- the watcher -------------------------------------------------------------------------------


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
        self._handler = _EventHandler(self)
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
        """Pick up roots added since start (POST /api/dam/roots, an upload root)."""
        with fast_index.connect(self.url) as conn:
            rows = fast_index.all_roots(conn)
        with self._lock:
            for row in rows:
                if row.id not in self.roots:
                    state = RootWatch(row, RootLock(self.url, row.id))
                    self.roots[row.id] = state
                    self._establish(state)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "roots": {s.root.path: s.status_text for s in self.roots.values()},
                "setup_s": {s.root.path: s.setup_s for s in self.roots.values()},
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
        label = f"watch: {len(moves)} moves, {len(paths)} paths @{now:.3f}"
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
            except Exception:
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
            elif _identity(state.root.path) != state.identity:
                self._went_away(state)
        elif state.mode in ("polling", "offline") and now >= state.next_poll:
            self._poll(state, now)

    def _poll(self, state: RootWatch, now: float) -> None:
        identity = _identity(state.root.path)
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

    def _went_away(self, state: RootWatch) -> None:
        log.warning("watcher: root %s disappeared or was remounted", state.root.path)
        self._unwatch(state)
        self.submitter.request_scan(state.root.path)  # marks it offline, nothing missing
        state.mode, state.reason = "offline", "the folder is gone or was remounted"
        state.next_poll = time.monotonic() + self._tick_s
        self._write_status(state, state.status_text)

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
        identity = _identity(state.root.path)
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
                    DirCreatedEvent,
                    DirDeletedEvent,
                    DirMovedEvent,
                ],
            )
        except OSError as exc:
            state.watch = None
            return _describe_watch_error(exc)
        after = inotify_watch_count()
        added = (after - before) if before is not None and after is not None else needed
        state.folders_watched = added
        if added < needed:
            self._unwatch(state)  # give the watches back: a partial watch misses changes
            return (
                f"inotify watch limit reached: {added} of {needed} folders could be watched"
                f" ({_watch_limit_hint()})"
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


class _EventHandler:
    """watchdog's handler protocol (`dispatch`), mapping events onto the watcher."""

    def __init__(self, watcher: FileWatcher) -> None:
        self.watcher = watcher
        self.debounce = watcher.settings.watch_debounce
        self.settle = watcher.settings.watch_settle

    def dispatch(self, event: Any) -> None:
        kind = event.event_type
        src = os.fsdecode(event.src_path)
        if kind == "moved":
            if not event.is_synthetic:  # a folder's subtree moves with it in one UPDATE
                self.watcher.on_move_event(src, os.fsdecode(event.dest_path))
        elif event.is_directory and kind in ("deleted", "moved") and self._is_root(src):
            self.watcher.on_root_event(src)
        elif kind in ("closed", "deleted") or (kind == "created" and event.is_directory):
            # Written and closed, gone, or a new folder: nothing more is coming; be quick.
            self.watcher.on_path_event(src, delay=self.settle)
        elif kind in ("created", "modified", "attrib") and not event.is_directory:
            self.watcher.on_path_event(src, delay=self.debounce)

    def _is_root(self, path: str) -> bool:
        return any(path == s.root.path for s in list(self.watcher.roots.values()))


# --- the scavenger -------------------------------------------------------------------------------


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
    ) -> None:
        self.settings = settings
        self.submitter = submitter
        self._verify = verify
        self._roots = roots
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
        while True:
            due = [t for t in (next_scan, next_verify) if t is not None]
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


# --- the system around it ------------------------------------------------------------------------


def known_root_paths(url: str) -> list[str]:
    with fast_index.connect(url) as conn:
        return [root.path for root in fast_index.all_roots(conn)]


def _inotify_observer() -> Any:
    """inotify on Linux (what the watch accounting above is written for); elsewhere
    watchdog's native observer for the platform."""
    from watchdog.observers import Observer

    return Observer()


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of a root folder that is there and readable, else None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.access(path, os.R_OK | os.X_OK):
        return None
    return st.st_dev, st.st_ino


def inotify_watch_count() -> int | None:
    """inotify watches this process holds (from /proc/self/fdinfo), or None if unknown."""
    total = 0
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return None
    for fd in fds:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify":
                with open(f"/proc/self/fdinfo/{fd}") as info:
                    total += sum(1 for line in info if line.startswith("inotify wd:"))
    return total


def network_filesystem(path: str) -> str | None:
    """The type of the file system holding `path` when it is a network one."""
    best, fstype = "", ""
    for mount_point, kind in _mounts():
        inside = path == mount_point or path.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, fstype = mount_point, kind
    return fstype if fstype in NETWORK_FILESYSTEMS else None


def _mounts() -> Iterator[tuple[str, str]]:
    try:
        with open("/proc/self/mounts") as mounts:
            for line in mounts:
                parts = line.split()
                if len(parts) >= 3:
                    yield parts[1].replace("\\040", " "), parts[2]
    except OSError:
        return


def _watch_limit_hint() -> str:
    try:
        with open("/proc/sys/fs/inotify/max_user_watches") as fh:
            limit = fh.read().strip()
    except OSError:
        limit = "?"
    return f"fs.inotify.max_user_watches = {limit}; raise it with sysctl to watch this root"


def _describe_watch_error(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"inotify watch limit reached ({_watch_limit_hint()})"
    if exc.errno == errno.EMFILE:
        return "inotify instance limit reached (fs.inotify.max_user_instances)"
    return f"the folder cannot be watched: {exc.strerror or exc}"
