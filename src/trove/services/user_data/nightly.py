"""The nightly export: what users made, written by a running server into the data directory
every night (settings `export_at`, `export_keep`, `export_dir`), so a lost or broken database
costs at most a day of tagging even when nobody ran `trove export`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from trove.config import Settings
from trove.services.user_data.service import UserDataService

log = logging.getLogger(__name__)
PREFIX, SUFFIX = "trove-export-", ".jsonl"


def next_run(now: datetime, at: str) -> datetime:
    """The first local time `at` (HH:MM) after `now` (naive local time)."""
    hour, minute = (int(part) for part in at.split(":"))
    candidate = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return candidate if candidate > now else candidate + timedelta(days=1)


def seconds_until(moment: datetime, now: datetime) -> float:
    """Through the epoch, so that a night with a clock change is counted right."""
    return max(0.0, moment.timestamp() - now.timestamp())


class NightlyExport:
    def __init__(self, settings: Settings, user_data: UserDataService) -> None:
        self.settings = settings
        self.user_data = user_data

    def run(self, *, now: datetime | None = None) -> Path:
        """One export now (with share links: the folder sits beside the database, which holds
        them anyway), then the oldest beyond `export_keep` removed."""
        folder = self.settings.resolved_export_dir
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{PREFIX}{(now or datetime.now()):%Y%m%d-%H%M%S}{SUFFIX}"
        written = self.user_data.export_to(path, secrets=True)
        removed = prune(folder, keep=self.settings.export_keep)
        log.info(
            "nightly export: %s (%d records); removed %d older",
            path,
            sum(written.values()),
            len(removed),
        )
        return path


def prune(folder: Path, *, keep: int) -> list[Path]:
    """Remove all but the newest `keep` exports (their names sort by time)."""
    exports = sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))
    old = exports[: max(0, len(exports) - keep)]
    for path in old:
        path.unlink(missing_ok=True)
    return old
