"""`trove backup`: a consistent copy of the index while the server may be writing to it.

SQLite: the online backup API (`sqlite3.Connection.backup`) in one step, which reads one
snapshot (WAL mode: writers go on meanwhile), into a single self-contained file (journal mode
DELETE), checked with `PRAGMA quick_check`, renamed into place only when whole.

PostgreSQL: `pg_dump --format=custom` (one transaction, so one snapshot) when the program is
installed, bounded by `backup_timeout_s`; the password goes through the environment, never the
command line. Without pg_dump, `PgDumpMissing` carries the command to run on a machine that
has it. Restore with `pg_restore --clean --dbname=...`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from trove.config import Settings
from trove.db.engine import normalise_url
from trove.services.errors import Invalid
from trove.tools.run import ToolError, run_tool


class PgDumpMissing(Exception):
    """No pg_dump here; the message is the command to run elsewhere."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    elapsed_s: float
    method: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "size": self.size,
            "elapsed_s": round(self.elapsed_s, 3),
            "method": self.method,
        }


class BackupService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def backup(self, out: Path | None = None) -> BackupResult:
        started = time.perf_counter()
        url = make_url(normalise_url(self.settings.resolved_database_url))
        sqlite = url.get_backend_name() == "sqlite"
        target = out or self._default_path(".db" if sqlite else ".pgdump")
        if target.is_dir():
            raise Invalid(f"{target} is a folder: give the file to write")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        try:
            _private_file(partial)
            if sqlite:
                _sqlite_copy(Path(url.database or ""), partial)
                method = "sqlite online backup"
            else:
                self._pg_dump(url, partial)
                method = "pg_dump --format=custom"
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return BackupResult(target, target.stat().st_size, time.perf_counter() - started, method)

    def _default_path(self, suffix: str) -> Path:
        stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
        return self.settings.resolved_backup_dir / f"trove-{stamp}{suffix}"

    def _pg_dump(self, url: Any, partial: Path) -> None:
        # Made anew without the password: URL.set(password=None) leaves it in place, and it
        # must not reach the command line (any local user reads it in `ps`) nor the message.
        plain = URL.create(
            "postgresql",
            username=url.username,
            host=url.host,
            port=url.port,
            database=url.database,
            query=url.query,
        ).render_as_string(hide_password=False)
        argv = ["pg_dump", "--format=custom", "--no-password", f"--file={partial}", plain]
        program = shutil.which("pg_dump")
        if program is None:
            shown = " ".join(argv).replace(f"--file={partial}", "--file=trove.pgdump")
            raise PgDumpMissing(
                "pg_dump is not installed here. On a machine with PostgreSQL's client tools "
                f"(the server's major version or newer), run:\n  {shown}\n(the password, if "
                "any, in PGPASSWORD or ~/.pgpass); restore with pg_restore --clean --dbname=URL "
                "trove.pgdump"
            )
        env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
        try:
            run_tool([program, *argv[1:]], timeout=self.settings.backup_timeout_s, env=env)
        except ToolError as exc:
            raise Invalid(f"backup failed: {exc}") from exc


def _private_file(path: Path) -> None:
    """An empty file readable by its owner only, for the copy to be written into: a backup
    holds password hashes, token hashes and share links, like `trove export --secrets`."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_copy(source: Path, partial: Path) -> None:
    if not source.is_file():
        raise Invalid(f"no database at {source}")
    src = sqlite3.connect(source, timeout=30)  # read only by use: `mode=ro` cannot open WAL
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=-1)  # one step: one snapshot, never restarted by a writer
            dst.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = dst.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise Invalid(f"the copy does not check out: {verdict}")
            dst.commit()
        finally:
            dst.close()
    finally:
        src.close()
    with partial.open("rb") as stream:
        os.fsync(stream.fileno())
