"""XMP sidecars of what people said about their files (tags, rating, title, description), for
other tools (digiKam, darktable, Lightroom) to read: `trove export --xmp DIR`.

They go into a folder of their own, `DIR/<library>/<path>.xmp`, which may be neither inside a
library nor hold one: originals and their folders are never written to. Next to the originals
(`IMG_1.jpg.xmp`, updated in place when one exists, other tools' tags kept) only with
`--xmp-beside` and only for libraries listed in `TROVE_XMP_BESIDE_ROOTS`: a per-library
opt-in by whoever owns the files.

ExifTool writes them into a scratch folder of Trove's own, a batch per process through an
argument file (`-@`, one argument a line, `-execute` between files; values HTML-escaped with
`-E` so that a newline fits on one line), each batch bounded in time; Trove then puts each in
place itself, reaching its folder one component at a time from the library (or the export
folder) with O_NOFOLLOW, so that nothing is written outside it: a symlink where the sidecar or
one of its folders would be (dangling or not) is skipped, never followed. A new sidecar is
created with O_EXCL (a file that appeared meanwhile is kept); an existing one is updated only
when it is a regular file holding an XMP packet, unchanged since it was read (ExifTool edits
a copy, which replaces it by rename: other tools' tags are kept); anything else is skipped.
"""

from __future__ import annotations

import errno
import hashlib
import html
import os
import secrets
import stat
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.domain.enums import AssetType
from trove.repositories.user_data import UserDataRepository
from trove.services.errors import Invalid
from trove.tools.run import ToolError, run_tool

BATCH = 200
SECONDS_PER_FILE = 0.2
GALLERY = "gallery"
MAX_EXISTING_BYTES = 4 * 1024 * 1024  # a sidecar is a few KiB; more is not one
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass
class XmpReport:
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"written": self.written, "skipped": dict(self.skipped), "failed": self.failed}


@dataclass(frozen=True)
class Sidecar:
    """`base/folders.../name`: `base` is a library (beside its originals) or the export
    folder; `folders` are made below the export folder, and must exist below a library."""

    base: Path
    folders: tuple[str, ...]
    name: str
    tags: list[str]
    title: str | None
    description: str | None
    rating: int | None
    make_folders: bool


class Refused(Exception):
    """A sidecar left unwritten; the message is the report's reason."""


@dataclass(frozen=True)
class _Existing:
    data: bytes
    identity: tuple[int, int, int, int]  # device, inode, size, mtime_ns
    mode: int


class XmpExport:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database

    def write(self, folder: Path | None, *, beside_originals: bool = False) -> XmpReport:
        """Sidecars into `folder`, or (`beside_originals`) next to the files of the libraries
        that opted in."""
        with self.database.session() as session:
            roots = [Path(p) for p in UserDataRepository(session).root_paths()]
        if folder is not None:
            folder = folder.expanduser().resolve()
            _refuse_overlap(folder, roots)
            folder.mkdir(parents=True, exist_ok=True)
        allowed = {p.resolve() for p in self.settings.xmp_beside_root_paths}
        report = XmpReport()
        batch: list[Sidecar] = []
        labels = _labels(roots)
        for sidecar in self._sidecars(folder, labels=labels, allowed=allowed, report=report):
            batch.append(sidecar)
            if len(batch) >= BATCH:
                self._run(batch, report)
                batch = []
        if batch:
            self._run(batch, report)
        return report

    def _sidecars(
        self,
        folder: Path | None,
        *,
        labels: dict[Path, str],
        allowed: set[Path],
        report: XmpReport,
    ) -> Iterator[Sidecar]:
        with self.database.session() as session:
            rows = UserDataRepository(session).physical_assets_with_user_data((GALLERY,))
            for asset, root_path, tags in rows:
                if asset.asset_type == AssetType.COLLECTION or not asset.rel_path:
                    continue
                rating = ((asset.meta or {}).get(GALLERY) or {}).get("rating")
                if not (tags or asset.title or asset.description or rating is not None):
                    continue
                root = Path(root_path)
                *folders, name = Path(f"{asset.rel_path}.xmp").parts
                if folder is not None:
                    label = labels.get(root) or _labels([root])[root]  # a library added since
                    base, folders, make = folder, [label, *folders], True
                elif root.resolve() in allowed:
                    base, make = root, False
                else:
                    report.skipped["library not opted in"] += 1
                    continue
                if any(part in ("", ".", "..", "/") for part in (*folders, name)):
                    report.skipped["not a plain path below its library"] += 1
                    continue
                yield Sidecar(
                    base, tuple(folders), name, tags, asset.title, asset.description, rating, make
                )

    def _run(self, batch: list[Sidecar], report: XmpReport) -> None:
        with tempfile.TemporaryDirectory(prefix="trove-xmp-") as scratch:
            drafts: list[tuple[Sidecar, Path, _Existing | None, int | None]] = []
            for n, sidecar in enumerate(batch):
                try:
                    existing = _read_existing(sidecar)
                except Refused as exc:
                    report.skipped[str(exc)] += 1
                    continue
                draft, copied = Path(scratch) / f"{n}.xmp", None
                if existing is not None:  # ExifTool replaces the copy with a new file
                    draft.write_bytes(existing.data)
                    copied = draft.stat().st_ino
                drafts.append((sidecar, draft, existing, copied))
            if not drafts:
                return
            argfile = Path(scratch) / "args"
            lines = [a for s, d, e, _ in drafts for a in _arguments(s, d, update=e is not None)]
            argfile.write_text("\n".join(lines) + "\n", encoding="utf-8")
            timeout = self.settings.tool_timeout_s + SECONDS_PER_FILE * len(drafts)
            try:
                run_tool(["exiftool", "-@", str(argfile)], timeout=timeout)
            except ToolError as exc:
                report.failed.append(str(exc))
            for sidecar, draft, existing, copied in drafts:
                if not draft.is_file() or draft.stat().st_ino == copied:
                    continue  # ExifTool could not write it (its error is in `failed`)
                try:
                    _put_in_place(sidecar, draft.read_bytes(), existing)
                    report.written += 1
                except Refused as exc:
                    report.skipped[str(exc)] += 1


