"""Library management for admins: forget a library, change what it indexes, assign it to
members, and choose a folder to add with a server-side folder browser.

Forgetting a library drops records only (its files' and folders' assets, their tags, their
places in albums); the folder and every file in it stay exactly as they are. The browser lists
folders below TROVE_ALLOWED_ROOTS and nowhere else: a path is resolved (symlinks included)
before it is checked, and a symlink that leads outside is not listed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.repositories.library_admin import LibraryAdminRepository
from trove.repositories.links import LinkRepository
from trove.services.errors import Forbidden, Invalid, NotFound

MAX_GLOBS = 100
MAX_GLOB_LENGTH = 500
MAX_LISTED_FOLDERS = 2000
_BATCH = 1000


class LibraryAdmin:
    def __init__(
        self, settings: Settings, database: Database, *, hierarchical: Sequence[str] | None = None
    ) -> None:
        self.settings = settings
        self.database = database
        self.hierarchical = hierarchical

    # --- forgetting a library ----------------------------------------------------------------

    def removal_preview(self, root_id: str) -> dict[str, Any]:
        """What removing the library would forget, for the confirmation to state."""
        with self.database.session() as session:
            repo = LibraryAdminRepository(session)
            root = _root(repo, root_id)
            return {
                "id": root.id,
                "path": root.path,
                "name": root.name,
                **repo.forgettable(root.id),
            }

    def remove(self, root_id: str) -> dict[str, Any]:
        """Forget the library: its records go in batches, each with its links (album
        memberships, folder edges, inherited tags), then the library itself. No file is
        touched. Returns what was forgotten."""
        forgotten = self.removal_preview(root_id)
        while True:
            with self.database.session() as session:
                repo = LibraryAdminRepository(session)
                ids = repo.asset_ids(root_id, limit=_BATCH)
                if not ids:
                    repo.delete_root(root_id)
                    break
                LinkRepository(session, hierarchical=self.hierarchical).delete_touching(ids)
                repo.delete_assets(ids)
        return forgotten

    # --- rules ------------------------------------------------------------------------------

    def update(
        self,
        root_id: str,
        *,
        include_globs: list[str] | None = None,
        exclude_globs: list[str] | None = None,
        is_upload_target: bool | None = None,
    ) -> bool:
        """Change what the library indexes (globs) or whether members may upload into it;
        True when the globs changed (the library then needs a rescan)."""
        include = _checked_globs(include_globs, "include_globs")
        exclude = _checked_globs(exclude_globs, "exclude_globs")
        with self.database.session() as session:
            repo = LibraryAdminRepository(session)
            root = _root(repo, root_id)
            changed = (include is not None and include != list(root.include_globs)) or (
                exclude is not None and exclude != list(root.exclude_globs)
            )
            repo.set_rules(
                root_id,
                include_globs=include,
                exclude_globs=exclude,
                is_upload_target=is_upload_target,
            )
        return changed

    # --- members ----------------------------------------------------------------------------

    def members(self, root_id: str) -> list[dict[str, Any]]:
        with self.database.session() as session:
            repo = LibraryAdminRepository(session)
            _root(repo, root_id)
            return [
                {"user_id": user.id, "name": user.name, "can_write": member.can_write}
                for member, user in repo.members(root_id)
            ]

    def users(self) -> list[dict[str, Any]]:
        with self.database.session() as session:
            return [
                {"id": u.id, "name": u.name, "is_admin": u.is_admin}
                for u in LibraryAdminRepository(session).users()
            ]

    def set_member(self, root_id: str, user_id: str, *, can_write: bool) -> list[dict[str, Any]]:
        """Assign the library to a user (they see its files), with or without the right to
        upload into it; the members after the change."""
        with self.database.session() as session:
            repo = LibraryAdminRepository(session)
            _root(repo, root_id)
            if repo.user(user_id) is None:
                raise NotFound(f"no user with id {user_id!r}")
            repo.set_member(root_id, user_id, can_write=can_write)
        return self.members(root_id)

    def remove_member(self, root_id: str, user_id: str) -> list[dict[str, Any]]:
        with self.database.session() as session:
            repo = LibraryAdminRepository(session)
            _root(repo, root_id)
            if not repo.remove_member(root_id, user_id):
                raise NotFound("that user is not a member of this library")
        return self.members(root_id)

    # --- folder browser ---------------------------------------------------------------------

    def browse(self, path: str | None = None) -> dict[str, Any]:
        """The folders in `path` (or the allowed folders themselves), each resolved and inside
        TROVE_ALLOWED_ROOTS; `parent` is null at the top."""
        allowed = self._allowed()
        if not path:
            tops = [a for a in allowed if os.path.isdir(a)]
            return {"path": None, "parent": None, "folders": [_folder(a) for a in tops]}
        if "\x00" in path:
            raise Invalid("path: contains a NUL byte")
        real = os.path.realpath(os.path.abspath(path))
        if not _inside(real, allowed):
            raise Forbidden(f"{path}: not below a folder TROVE_ALLOWED_ROOTS allows")
        if not os.path.isdir(real):
            raise NotFound(f"{path}: no such folder")
        parent = os.path.dirname(real)
        return {
            "path": real,
            "parent": parent if parent != real and _inside(parent, allowed) else None,
            "folders": [{"name": n, "path": p} for n, p in _subfolders(real, allowed)],
        }

    def _allowed(self) -> list[str]:
        allowed = [os.path.realpath(p) for p in self.settings.allowed_root_paths]
        if not allowed:
            raise Forbidden(
                "browsing folders is off: set TROVE_ALLOWED_ROOTS to the folders below which"
                " libraries may be added"
            )
        return allowed


def _root(repo: LibraryAdminRepository, root_id: str) -> Any:
    root = repo.root(root_id)
    if root is None:
        raise NotFound(f"no library root with id {root_id!r}")
    return root


def _checked_globs(globs: list[str] | None, field: str) -> list[str] | None:
    if globs is None:
        return None
    cleaned = [g.strip() for g in globs if g.strip()]
    if len(cleaned) > MAX_GLOBS:
        raise Invalid(f"{field}: at most {MAX_GLOBS} patterns")
    for glob in cleaned:
        if len(glob) > MAX_GLOB_LENGTH or "\x00" in glob:
            raise Invalid(f"{field}: {glob[:40]!r} is not a usable pattern")
    return list(dict.fromkeys(cleaned))


def _inside(real: str, allowed: list[str]) -> bool:
    return any(Path(real).is_relative_to(a) for a in allowed)


def _subfolders(real: str, allowed: list[str]) -> list[tuple[str, str]]:
    """(name, resolved path) of each folder in `real` that resolves inside `allowed`."""
    found = []
    try:
        entries = sorted(os.scandir(real), key=lambda e: e.name.lower())
    except OSError as exc:
        raise Forbidden(f"{real}: cannot be listed ({exc.strerror})") from exc
    for entry in entries:
        if entry.name.startswith("."):
            continue
        target = os.path.realpath(entry.path)
        if _inside(target, allowed) and os.path.isdir(target):
            found.append((entry.name, target))
        if len(found) >= MAX_LISTED_FOLDERS:
            break
    return found


def _folder(path: str) -> dict[str, str]:
    return {"name": os.path.basename(path.rstrip("/")) or path, "path": path}
