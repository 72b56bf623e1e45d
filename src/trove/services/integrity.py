"""IntegrityService (seed 4.6): logical dedup, the bitrot check, and cache garbage collection.

- Duplicates are found by SHA-256 and only reported: groups are a GROUP BY over the indexed
  hash column (no file is read), and each copy is linked `duplicate_of` the group's first asset.
- Bitrot: a file whose size and mtime still match the index but whose bytes hash differently
  has been corrupted (a write would have changed its mtime). Such a finding keeps the expected
  and the actual hash; the asset's recorded hash is left as it was (the good one).
- Orphans: cache folders whose hash no asset holds any more are removed; never originals.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.domain.access import Viewer
from trove.domain.serialize import iso_utc
from trove.repositories._sql import utcnow
from trove.repositories.integrity import IntegrityRepository, VerifyCandidate
from trove.repositories.roots import RootRepository
from trove.services.dupes import DuplicateFinder
from trove.storage import cache_gc
from trove.storage.hashing import Interrupted, Throttle, sha256_file
from trove.storage.originals import OriginalUnavailable, resolve

VERIFY_BATCH = 200


@dataclass
class VerifyReport:
    checked: int = 0
    ok: int = 0
    bytes_read: int = 0
    corrupted: list[dict[str, Any]] = field(default_factory=list)
    changed: int = 0  # size or mtime differ: an edit, for the scanner to pick up
    # --changed: files whose ctime moved although size and mtime did not, and whose bytes
    # differ: overwritten in place (a scan cannot see it), so indexed again.
    rewritten: list[dict[str, Any]] = field(default_factory=list)
    unreadable: int = 0
    interrupted: bool = False
    elapsed_s: float = 0.0
    mb_per_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class GcReport:
    removed: int = 0
    removed_bytes: int = 0
    kept: int = 0
    kept_recent: int = 0
    left_alone: list[str] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class IntegrityService:
    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.database = database

    @classmethod
    def open(cls, settings: Settings) -> IntegrityService:
        """For a CLI command: the schema made current and the database opened."""
        from trove.db.migrate import ensure_schema

        ensure_schema(settings.resolved_database_url)
        return cls(settings, Database(settings.resolved_database_url))

    # --- duplicates ------------------------------------------------------------------------

    def duplicates(
        self, *, limit: int = 100, cursor: str | None = None, root_id: str | None = None
    ) -> dict[str, Any]:
        """Duplicate groups, most wasted space first: {"items", "next_cursor", "totals"}."""
        return DuplicateFinder(self.settings).report(limit=limit, cursor=cursor, root_id=root_id)

    def sync_duplicate_links(self) -> tuple[int, int]:
        with self.database.session() as session:
            return IntegrityRepository(session).sync_duplicate_links()

    # --- bitrot ----------------------------------------------------------------------------

    def verify(
        self,
        *,
        max_age_days: float | None = None,
        mb_per_s: float | None = None,
        limit: int | None = None,
        changed: bool = False,
        stop: threading.Event | None = None,
        progress: Callable[[VerifyReport], None] | None = None,
    ) -> VerifyReport:
        """Re-hash files whose size and mtime are unchanged; a different hash is corruption.

        `max_age_days`: only files not verified for that long (None: all). Reads at most
        `mb_per_s` (default: the setting; 0: unthrottled), and stops early when `stop` is set.
        `changed`: only files whose ctime moved since they were indexed; a file overwritten
        in place keeping its size and mtime shows only there, so a different hash is an
        edit (the file is indexed again), not corruption.
        """
        import time

        started = time.perf_counter()
        rate = self.settings.verify_mb_per_s if mb_per_s is None else mb_per_s
        throttle = Throttle.mb_per_s(rate, stop=stop)
        before = utcnow() - timedelta(days=max_age_days) if max_age_days else None
        report, after_id = VerifyReport(), ""
        while not report.interrupted and (limit is None or report.checked < limit):
            with self.database.session() as session:
                batch = IntegrityRepository(session).to_verify(
                    verified_before=before, limit=VERIFY_BATCH, after_id=after_id
                )
            if not batch:
                break
            after_id = batch[-1].id
            if limit is not None:
                batch = batch[: limit - report.checked]
            self._verify_batch(batch, report, throttle=throttle, stop=stop, changed=changed)
            if progress is not None:
                progress(report)
        report.elapsed_s = round(time.perf_counter() - started, 3)
        if report.elapsed_s:
            report.mb_per_s = round(report.bytes_read / 1024**2 / report.elapsed_s, 2)
        return report

    def _verify_batch(
        self,
        batch: list[VerifyCandidate],
        report: VerifyReport,
        *,
        throttle: Throttle | None,
        stop: threading.Event | None,
        changed: bool,
    ) -> None:
        good: list[tuple[VerifyCandidate, int]] = []  # (candidate, ctime_ns now)
        bad: list[tuple[VerifyCandidate, int, str]] = []  # (candidate, ctime_ns, digest)
        for candidate in batch:
            if stop is not None and stop.is_set():
                report.interrupted = True
                break
            try:
                st = _lstat(candidate)
                if changed and st.st_ctime_ns == candidate.ctime_ns:
                    continue
                digest = _rehash_if_unchanged(candidate, st, throttle=throttle)
            except Interrupted:
                report.interrupted = True
                break
            except OriginalUnavailable:
                report.unreadable += 1
                continue
            report.checked += 1
            if digest is None:
                report.changed += 1
                continue
            report.bytes_read += candidate.size
            if digest == candidate.hash:
                good.append((candidate, st.st_ctime_ns))
            else:
                bad.append((candidate, st.st_ctime_ns, digest))
        self._record(good, bad, report, rewritten=changed)

    def _record(
        self,
        good: list[tuple[VerifyCandidate, int]],
        bad: list[tuple[VerifyCandidate, int, str]],
        report: VerifyReport,
        *,
        rewritten: bool,
    ) -> None:
        now = utcnow()
        found = [
            {
                "asset_id": c.id,
                "path": os.path.join(c.root_path, c.rel_path),
                "expected_hash": c.hash,
                "actual_hash": digest,
            }
            for c, _ctime, digest in bad
        ]
        with self.database.session() as session:
            repo = IntegrityRepository(session)
            ok = [c.id for c, _ctime in good]
            repo.mark_verified(ok + [c.id for c, _ctime, _digest in bad], at=now)
            repo.resolve(ok)  # bytes that match again (restored from a backup)
            repo.record_ctimes((c.id, ctime) for c, ctime in good if ctime != c.ctime_ns)
            if rewritten:
                repo.mark_rewritten([c.id for c, _ctime, _digest in bad])
                repo.record_ctimes((c.id, ctime) for c, ctime, _digest in bad)
            for candidate, _ctime, digest in [] if rewritten else bad:
                repo.record_corruption(candidate.id, expected=candidate.hash, actual=digest)
        report.ok += len(good)
        if rewritten:
            report.rewritten += found
        else:
            report.corrupted += found

    def findings(
        self,
        *,
        viewer: Viewer,
        include_resolved: bool = False,
        limit: int = 100,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """The findings about assets the viewer may see."""
        with self.database.session() as session:
            repo = IntegrityRepository(session)
            rows = repo.findings(
                viewer=viewer,
                include_resolved=include_resolved,
                limit=limit + 1,
                after_id=cursor or "",
            )
            page = rows[:limit]
            return {
                "items": [finding_dict(f, a, p) for f, a, p in page],
                "next_cursor": page[-1][0].id if len(rows) > limit else None,
                "open": repo.count_open_findings(viewer=viewer),
            }

    # --- orphans ---------------------------------------------------------------------------

    def collect_garbage(self, *, dry_run: bool = False, min_age_s: float = 3600.0) -> GcReport:
        """Remove cache entries whose hash no asset holds. Entries younger than `min_age_s`
        stay: the pipeline writes a preview before it records the asset's hash."""
        report = GcReport(dry_run=dry_run)
        with self.database.session() as session:
            referenced = IntegrityRepository(session).referenced_hashes()
            roots = [root.path for root in RootRepository(session).all()]
        cache_dir = self.settings.resolved_cache_dir
        for entry in cache_gc.entries(cache_dir, strays=report.left_alone):
            if entry.hash in referenced:
                report.kept += 1
            elif entry.age_s < min_age_s:
                report.kept_recent += 1
            elif dry_run or cache_gc.remove(entry, roots=roots):
                report.removed += 1
                report.removed_bytes += entry.bytes
            else:
                report.left_alone.append(f"{entry.hash[:2]}/{entry.hash}")
        if not dry_run:
            cache_gc.prune_empty_shards(cache_dir)
        return report


