"""Uploads: files people send to Trove, through TUS (resumable) or one multipart request.

Both ways end in the same two steps, so an upload is stored and registered, or refused with
the reason, and never half of it:
- the bytes are received under the data folder (`incoming/`, never inside a library), so a
  scan or the watcher never sees a partial file;
- `_place` hard-links the complete file into its destination under a name no other file or
  record holds (never overwriting: "photo (1).jpg" keeps both), and registers it there.

An upload is an asset from its first byte: `uploading` (no place yet, so no scan sees it)
until the last byte, then `processing`. Its owner is the uploader; the bytes a user has
uploaded count against their quota (`users.upload_quota`, else TROVE_UPLOAD_QUOTA).
Destinations: the user's own folder in the upload library (`<upload dir>/<user name>/`), or an
upload library an admin assigned to them with `can_write`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from trove.config import Settings
from trove.db.database import Database
from trove.db.models import Root
from trove.domain.access import Viewer
from trove.domain.enums import RootStatus
from trove.repositories import fast_index
from trove.repositories.uploads import UploadRepository
from trove.services.errors import Forbidden, Invalid, NotFound, TooLarge, Unavailable
from trove.storage.walk import WalkRules


class QuotaExceeded(TooLarge):
    """The upload would take the user past their upload quota."""


class LibraryOffline(Unavailable):
    """The destination library is offline (its disk away): an upload complete at a restart is
    kept for when it is back, not dropped."""


@dataclass(frozen=True)
class Destination:
    root_id: str
    root_path: str
    folder: Path  # absolute; the root itself or the user's folder in it

    def rel(self, name: str) -> str:
        below = self.folder.relative_to(self.root_path).as_posix()
        return name if below == "." else f"{below}/{name}"


class UploadService:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database
        # Quota checks and folder set-up are check-then-act: one at a time in this process
        # (the server is the one process that takes uploads).
        self._lock = threading.Lock()
        self._folders_ready: set[Path] = set()
        self._expired_at = 0.0
        # Uploads complete at start-up whose library was offline: id -> their TUS metadata.
        self._waiting: dict[str, dict[str, str]] = {}

    @property
    def incoming_dir(self) -> Path:
        return self.settings.data_dir / "incoming"

    @property
    def tus_dir(self) -> Path:
        return self.incoming_dir / "tus"

    # --- where to, and how much -------------------------------------------------------------

    def destinations(self, viewer: Viewer) -> list[dict[str, Any]]:
        """Where the viewer may upload: their own folder first (root_id None), then the
        upload libraries they may write to."""
        user = _require_user(viewer)
        own = {"root_id": None, "name": "My uploads", "path": str(self._own_folder(user))}
        with self.database.session() as session:
            roots = UploadRepository(session).writable_roots(user, is_admin=viewer.is_admin)
            others = [
                {"root_id": r.id, "name": r.name, "path": r.path}
                for r in roots
                if r.path != str(self._upload_root_path())
            ]
        return [own, *others]

    def quota(self, viewer: Viewer) -> dict[str, int | None]:
        user = _require_user(viewer)
        with self.database.session() as session:
            repo = UploadRepository(session)
            return {"used": repo.used_bytes(user), "limit": self._limit(repo, user)}

    def _limit(self, repo: UploadRepository, user_id: str) -> int | None:
        row = repo.user(user_id)
        limit = row.upload_quota if row is not None and row.upload_quota is not None else None
        if limit is None:
            limit = self.settings.upload_quota or None
        return limit

    def _check_quota(self, repo: UploadRepository, user_id: str, size: int) -> None:
        if size > self.settings.max_upload_bytes:
            raise TooLarge(
                f"upload refused: {_size(size)} is larger than the limit of"
                f" {_size(self.settings.max_upload_bytes)} per file"
            )
        limit = self._limit(repo, user_id)
        if limit is None:
            return
        used = repo.used_bytes(user_id)
        if used + size > limit:
            raise QuotaExceeded(
                f"upload refused: your upload quota is {_size(limit)}, {_size(used)} of it is"
                f" used, and this file is {_size(size)}"
            )

    def _destination(self, viewer: Viewer, root_id: str | None) -> Destination:
        user = _require_user(viewer)
        if not root_id:
            root = self._upload_root()
            self._refuse_if_offline(root)
            folder = self._own_folder(user)
            with self._lock:
                if folder not in self._folders_ready:
                    self._make_own_folder(folder)
                    self._folders_ready.add(folder)
            return Destination(root.id, root.path, folder)
        with self.database.session() as session:
            writable = UploadRepository(session).writable_roots(user, is_admin=viewer.is_admin)
            match = next((r for r in writable if r.id == root_id), None)
            if match is None:
                raise Forbidden("you may not upload into that library")
            row = fast_index.RootRow.of(match)
        self._refuse_if_offline(row)
        return Destination(row.id, row.path, Path(row.path))

    def _refuse_if_offline(self, root: fast_index.RootRow) -> None:
        """A library whose disk is away: the file would land in its empty mount point and
        be the one file a scan finds there. Looked at now, as a scan would look, since no
        scan may have looked since the disk went."""
        from trove.services.scanner import library_unavailable_reason

        reason = library_unavailable_reason(self.settings.resolved_database_url, root)
        if reason is None and root.status == RootStatus.OFFLINE and root.device is None:
            # Its disk was never recorded: an empty folder may be its mount point. (With a
            # disk recorded and the folder on it, it is the library's own folder, emptied.)
            reason = "no scan has found its files since it went offline"
        if reason is not None:
            raise LibraryOffline(f"that library is offline: {reason}")

    def _upload_root_path(self) -> Path:
        return Path(os.path.realpath(self.settings.resolved_upload_dir))

    def _upload_root(self) -> fast_index.RootRow:
        from trove.services.scanner import ScanService

        target = self.settings.resolved_upload_dir
        target.mkdir(parents=True, exist_ok=True)
        scanner = ScanService(self.settings, database=self.database)
        return scanner.ensure_root(str(target), is_upload_target=True)

    def _own_folder(self, user_id: str) -> Path:
        with self.database.session() as session:
            user = UploadRepository(session).user(user_id)
            name = user.name if user is not None else user_id
        if not _is_plain_name(name):
            name = user_id
        return self._upload_root_path() / name

    def _make_own_folder(self, folder: Path) -> None:
        """The user's folder, made and registered once (so their files are listed in it)."""
        from trove.services.scanner import ScanService
        from trove.sync.path_sync import PathSync

        folder.mkdir(exist_ok=True)
        PathSync(ScanService(self.settings, database=self.database)).sync([folder])

    # --- multipart: the whole file in one request -------------------------------------------

    def store(
        self,
        viewer: Viewer,
        filename: str,
        content: BinaryIO,
        *,
        root_id: str | None = None,
        modified_ms: int | None = None,
    ) -> str:
        """Receive a whole file, then place and register it; its asset id."""
        name = safe_upload_name(filename)
        destination = self._destination(viewer, root_id)
        staged = self._receive(content)
        try:
            upload_id = self._begin(viewer, name, staged.stat().st_size, modified_ms)
            try:
                return self._finish(upload_id, staged, destination, name, modified_ms)
            except BaseException:
                self.cancel(upload_id)
                raise
        finally:
            staged.unlink(missing_ok=True)

    def _receive(self, content: BinaryIO) -> Path:
        limit = self.settings.max_upload_bytes
        self.incoming_dir.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=".multipart-", dir=self.incoming_dir)
        staged = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                written = 0
                while chunk := content.read(1024 * 1024):
                    written += len(chunk)
                    if written > limit:
                        raise TooLarge(f"upload is larger than the limit of {limit} bytes")
                    out.write(chunk)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return staged

    # --- TUS: created, then patched until complete -------------------------------------------

    def begin(
        self,
        viewer: Viewer,
        *,
        filename: str,
        size: int | None,
        root_id: str | None = None,
        modified_ms: int | None = None,
    ) -> str:
        """A resumable upload is created: checked (name, destination, quota) and listed as
        `uploading`; its id is the asset's."""
        if size is None:
            raise Invalid("Upload-Length is required: a file of unknown size cannot be checked")
        if size < 0:  # it would count against the quota as bytes freed
            raise Invalid("Upload-Length must be a size in bytes, 0 or more")
        name = safe_upload_name(filename)
        self._destination(viewer, root_id)  # refused now, not after the last byte
        self._expire_now_and_then()
        return self._begin(viewer, name, size, modified_ms)

    def _begin(self, viewer: Viewer, name: str, size: int, modified_ms: int | None) -> str:
        user = _require_user(viewer)
        with self._lock, self.database.session() as session:
            repo = UploadRepository(session)
            self._check_quota(repo, user, size)
            return repo.begin(
                owner_id=user, filename=name, size=size, modified=_as_datetime(modified_ms)
            )

    def check_access(self, viewer: Viewer, upload_id: str) -> None:
        """An upload in flight is its uploader's (and an admin's): anyone else gets 404."""
        with self.database.session() as session:
            upload = UploadRepository(session).in_flight(upload_id)
            if upload is None or not (viewer.is_admin or upload.owner_id == viewer.user_id):
                raise NotFound("no such upload in progress")

    def complete(
        self, upload_id: str, metadata: dict[str, str], *, keep_if_offline: bool = False
    ) -> str:
        """The last byte arrived: place and register the file; its asset id. It goes where
        its uploader may put it, whoever sent the last byte (an admin may finish a member's
        upload: it lands in the member's folder, not the admin's). Refused at this point (the
        destination is no longer allowed, the disk is full), the upload is dropped whole, so a
        retry starts again instead of finding it "complete". `keep_if_offline`: a destination
        that is offline (a disk not mounted yet at start-up) keeps it for a later try."""
        data = self.tus_dir / upload_id
        kept = False
        try:
            with self.database.session() as session:
                repo = UploadRepository(session)
                upload = repo.in_flight(upload_id)
                owner = repo.user(upload.owner_id) if upload is not None else None
                if upload is None or owner is None:
                    raise NotFound("no such upload in progress")
                name = upload.filename
                uploader = Viewer(user_id=owner.id, is_admin=owner.is_admin)
            modified_ms = _int_or_none(metadata.get("modified"))
            destination = self._destination(uploader, metadata.get("root_id") or None)
            return self._finish(upload_id, data, destination, name, modified_ms)
        except BaseException as exc:
            kept = keep_if_offline and isinstance(exc, LibraryOffline)
            if not kept:
                self.cancel(upload_id)
            raise
        finally:
            if not kept:
                _remove_tus_files(self.tus_dir, upload_id)

    def forget(self, upload_id: str) -> None:
        """The `uploading` record of a terminated upload (tuspyserver removes its bytes)."""
        with self.database.session() as session:
            UploadRepository(session).forget(upload_id)

    def cancel(self, upload_id: str) -> None:
        """Terminated, expired or failed: the partial bytes and the `uploading` record go."""
        with self.database.session() as session:
            UploadRepository(session).forget(upload_id)
        _remove_tus_files(self.tus_dir, upload_id)

    def expire(self) -> int:
        """Uploads not completed within TROVE_UPLOAD_EXPIRY_DAYS are dropped, and TUS files
        without a record (a crash between the two) too; how many were dropped."""
        cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(
            days=self.settings.upload_expiry_days
        )
        with self.database.session() as session:
            uploads = UploadRepository(session).all_in_flight()
            stale = [u.id for u in uploads if u.created_at < cutoff and u.root_id is None]
            known = {u.id for u in uploads}
        for upload_id in stale:
            self.cancel(upload_id)
            self._waiting.pop(upload_id, None)
        if self.tus_dir.is_dir():
            for entry in os.scandir(self.tus_dir):
                uid = entry.name.removesuffix(".info")
                if entry.is_file() and uid not in known and _older_than(entry, cutoff):
                    _remove_tus_files(self.tus_dir, uid)
        return len(stale)

    def recover(self) -> int:
        """At start-up: uploads whose last byte arrived but the server stopped before they
        were placed are placed now; how many. One whose library is offline is kept for the
        next start (or until it expires)."""
        _trim_to_offsets(self.tus_dir)
        self._waiting = dict(_complete_tus_uploads(self.tus_dir))
        return self.place_waiting()

    def place_waiting(self) -> int:
        """The uploads `recover` kept for an offline library, tried again (the server's
        upkeep, every minute): placed once the library is back; how many."""
        done = 0
        for upload_id, metadata in list(self._waiting.items()):
            try:
                self.complete(upload_id, metadata, keep_if_offline=True)
                done += 1
            except LibraryOffline:
                continue
            except (Forbidden, Invalid, NotFound, Unavailable, OSError):
                pass
            self._waiting.pop(upload_id, None)
        return done

    def _expire_now_and_then(self) -> None:
        if time.monotonic() - self._expired_at > 60:
            self._expired_at = time.monotonic()
            self.expire()

    # --- the shared end: placed, then registered ---------------------------------------------

    def _finish(
        self,
        upload_id: str,
        data: Path,
        destination: Destination,
        name: str,
        modified_ms: int | None,
    ) -> str:
        _set_mtime(data, modified_ms)
        final = self._place(upload_id, data, destination, name)
        asset_id = self._register(final)
        with self.database.session() as session:
            UploadRepository(session).put_in_folder(asset_id)
        return asset_id

    def _place(self, upload_id: str, data: Path, destination: Destination, name: str) -> Path:
        """Link the complete file in under a free name, the record claiming the name first
        (so a scan or the watcher that sees the new file finds the record, not a stranger)."""
        staged = _same_device_copy(data, destination.folder)
        try:
            with self.database.session() as session:
                root = session.get(Root, destination.root_id)
                if root is None:
                    raise Unavailable("the destination library is gone")
                repo = UploadRepository(session)
                for candidate in _candidates(name):
                    if not repo.claim_path(
                        upload_id, root=root, rel_path=destination.rel(candidate)
                    ):
                        continue
                    session.commit()
                    final = destination.folder / candidate
                    if _link(staged, final):
                        return final
                raise Invalid(f"too many files named {name!r} already")
        finally:
            if staged != data:
                staged.unlink(missing_ok=True)

    def _register(self, stored: Path) -> str:
        """The placed file indexed now (`processing` from here); a file that cannot be is
        removed again, so nothing unregistered is left in the library."""
        from trove.services.scanner import RootUnavailable, ScanService
        from trove.sync.path_sync import PathSync

        try:
            return PathSync(ScanService(self.settings, database=self.database)).register_path(
                stored
            )
        except RootUnavailable as exc:
            stored.unlink(missing_ok=True)
            raise Unavailable(f"the upload could not be indexed: {exc}") from exc


