"""Per-asset, per-step pipeline outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trove.db.models import AssetStep
from trove.repositories.counters import CounterRepository


class StepRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def outcomes_for(self, asset_ids: Sequence[str]) -> dict[str, dict[str, AssetStep]]:
        found: dict[str, dict[str, AssetStep]] = {}
        rows = self.session.scalars(select(AssetStep).where(AssetStep.asset_id.in_(asset_ids)))
        for row in rows:
            found.setdefault(row.asset_id, {})[row.step] = row
        return found

    def record(self, rows: list[dict[str, Any]]) -> None:
        """Insert or replace outcomes; one row per (asset, step)."""
        if not rows:
            return
        module = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        stmt = module.insert(AssetStep)
        stmt = stmt.on_conflict_do_update(
            index_elements=["asset_id", "step"],
            set_={
                col: stmt.excluded[col]
                for col in ("status", "version", "message", "duration_ms", "updated_at")
            },
        )
        self.session.execute(stmt, rows)

    def counts(self) -> dict[tuple[str, str], int]:
        """Outcomes per (step, status), from the maintained counters."""
        return CounterRepository(self.session).step_counts()