def _lstat(candidate: VerifyCandidate) -> os.stat_result:
    path = resolve(candidate.root_path, candidate.rel_path, escaped=candidate.path_escaped)
    try:
        return os.lstat(path)
    except OSError as exc:
        raise OriginalUnavailable(str(exc)) from exc


def _rehash_if_unchanged(
    candidate: VerifyCandidate, st: os.stat_result, *, throttle: Throttle | None
) -> str | None:
    """The file's SHA-256, or None when its size or mtime changed (an edit, not bitrot)."""
    if (st.st_size, st.st_mtime_ns) != (candidate.size, candidate.mtime_ns):
        return None
    path = resolve(candidate.root_path, candidate.rel_path, escaped=candidate.path_escaped)
    digest, size, mtime_ns = sha256_file(path, throttle=throttle)
    if (size, mtime_ns) != (candidate.size, candidate.mtime_ns):
        return None
    return digest


# --- what the API and the CLI show ------------------------------------------------------------


def copy_dict(asset: Any, root_path: str | None) -> dict[str, Any]:
    return {
        "id": asset.id,
        "root_id": asset.root_id,
        "root_path": root_path,
        "path": asset.rel_path,
        "filename": asset.filename,
        "storage_urn": asset.storage_urn,
        "status": asset.status,
    }


