"""XMP sidecars of what people said about their files (tags, rating, title, description), for
other tools (digiKam, darktable, Lightroom) to read: `trove export --xmp DIR`.

They go into a folder of their own, `DIR/<library>/<path>.xmp`, which may be neither inside a
library nor hold one: originals and their folders are never written to. Next to the originals
(`IMG_1.jpg.xmp`, updated in place when one exists, other tools' tags kept) only with
`--xmp-beside` and only for libraries listed in `TROVE_XMP_BESIDE_ROOTS`: a per-library
opt-in by whoever owns the files.

ExifTool writes them, a batch per process through an argument file (`-@`, one argument a line,
`-execute` between files; values HTML-escaped with `-E` so that a newline fits on one line),
each batch bounded in time.
"""

from __future__ import annotations

import html
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


@dataclass
class XmpReport:
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"written": self.written, "skipped": dict(self.skipped), "failed": self.failed}


@dataclass(frozen=True)
class Sidecar:
    target: Path
    tags: list[str]
    title: str | None
    description: str | None
    rating: int | None


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
        allowed = {p.resolve() for p in self.settings.xmp_beside_root_paths}
        report = XmpReport()
        batch: list[Sidecar] = []
        for sidecar in self._sidecars(folder, allowed=allowed, report=report):
            batch.append(sidecar)
            if len(batch) >= BATCH:
                self._run(batch, report)
                batch = []
        if batch:
            self._run(batch, report)
        return report

    def _sidecars(
        self, folder: Path | None, *, allowed: set[Path], report: XmpReport
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
                if folder is not None:
                    target = folder / _label(root) / f"{asset.rel_path}.xmp"
                elif root.resolve() in allowed:
                    target = root / f"{asset.rel_path}.xmp"
                else:
                    report.skipped["library not opted in"] += 1
                    continue
                if "\n" in str(target) or "\r" in str(target) or ".." in Path(asset.rel_path).parts:
                    report.skipped["name unsafe for an argument file"] += 1
                    continue
                yield Sidecar(target, tags, asset.title, asset.description, rating)

    def _run(self, batch: list[Sidecar], report: XmpReport) -> None:
        with tempfile.TemporaryDirectory(prefix="trove-xmp-") as scratch:
            argfile = Path(scratch) / "args"
            argfile.write_text("\n".join(_arguments(batch)) + "\n", encoding="utf-8")
            timeout = self.settings.tool_timeout_s + SECONDS_PER_FILE * len(batch)
            try:
                run_tool(["exiftool", "-@", str(argfile)], timeout=timeout)
            except ToolError as exc:
                report.failed.append(str(exc))
        report.written += sum(1 for s in batch if s.target.is_file())


def _arguments(batch: list[Sidecar]) -> Iterator[str]:
    for sidecar in batch:
        yield from ("-charset", "filename=utf8", "-E", "-m")
        if sidecar.target.exists():
            yield "-overwrite_original"
        else:
            sidecar.target.parent.mkdir(parents=True, exist_ok=True)
            yield from ("-o", str(sidecar.target))
        yield f"-XMP-dc:Title={_escaped(sidecar.title)}"
        yield f"-XMP-dc:Description={_escaped(sidecar.description)}"
        yield from (f"-XMP-dc:Subject={_escaped(tag)}" for tag in sidecar.tags or [""])
        rating = "" if sidecar.rating is None else str(int(sidecar.rating))
        yield f"-XMP-xmp:Rating={rating}"
        if sidecar.target.exists():
            yield str(sidecar.target)
        yield "-execute"


def _escaped(value: str | None) -> str:
    """One line for the argument file; `-E` turns the entities back into the characters."""
    text = html.escape(value or "", quote=False)
    return text.replace("\r", "&#13;").replace("\n", "&#10;")


def _label(root: Path) -> str:
    """A library's folder inside the export: its path, flattened (unique, as paths are)."""
    return str(root).strip("/").replace("/", "_") or "root"


def _refuse_overlap(folder: Path, roots: list[Path]) -> None:
    for root in roots:
        resolved = root.resolve()
        if folder == resolved or resolved in folder.parents or folder in resolved.parents:
            raise Invalid(
                f"{folder} overlaps the library {root}: XMP sidecars are written to a folder "
                "outside every library (beside the originals only with --xmp-beside, for the "
                "libraries listed in TROVE_XMP_BESIDE_ROOTS)"
            )
