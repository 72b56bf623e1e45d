"""Read-only access to originals. Nothing in Trove opens an original for writing.

Every open is O_RDONLY | O_NOFOLLOW | O_NONBLOCK and re-checked with fstat, so a file swapped
for a FIFO, a device or a symlink between the walk and the read can neither hang Trove nor lead
it outside the root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from trove.domain.paths import from_stored

if TYPE_CHECKING:
    import magic

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


class OriginalUnavailable(Exception):
    """An original could not be read; the message says why, for the user."""


class PathOutsideRoot(OriginalUnavailable):
    pass


def resolve(root_path: str, rel_path: str, *, escaped: bool) -> Path:
    """The absolute path of an asset, guaranteed to lie inside its root."""
    root = Path(root_path)
    candidate = root / from_stored(rel_path, escaped=escaped)
    real = Path(os.path.realpath(candidate))
    if not real.is_relative_to(os.path.realpath(root)):
        raise PathOutsideRoot(f"{rel_path!r} resolves outside its library root")
    return candidate


@contextmanager
def open_original(path: str | os.PathLike[str]) -> Iterator[int]:
    """A read-only file descriptor of a regular file, or OriginalUnavailable."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError as exc:
        raise OriginalUnavailable("file vanished") from exc
    except PermissionError as exc:
        raise OriginalUnavailable("permission denied") from exc
    except OSError as exc:
        raise OriginalUnavailable(exc.strerror or str(exc)) from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OriginalUnavailable("no longer a regular file")
        os.set_blocking(fd, True)
        yield fd
    finally:
        os.close(fd)


def read_head(path: str | os.PathLike[str], size: int) -> bytes:
    with open_original(path) as fd:
        try:
            return os.read(fd, size)
        except OSError as exc:
            raise OriginalUnavailable(f"read failed: {exc.strerror or exc}") from exc


class MimeDetector:
    """python-magic over the head of a file; one libmagic handle, created on first use."""

    HEAD_BYTES = 8192

    def __init__(self) -> None:
        self._magic: magic.Magic | None = None

    def from_bytes(self, head: bytes) -> str:
        if self._magic is None:
            import magic

            self._magic = magic.Magic(mime=True)
        try:
            return str(self._magic.from_buffer(head))
        except Exception:  # libmagic refuses some inputs; the file is still indexable
            return "application/octet-stream"

    def from_path(self, path: str | os.PathLike[str]) -> str:
        return self.from_bytes(read_head(path, self.HEAD_BYTES))
