"""Read-only access to originals. Nothing in Trove opens an original for writing.

Every open is O_RDONLY | O_NOFOLLOW | O_NONBLOCK and re-checked with fstat, so a file swapped
for a FIFO, a device or a symlink between the walk and the read can neither hang Trove nor lead
it outside the root.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from trove.domain.paths import from_stored
from trove.storage import sniff

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


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


class Resolver:
    """`resolve` for the many assets of a batch: each root's and folder's real path is worked
    out once, so an asset costs one lstat of its own name instead of one per component."""

    def __init__(self) -> None:
        self._real: dict[str, str] = {}

    def __call__(self, root_path: str, rel_path: str, *, escaped: bool) -> Path:
        candidate = os.path.join(root_path, from_stored(rel_path, escaped=escaped))
        folder, name = os.path.split(candidate)
        if name in ("", ".", "..") or os.path.islink(candidate):
            return resolve(root_path, rel_path, escaped=escaped)  # the general case
        real_root = self._real_path(root_path)
        real_folder = self._real_path(folder)
        # Path.is_relative_to on real paths, as strings (pathlib's parsing of each asset's
        # path cost more than the rest of the check).
        if real_folder != real_root and not real_folder.startswith(_below(real_root)):
            raise PathOutsideRoot(f"{rel_path!r} resolves outside its library root")
        return Path(candidate)

    def _real_path(self, path: str) -> str:
        real = self._real.get(path)
        if real is None:
            real = self._real[path] = os.path.realpath(path)
        return real


def _below(real_root: str) -> str:
    """The prefix of every path below a real (absolute, normalised) folder."""
    return real_root if real_root.endswith(os.sep) else real_root + os.sep


def open_below_root(root_path: str, rel_path: str, *, escaped: bool) -> int:
    """A read-only descriptor of the regular file at `rel_path`, reached only through
    directories below `root_path`, none of them a symlink.

    Checking a path and then opening it by name leaves a gap in which a component can be
    swapped for a symlink to anywhere; walking from the root's descriptor one component at a
    time with O_NOFOLLOW leaves none. The caller owns (and closes) the descriptor.
    """
    parts = from_stored(rel_path, escaped=escaped).split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise PathOutsideRoot(f"{rel_path!r} is not a plain path below its library root")
    fd = _open_step(root_path, _DIR_FLAGS, dir_fd=None)
    try:
        for part in parts[:-1]:
            parent, fd = fd, _open_step(part, _DIR_FLAGS, dir_fd=fd)
            os.close(parent)
        file_fd = _open_step(parts[-1], _OPEN_FLAGS, dir_fd=fd)
    finally:
        os.close(fd)
    try:
        if not stat.S_ISREG(os.fstat(file_fd).st_mode):
            raise OriginalUnavailable("no longer a regular file")
        os.set_blocking(file_fd, True)
    except BaseException:
        os.close(file_fd)
        raise
    return file_fd


def _open_step(name: str, flags: int, *, dir_fd: int | None) -> int:
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except FileNotFoundError as exc:
        raise OriginalUnavailable("file vanished") from exc
    except (NotADirectoryError, IsADirectoryError) as exc:
        raise OriginalUnavailable("no longer a regular file") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink where a file or folder was
            raise PathOutsideRoot("the path now leads through a symlink") from exc
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise OriginalUnavailable("permission denied") from exc
        raise OriginalUnavailable(exc.strerror or str(exc)) from exc


class open_original:  # lower case: used as a function, `with open_original(path) as fd`
    """A read-only file descriptor of a regular file, or OriginalUnavailable.

    A class rather than a generator context manager, which cost as much as the open itself
    (every step of every file opens it). The descriptor stays non-blocking: a regular file
    ignores the flag."""

    __slots__ = ("fd",)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.fd = _open_regular(path)

    def __enter__(self) -> int:
        return self.fd

    def __exit__(self, *_exc: object) -> None:
        os.close(self.fd)


def _open_regular(path: str | os.PathLike[str]) -> int:
    """A descriptor opened with _OPEN_FLAGS and checked to be a regular file (the caller
    closes it)."""
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
    except BaseException:
        os.close(fd)
        raise
    return fd


@dataclass(frozen=True)
class Content:
    """A small original's bytes, read whole, and its size and mtime as they were read."""

    data: bytes
    size: int
    mtime_ns: int


def read_whole(fd: int, *, at_most: int) -> Content | None:
    """The whole of an open original no larger than `at_most` bytes; None for a larger one, or
    one that changed while it was read (the caller reads it its own way: read with pread, the
    descriptor is still at its start)."""
    before = os.fstat(fd)
    if before.st_size > at_most:
        return None
    try:
        data = os.pread(fd, before.st_size + 1, 0)  # one byte more: a file that grew shows it
    except OSError as exc:
        raise OriginalUnavailable(f"read failed: {exc.strerror or exc}") from exc
    after = os.fstat(fd)
    if len(data) != after.st_size or (before.st_size, before.st_mtime_ns) != (
        after.st_size,
        after.st_mtime_ns,
    ):
        return None
    return Content(data, after.st_size, after.st_mtime_ns)


def read_head(path: str | os.PathLike[str], size: int) -> bytes:
    """The first `size` bytes of a regular file (the scanner asks this of every new file:
    no context manager, and no switch to blocking mode, which a regular file ignores)."""
    fd = _open_regular(path)
    try:
        return os.read(fd, size)
    except OSError as exc:
        raise OriginalUnavailable(f"read failed: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


class MimeDetector:
    """The scanner's type guess: a file's name and first bytes (storage/sniff.py), no
    libmagic. The `mime` step checks it with libmagic over the whole file."""

    HEAD_BYTES = sniff.HEAD_BYTES

    def from_path(self, path: str | os.PathLike[str]) -> str:
        return sniff.guess_mime(os.fspath(path), read_head(path, self.HEAD_BYTES))
