"""Which folders may become a library: for an API caller, only below TROVE_ALLOWED_ROOTS (the
command line may add any); for anyone, none inside another library or holding one.

Without accounts, anyone who reaches the port is a caller: a library they could add anywhere
would let them read any file the server can (`/etc`, another user's home) through `/file`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from trove.config import Settings
from trove.services.errors import Conflict, Forbidden, Invalid

if TYPE_CHECKING:
    from trove.db.models import Root

# Kernel and device views: never files to index, and reading some of them has side effects.
SYSTEM_FOLDERS = (Path("/proc"), Path("/sys"), Path("/dev"))


def check_requested_root(path: str, settings: Settings) -> str:
    """The canonical folder to add for an API request, or why it may not be added."""
    if "\x00" in path:
        raise Invalid("path: contains a NUL byte")
    real = Path(os.path.realpath(os.path.abspath(path)))
    for folder in SYSTEM_FOLDERS:
        if real.is_relative_to(folder) or folder.is_relative_to(real):
            raise Invalid(f"{path}: system folders ({folder}) cannot be a library")
    for folder in (settings.data_dir, settings.resolved_cache_dir):
        if real.is_relative_to(os.path.realpath(folder)):
            raise Invalid(f"{path}: Trove's own data folder cannot be a library")
    allowed = settings.allowed_root_paths
    if not allowed:
        raise Forbidden(
            "adding libraries through the API is off: set TROVE_ALLOWED_ROOTS to the folders"
            " below which it is allowed, or add the folder with `trove scan PATH`"
        )
    if not any(real.is_relative_to(os.path.realpath(folder)) for folder in allowed):
        raise Forbidden(f"{path}: not below a folder TROVE_ALLOWED_ROOTS allows")
    return str(real)


def own_upload_folder(settings: Settings) -> str:
    """Trove's upload folder as roots are known (real, absolute): the one library that may lie
    inside another, or hold one, since no library's walk enters it (ScanService.walk_rules)."""
    return os.path.realpath(os.path.abspath(settings.resolved_upload_dir))


def refuse_nested(root_path: str, libraries: Iterable[Root], *, upload_folder: str) -> None:
    """Conflict when `root_path` is inside another library or holds one. A file belongs to
    one library: indexed under two, it had two ids, was fingerprinted and watched twice and
    showed up as its own duplicate. Trove's own upload folder is the exception (see
    `own_upload_folder`); a library that members may upload into is a library like any
    other."""
    for library in libraries:
        if library.path == root_path:
            continue
        if is_other_spelling(root_path, library.path):
            raise Conflict(
                f"{root_path} is the library {library.name!r} ({library.path}) spelled"
                " otherwise: its file system ignores letter case"
            )
        if _below(root_path, library.path) and root_path != upload_folder:
            raise Conflict(
                f"{root_path} is inside the library {library.name!r} ({library.path}), which"
                " indexes its files already: a file belongs to one library"
            )
        if _below(library.path, root_path) and library.path != upload_folder:
            raise Conflict(
                f"{root_path} holds the library {library.name!r} ({library.path}): a file"
                " belongs to one library; remove that library first (Libraries page), or add"
                " the folders beside it one by one"
            )


def is_other_spelling(path: str, folder: str) -> bool:
    """`path` is `folder` with other letter case, on a file system that ignores it."""
    return len(Path(path).parts) == len(Path(folder).parts) and _starts_otherwise_spelled(
        path, folder
    )


def _below(path: str, folder: str) -> bool:
    """`path` is inside `folder`, by name or with other letter case where that is the same."""
    if path == folder:
        return False
    if os.path.commonpath([path, folder]) == folder:
        return True
    return len(Path(path).parts) > len(Path(folder).parts) and _starts_otherwise_spelled(
        path, folder
    )


def _starts_otherwise_spelled(path: str, folder: str) -> bool:
    """Whether `path` begins with `folder` spelled with other letter case, and its file system
    ignores case (a vfat or exFAT disk, an SMB share): there, `/media/Photos` and
    `/media/photos` are one folder, and a library added by both names would index every file
    twice. Only names equal but for case are looked up (the same device and inode), so no
    other library's disk, which may hang while it is away, is touched for nothing."""
    head, wanted = Path(path).parts[: len(Path(folder).parts)], Path(folder).parts
    if head == wanted or [p.casefold() for p in head] != [p.casefold() for p in wanted]:
        return False
    try:
        return os.path.samefile(os.path.join(*head), folder)
    except OSError:
        return False