def safe_upload_name(filename: str) -> str:
    """The bare file name to store, or Invalid if it would escape the destination."""
    name = (filename or "").strip()
    if not _is_plain_name(name):
        raise Invalid(f"refused file name {filename!r}: it must be a plain name, not a path")
    if WalkRules().is_hidden(name):
        raise Invalid(f"refused file name {filename!r}: hidden and system names are not indexed")
    if len(name.encode("utf-8", "surrogateescape")) > 255:
        raise Invalid("refused file name: longer than 255 bytes")
    return name


def _is_plain_name(name: str) -> bool:
    return bool(name) and name not in {".", ".."} and not any(c in name for c in "/\\\x00")


def _require_user(viewer: Viewer) -> str:
    if viewer.user_id is None:
        raise Forbidden("sign in to upload")
    return viewer.user_id


def _candidates(name: str) -> list[str]:
    stem, dot, suffix = name.rpartition(".")
    if not stem:  # no extension, or a name like ".x" (refused earlier)
        stem, dot, suffix = name, "", ""
    return [name, *(f"{stem} ({n}){dot}{suffix}" for n in range(1, 1000))]


def _link(staged: Path, final: Path) -> bool:
    """Hard-link into place; False if a file (indexed or not) already has the name."""
    try:
        os.link(staged, final)
    except FileExistsError:
        return False
    except OSError:  # a filesystem without hard links: an exclusive create, then a copy
        try:
            with staged.open("rb") as source, final.open("xb") as out:
                shutil.copyfileobj(source, out, 1024 * 1024)
        except FileExistsError:
            return False
    return True


