"""What a scan found, for the CLI, the API and the root's last-scan record."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_FAILED_SHOWN = 20


@dataclass
class ScanSummary:
    path: str
    root_id: str | None = None
    status: str = "online"
    status_message: str | None = None
    seen: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    returned: int = 0
    # Files (and folders) found at a new path that are indexed assets moved: identity kept.
    moved: int = 0
    # Files read to decide whether they were moved (same size as a vanished file).
    hashed_for_moves: int = 0
    errors: int = 0
    folders: int = 0
    expected: int = 0  # files the index held before this scan: the progress total
    skipped: Counter[str] = field(default_factory=Counter)
    # New files whose whole pass was done as they were registered (pipeline/light.py), and
    # the outcomes of the steps done so, by (step, status).
    processed: int = 0
    processed_steps: Counter[tuple[str, str]] = field(default_factory=Counter)
    # Entries the index could not take ("path: reason"); the first few are kept with the scan.
    failed_entries: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    elapsed_s: float = 0.0

    @property
    def wrote_nothing(self) -> bool:
        return not (
            self.new or self.changed or self.gone or self.returned or self.moved or self.errors
        )

    def finish(self) -> ScanSummary:
        self.elapsed_s = round(time.perf_counter() - self.started, 4)
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "root_id": self.root_id,
            "status": self.status,
            "status_message": self.status_message,
            "seen": self.seen,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "gone": self.gone,
            "returned": self.returned,
            "moved": self.moved,
            "hashed_for_moves": self.hashed_for_moves,
            "errors": self.errors,
            "folders": self.folders,
            "skipped": dict(sorted(self.skipped.items())),
            "processed": self.processed,
            "failed": len(self.failed_entries),
            "failed_entries": self.failed_entries[:MAX_FAILED_SHOWN],
            "elapsed_s": self.elapsed_s,
        }