def finding_dict(finding: Any, asset: Any, root_path: str | None) -> dict[str, Any]:
    return {
        "id": finding.id,
        "kind": finding.kind,
        "asset_id": finding.asset_id,
        "root_path": root_path,
        "path": asset.rel_path,
        "storage_urn": asset.storage_urn,
        "expected_hash": finding.expected_hash,
        "actual_hash": finding.actual_hash,
        "found_at": iso_utc(finding.found_at),
        "resolved_at": iso_utc(finding.resolved_at),
    }


def integrity_of(session: Any, asset: Any, *, viewer: Viewer) -> dict[str, Any]:
    """What an asset's detail adds: its other copies the viewer may see ("this file also
    exists in ...") and whether it is corrupted (open findings)."""
    repo = IntegrityRepository(session)
    others = [
        (other, root_path)
        for other, root_path in (repo.copies([asset.hash], viewer=viewer) if asset.hash else [])
        if other.id != asset.id
    ]
    # A copy that failed its own bitrot check is no copy to restore from: say so.
    rotten = repo.corrupted_among([other.id for other, _ in others])
    copies = [
        {**copy_dict(other, root_path), "corrupted": other.id in rotten}
        for other, root_path in others
    ]
    findings = repo.open_findings_for(asset.id)
    return {
        "copies": copies,
        "corrupted": any(f.kind == "corrupted" for f in findings),
        "integrity": [
            {
                "kind": f.kind,
                "expected_hash": f.expected_hash,
                "actual_hash": f.actual_hash,
                "found_at": iso_utc(f.found_at),
            }
            for f in findings
        ],
    }


def status_warnings(roots: list[Any], *, corrupted: int) -> list[str]:
    """The problems `trove status` and GET /api/dam/status put first."""
    warnings = []
    for root in roots:
        if root.status == "offline":
            warnings.append(
                f"library {root.path} is OFFLINE ({root.status_message}): its files are kept"
                " as they were and none is marked missing; reconnect it and it is rescanned"
            )
        if (root.watch_status or "").startswith("polling"):
            warnings.append(f"library {root.path} is not watched: {root.watch_status}")
        failed = (root.last_scan or {}).get("failed") or 0
        if failed:
            first = root.last_scan["failed_entries"][0]
            warnings.append(
                f"library {root.path}: {failed} entries could not be indexed at the last scan"
                f" (first: {first})"
            )
    if corrupted:
        warnings.append(
            f"{corrupted} file(s) corrupted: their bytes changed while size and date did not"
            " (trove verify; GET /api/dam/integrity)"
        )
    return warnings
