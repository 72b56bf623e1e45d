"""Walk a root: os.scandir, no symlinks followed, hostile entries named and counted.

Symlinks are never followed. A link whose target lies inside the root is redundant (the target
is indexed at its own path); one that leads out of the root is outside what the user pointed
Trove at; broken links and loops have nothing to index. Each is reported with its reason.
"""

from __future__ import annotations

import enum
import errno
import fnmatch
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from trove.domain.paths import to_stored

# Names that are system clutter on common NAS/desktop systems, not the user's files.
SYSTEM_NAMES = frozenset(
    {
        "@eaDir",
        "#recycle",
        "#snapshot",
        "$RECYCLE.BIN",
        "System Volume Information",
        "lost+found",
        "Thumbs.db",
        "desktop.ini",
        "Desktop.ini",
    }
)
# PostgreSQL cannot index a key larger than ~2.7 kB; longer relative paths are skipped, named.
MAX_REL_PATH_BYTES = 2400


class Kind(enum.Enum):
    FILE = "file"
    DIR = "dir"
    UNREADABLE_DIR = "unreadable_dir"
    SKIPPED = "skipped"


# Globs compiled to (by file name, by relative path) patterns.
_Compiled = tuple[re.Pattern[str] | None, re.Pattern[str] | None]


class Entry(NamedTuple):
    rel_path: str
    kind: Kind
    stat: os.stat_result | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class WalkRules:
    include_globs: tuple[str, ...] = ()
    exclude_globs: tuple[str, ...] = ()
    include_hidden: bool = False
    # Absolute folders never entered, e.g. Trove's own data directory inside a library.
    prune_dirs: frozenset[str] = field(default_factory=frozenset)
    _include: _Compiled | None = field(init=False, repr=False, compare=False, default=None)
    _exclude: _Compiled | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_include", _compile(self.include_globs))
        object.__setattr__(self, "_exclude", _compile(self.exclude_globs))

    @property
    def has_globs(self) -> bool:
        return bool(self.include_globs or self.exclude_globs)

    def is_hidden(self, name: str) -> bool:
        return not self.include_hidden and (name.startswith(".") or name in SYSTEM_NAMES)

    def is_excluded(self, rel_path: str) -> bool:
        return self._exclude is not None and _matches(self._exclude, rel_path)

    def is_included(self, rel_path: str) -> bool:
        return self._include is None or _matches(self._include, rel_path)


def _compile(globs: tuple[str, ...]) -> _Compiled | None:
    """Globs without a slash match the base name; globs with one match the relative path.

    Matching ignores case (`*.jpg` finds `IMG_0001.JPG`, as camera and Windows names need) and
    a trailing slash (`build/`) names the folder itself.
    """
    globs = tuple(g.rstrip("/") for g in globs if g.strip("/"))
    if not globs:
        return None
    by_name = [fnmatch.translate(g) for g in globs if "/" not in g]
    by_path = [fnmatch.translate(g.lstrip("/")) for g in globs if "/" in g]
    return (
        re.compile("|".join(by_name), re.IGNORECASE) if by_name else None,
        re.compile("|".join(by_path), re.IGNORECASE) if by_path else None,
    )


def _matches(compiled: _Compiled, rel: str) -> bool:
    by_name, by_path = compiled
    if by_name is not None and by_name.match(rel.rpartition("/")[2]):
        return True
    return by_path is not None and by_path.match(rel) is not None