def _same_device_copy(data: Path, folder: Path) -> Path:
    """`data` if it can be hard-linked into `folder`; else a hidden copy in `folder` (which
    the scanner skips) that can be."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.stat(data).st_dev == os.stat(folder).st_dev:
        return data
    fd, temp_name = tempfile.mkstemp(prefix=".trove-upload-", dir=folder)
    os.close(fd)
    shutil.copy2(data, temp_name)
    return Path(temp_name)


def _set_mtime(path: Path, modified_ms: int | None) -> None:
    """A modification time from the client, unless it is in the future (a wrong clock)."""
    if modified_ms is None or not 0 <= modified_ms <= time.time() * 1000:
        return
    ns = modified_ms * 1_000_000
    os.utime(path, ns=(ns, ns))


def _as_datetime(modified_ms: int | None) -> datetime | None:
    if modified_ms is None or not 0 <= modified_ms <= time.time() * 1000:
        return None
    return datetime.fromtimestamp(modified_ms / 1000, UTC).replace(tzinfo=None)


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _older_than(entry: os.DirEntry[str], cutoff: datetime) -> bool:
    modified = datetime.fromtimestamp(entry.stat().st_mtime, UTC).replace(tzinfo=None)
    return modified < cutoff


def _remove_tus_files(tus_dir: Path, upload_id: str) -> None:
    for path in (tus_dir / upload_id, tus_dir / f"{upload_id}.info"):
        path.unlink(missing_ok=True)


def _tus_infos(tus_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """(data file, tuspyserver's record of it) for every TUS upload on disk."""
    found = []
    for info in tus_dir.glob("*.info") if tus_dir.is_dir() else ():
        try:
            params = json.loads(info.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(params, dict) and isinstance(params.get("offset"), int):
            found.append((info.with_suffix(""), params))
    return found


def _trim_to_offsets(tus_dir: Path) -> None:
    """A server killed mid-PATCH leaves bytes past the offset it recorded (tuspyserver
    records the offset when a PATCH ends): they are cut, so the client resumes from the
    recorded offset onto exactly that many bytes."""
    for data, params in _tus_infos(tus_dir):
        try:
            if data.stat().st_size > params["offset"]:
                os.truncate(data, params["offset"])
        except FileNotFoundError:
            continue


def _complete_tus_uploads(tus_dir: Path) -> list[tuple[str, dict[str, str]]]:
    """(upload id, metadata) of the TUS uploads that hold all their bytes."""
    return [
        (data.name, params.get("metadata") or {})
        for data, params in _tus_infos(tus_dir)
        if params.get("size") == params["offset"]
    ]


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"