def _arguments(sidecar: Sidecar, draft: Path, *, update: bool) -> Iterator[str]:
    """ExifTool's arguments for one sidecar, written to `draft` (Trove's scratch copy)."""
    yield from ("-charset", "filename=utf8", "-E", "-m")
    yield "-overwrite_original" if update else "-o"
    if not update:
        yield str(draft)
    yield f"-XMP-dc:Title={_escaped(sidecar.title)}"
    yield f"-XMP-dc:Description={_escaped(sidecar.description)}"
    yield from (f"-XMP-dc:Subject={_escaped(tag)}" for tag in sidecar.tags or [""])
    rating = "" if sidecar.rating is None else str(int(sidecar.rating))
    yield f"-XMP-xmp:Rating={rating}"
    if update:
        yield str(draft)
    yield "-execute"


def _open_folder(sidecar: Sidecar) -> int:
    """A descriptor of the sidecar's folder, reached from `base` one component at a time
    without following a symlink (made below an export folder, when missing)."""
    try:  # the library or export folder itself may be reached through a symlink
        fd = os.open(sidecar.base, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Refused(f"its library or export folder cannot be opened ({exc.strerror})") from None
    try:
        for part in sidecar.folders:
            try:
                step = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not sidecar.make_folders:
                    raise Refused("its folder is gone") from None
                os.mkdir(part, 0o755, dir_fd=fd)
                step = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise Refused("a symlink or a file where a folder should be") from None
                raise Refused(f"its folder cannot be opened ({exc.strerror})") from None
            os.close(fd)
            fd = step
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_existing(sidecar: Sidecar) -> _Existing | None:
    """The sidecar already there (None: none), if it is one Trove may update."""
    folder = _open_folder(sidecar)
    try:
        fd = os.open(sidecar.name, _READ_FLAGS, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused("a symlink where the sidecar would go") from None
        raise Refused(f"the file there cannot be read ({exc.strerror})") from None
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not a regular file where the sidecar would go")
        data = file.read(MAX_EXISTING_BYTES + 1)
    if len(data) > MAX_EXISTING_BYTES or not (b"<x:xmpmeta" in data or b"<?xpacket" in data):
        raise Refused("a file there that is not an XMP sidecar")
    return _Existing(data, _identity(info), stat.S_IMODE(info.st_mode))


def _put_in_place(sidecar: Sidecar, data: bytes, existing: _Existing | None) -> None:
    """Write `data` as the sidecar: a new file never replaces one that appeared meanwhile;
    an update replaces (by rename: the name, never what a symlink points to) only the file
    that was read."""
    folder = _open_folder(sidecar)
    try:
        if existing is None:
            _create(folder, sidecar.name, data, mode=0o644)
            return
        try:
            now = os.stat(sidecar.name, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            raise Refused("the sidecar there changed during the export") from None
        if not stat.S_ISREG(now.st_mode) or _identity(now) != existing.identity:
            raise Refused("the sidecar there changed during the export")
        temporary = f".{sidecar.name}.trove-{secrets.token_hex(4)}"
        _create(folder, temporary, data, mode=existing.mode)
        try:
            os.replace(temporary, sidecar.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            os.unlink(temporary, dir_fd=folder)
            raise
    finally:
        os.close(folder)


def _create(folder: int, name: str, data: bytes, *, mode: int) -> None:
    try:
        fd = os.open(name, _CREATE_FLAGS, mode, dir_fd=folder)
    except FileExistsError:
        raise Refused("a file appeared where the sidecar would go") from None
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _escaped(value: str | None) -> str:
    """One line for the argument file; `-E` turns the entities back into the characters."""
    text = html.escape(value or "", quote=False)
    return text.replace("\r", "&#13;").replace("\n", "&#10;")


def _labels(roots: list[Path]) -> dict[Path, str]:
    """Each library's folder inside the export: its path, flattened. Flattening is not one to
    one (`a_b/c` and `a/b_c` both give `a_b_c`), so libraries that would share a folder get
    their path's digest after the name; the others keep the plain name of earlier exports."""
    flat = {root: str(root).strip("/").replace("/", "_") or "root" for root in roots}
    shared = {name for name, n in Counter(flat.values()).items() if n > 1}
    return {
        root: f"{name}-{hashlib.sha256(os.fsencode(root)).hexdigest()[:12]}"
        if name in shared
        else name
        for root, name in flat.items()
    }


def _refuse_overlap(folder: Path, roots: list[Path]) -> None:
    for root in roots:
        resolved = root.resolve()
        if folder == resolved or resolved in folder.parents or folder in resolved.parents:
            raise Invalid(
                f"{folder} overlaps the library {root}: XMP sidecars are written to a folder "
                "outside every library (beside the originals only with --xmp-beside, for the "
                "libraries listed in TROVE_XMP_BESIDE_ROOTS)"
            )
