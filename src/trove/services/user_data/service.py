"""UserDataService: export and import of what users made, section by section."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from trove import __version__
from trove.config import Settings
from trove.db.database import Database
from trove.repositories.user_data import UserDataRepository
from trove.services.albums import AlbumService
from trove.services.assets import AssetService
from trove.services.edits import EditService
from trove.services.errors import Invalid
from trove.services.links import LinkManager
from trove.services.user_data.copies import CopyChoice, files_named
from trove.services.user_data.records import (
    ImportReport,
    Record,
    Refs,
    checked,
    end,
    header,
    parsed,
)
from trove.services.user_data.section import ExportContext, ImportContext, Section
from trove.services.user_data.sections import SECTIONS
from trove.services.user_data.virtual import is_exported_virtual
from trove.services.user_data.xmp import XmpExport, XmpReport


class UserDataService:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        assets: AssetService,
        albums: AlbumService,
        links: LinkManager,
        edits: EditService,
        sections: tuple[Section, ...] = SECTIONS,
    ) -> None:
        self.settings = settings
        self.database = database
        self.assets = assets
        self.albums = albums
        self.links = links
        self.edits = edits
        self.sections = sections

    @classmethod
    def open(cls, settings: Settings) -> UserDataService:
        """For a CLI command: the schema made current and the database opened."""
        from trove.db.migrate import ensure_schema

        ensure_schema(settings.resolved_database_url)
        database = Database(settings.resolved_database_url)
        links = LinkManager(settings, database)
        assets = AssetService(
            settings, database, hierarchical=links.relations.hierarchical(), links=links
        )
        return cls(
            settings,
            database,
            assets=assets,
            albums=AlbumService(settings, database, links=links),
            links=links,
            edits=EditService(settings, database, assets=assets),
        )

    # --- export ----------------------------------------------------------------------------

    def export(self, out: IO[str], *, secrets: bool = False) -> Counter[str]:
        """Write every record to `out`; how many of each kind. `secrets`: share tokens and
        password hashes too (the file is then as sensitive as the database)."""
        written: Counter[str] = Counter()
        for record in self._records(secrets=secrets):
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            written[record["kind"]] += 1
        out.write(json.dumps(end(written.total())) + "\n")
        return written

    def export_to(self, path: Path, *, secrets: bool = False) -> Counter[str]:
        """`export` into a file that appears whole or not at all (a cut-short export never
        replaces a good one), readable by its owner only when it holds secrets."""
        if path.is_dir():
            raise Invalid(f"{path} is a folder: give the file to write")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        try:
            # Made anew: a partial file left by an export that was killed keeps its mode
            # through O_TRUNC, and secrets must never land in a file others can read.
            partial.unlink(missing_ok=True)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if secrets else 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                written = self.export(stream, secrets=secrets)
                stream.flush()
                os.fsync(stream.fileno())
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return written

    def _records(self, *, secrets: bool) -> Iterator[Record]:
        yield header(
            exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
            trove_version=__version__,
            secrets=secrets,
        )
        writable = tuple(self.assets.drivers.metadata.writable_namespaces())
        with self.database.session() as session:
            repo = UserDataRepository(session)
            ctx = ExportContext(
                repo=repo,
                refs=Refs(repo, is_exported_virtual=is_exported_virtual),
                writable=writable,
                secrets=secrets,
                user_names=repo.user_names(),
            )
            for section in self.sections:
                yield from section.records(ctx)

    def export_xmp(self, folder: Path | None, *, beside_originals: bool = False) -> XmpReport:
        """XMP sidecars for other tools (see `xmp.py`: never inside a library unless it opted
        in)."""
        return XmpExport(self.settings, self.database).write(
            folder, beside_originals=beside_originals
        )

    # --- import ----------------------------------------------------------------------------

    def import_file(self, source: Path) -> ImportReport:
        """`import_lines` of a file `trove export` wrote, read twice (checked whole and
        the files it names noted, then applied) rather than held in memory."""
        try:
            with source.open(encoding="utf-8") as lines:
                named = files_named(checked(lines))
            with source.open(encoding="utf-8") as lines:
                return self._apply(lines, named=named)
        except UnicodeDecodeError as exc:
            raise Invalid(f"{source} is not a trove export: it is not UTF-8 text") from exc

    def import_lines(self, lines: Iterable[str]) -> ImportReport:
        """Apply an export to this index, checked whole first; what matched and what did
        not."""
        held = list(lines)
        return self._apply(held, named=files_named(checked(held)))

    def _apply(self, lines: Iterable[str], *, named: set[int]) -> ImportReport:
        """`named`: every file the records name, so that the copy where one of them was is
        kept for its own records, whichever record meets that content first."""
        ctx = ImportContext(service=self, report=ImportReport(), copies=CopyChoice(named=named))
        by_kind = {kind: section for section in self.sections for kind in section.kinds}
        previous: Section | None = None
        for record in parsed(lines):
            section = by_kind.get(str(record.get("kind")))
            if previous is not None and section is not previous:
                previous.flush(ctx)
            previous = section
            if section is None:
                ctx.report.miss("unknown record", str(record.get("kind")))
                continue
            section.restore(record, ctx)
        if previous is not None:
            previous.flush(ctx)
        return ctx.report
