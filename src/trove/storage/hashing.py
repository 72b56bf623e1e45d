"""SHA-256 of an original, optionally throttled to a read rate (the background bitrot check).

Read-only, through `open_original` (no symlinks, no FIFOs, fails rather than hangs).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable

from trove.storage.originals import OriginalUnavailable, open_original

CHUNK = 1024 * 1024


class Throttle:
    """Keeps a reader at or below `bytes_per_s` on average: after each chunk it sleeps until
    the bytes read so far are due. A `stop` event cuts the sleep short (shutdown)."""

    def __init__(self, bytes_per_s: float, *, stop: threading.Event | None = None) -> None:
        self.bytes_per_s = bytes_per_s
        self.stop = stop or threading.Event()
        self.started = time.monotonic()
        self.consumed = 0

    @classmethod
    def mb_per_s(cls, rate: float, *, stop: threading.Event | None = None) -> Throttle | None:
        """None (no throttle) for a rate of 0."""
        return cls(rate * 1024 * 1024, stop=stop) if rate > 0 else None

    def consume(self, n: int) -> None:
        self.consumed += n
        due = self.started + self.consumed / self.bytes_per_s
        delay = due - time.monotonic()
        if delay > 0:
            self.stop.wait(delay)


class Interrupted(Exception):
    """The reader was asked to stop (the server is shutting down)."""


def sha256_file(
    path: str | os.PathLike[str],
    *,
    throttle: Throttle | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> tuple[str, int, int]:
    """(hex digest, size, mtime_ns); fails if the file changes while it is read."""
    with open_original(path) as fd:
        before = os.fstat(fd)
        digest = hashlib.sha256()
        # A small file gets a buffer of its size, not 1 MiB allocated and freed per file.
        buffer = bytearray(min(CHUNK, before.st_size + 1))
        view = memoryview(buffer)
        try:
            while n := os.readv(fd, [buffer]):
                digest.update(view[:n])
                if on_chunk is not None:
                    on_chunk(n)
                if throttle is not None:
                    throttle.consume(n)
                    if throttle.stop.is_set():
                        raise Interrupted("stopped")
        except OSError as exc:
            raise OriginalUnavailable(f"read failed: {exc.strerror or exc}") from exc
        after = os.fstat(fd)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        raise OriginalUnavailable("file changed while it was being read")
    return digest.hexdigest(), after.st_size, after.st_mtime_ns
