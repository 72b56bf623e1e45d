"""One watcher per root across processes.

Each root is watched only by the process that holds its lock: a `flock` on a file beside the
SQLite database, or a PostgreSQL session-level advisory lock (works across machines). Neither
outlives a crashed holder. Other processes stand by and take over when the lock frees.
"""

from __future__ import annotations

import contextlib
import logging
import os
import zlib
from typing import Any

from trove.repositories import fast_index

log = logging.getLogger(__name__)

_LOCK_NAMESPACE = 0x7472  # "tr": first key of the PostgreSQL advisory lock pair


class RootLock:
    """The right to watch one root, held by at most one process."""

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