def walk(root: str, rules: WalkRules) -> Iterator[Entry]:
    """Yield every entry under `root` (a folder always before what it contains).

    Each folder is opened once (O_NOFOLLOW: a folder swapped for a symlink mid-walk is not
    entered) and listed through its descriptor, so a file's lstat is an fstatat relative to its
    folder rather than a resolution of its whole path: ~18% faster here, as `find` does. A plain
    regular file with an ordinary name takes a short path (d_type from the listing, one
    fstatat); everything else is classified by `_classify`.
    """
    stack: list[tuple[str, str]] = [("", root)]
    plain_names_only = not rules.include_hidden
    check_rules = rules.has_globs
    system_names = SYSTEM_NAMES
    file_kind = Kind.FILE
    new_entry = tuple.__new__  # an Entry without NamedTuple's Python-level __new__ (hot path)
    while stack:
        rel_dir, abs_dir = stack.pop()
        prefix = rel_dir + "/" if rel_dir else ""
        long_prefix = len(prefix) > _LONG_PREFIX
        try:
            dir_fd = os.open(abs_dir, _DIR_FLAGS if rel_dir else _ROOT_FLAGS)
        except OSError as exc:
            yield Entry(rel_dir, Kind.UNREADABLE_DIR, reason=_describe(exc, "cannot list folder"))
            continue
        try:
            with os.scandir(dir_fd) as iterator:
                for dir_entry in iterator:
                    name = dir_entry.name
                    fast = not (
                        check_rules
                        or long_prefix
                        or (plain_names_only and (name[0] == "." or name in system_names))
                    )
                    if fast and dir_entry.is_file(follow_symlinks=False):
                        try:
                            st = dir_entry.stat(follow_symlinks=False)
                        except OSError:
                            pass  # vanished or unreadable: let _classify say which
                        else:
                            yield new_entry(Entry, (prefix + name, file_kind, st, None))
                            continue
                    entry = _classify(dir_entry, rel_dir, abs_dir, root, rules)
                    if entry.kind is Kind.DIR:
                        stack.append((entry.rel_path, os.path.join(abs_dir, name)))
                    yield entry
        except OSError as exc:  # the folder cannot be listed, or vanished or failed mid-listing
            yield Entry(rel_dir, Kind.UNREADABLE_DIR, reason=_describe(exc, "cannot list folder"))
        finally:
            os.close(dir_fd)


_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC
_DIR_FLAGS = _ROOT_FLAGS | os.O_NOFOLLOW


# Relative paths longer than this (in characters) are checked against MAX_REL_PATH_BYTES.
_LONG_PREFIX = MAX_REL_PATH_BYTES // 4 - 256


def _classify(
    dir_entry: os.DirEntry[str], rel_dir: str, abs_dir: str, root: str, rules: WalkRules
) -> Entry:
    name = dir_entry.name
    rel = f"{rel_dir}/{name}" if rel_dir else name
    if rules.is_hidden(name):
        return Entry(rel, Kind.SKIPPED, reason="hidden or system file")
    if len(rel) > MAX_REL_PATH_BYTES // 4 and _stored_size(rel) > MAX_REL_PATH_BYTES:
        return Entry(rel, Kind.SKIPPED, reason="path too long to index")
    try:
        if dir_entry.is_symlink():
            path = os.path.join(abs_dir, name)
            return Entry(rel, Kind.SKIPPED, reason=_symlink_reason(path, root))
        if dir_entry.is_dir(follow_symlinks=False):
            if os.path.join(abs_dir, name) in rules.prune_dirs or rules.is_excluded(rel):
                return Entry(rel, Kind.SKIPPED, reason="excluded by rule")
            return Entry(rel, Kind.DIR)
        st = dir_entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        return Entry(rel, Kind.SKIPPED, reason="vanished during scan")
    except PermissionError:
        raise  # the folder itself cannot be searched: walk() reports the folder, not each entry
    except OSError as exc:
        return Entry(rel, Kind.SKIPPED, reason=_describe(exc, "cannot stat"))
    if not stat.S_ISREG(st.st_mode):
        return Entry(rel, Kind.SKIPPED, reason=_special_file_reason(st.st_mode))
    if rules.is_excluded(rel) or not rules.is_included(rel):
        return Entry(rel, Kind.SKIPPED, reason="excluded by rule")
    return Entry(rel, Kind.FILE, st)


def _stored_size(rel: str) -> int:
    """Bytes the path takes in the database: each undecodable byte is stored as 4 (paths.py)."""
    return len(to_stored(rel)[0].encode("utf-8"))


def _symlink_reason(path: str, root: str) -> str:
    try:
        os.stat(path)
    except FileNotFoundError:
        return "broken symlink"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        return _describe(exc, "unreadable symlink")
    if Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root)):
        return "symlink within the root (target indexed at its own path)"
    return "symlink leading out of the root (not followed)"


def _special_file_reason(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "not a regular file (FIFO)"
    if stat.S_ISSOCK(mode):
        return "not a regular file (socket)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "not a regular file (device)"
    return "not a regular file"


def _describe(exc: OSError, action: str) -> str:
    if isinstance(exc, PermissionError):
        return f"{action}: permission denied"
    return f"{action}: {exc.strerror or exc}"
