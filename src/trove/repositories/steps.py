"""Per-asset, per-step pipeline outcomes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Table, and_, func, literal, or_, select, text, true
from sqlalchemy.orm import Session

from trove.db.models import Asset, AssetStep
from trove.domain.access import Viewer
from trove.repositories._sql import insert_rows
from trove.repositories.access import visible_assets
from trove.repositories.counters import CounterRepository, FailureTally


@dataclass(frozen=True)
class FailureReason:
    """Files of one library a step failed on with the same message."""

    root_id: str
    step: str
    message: str
    count: int
    example: str


_STEPS = cast(Table, AssetStep.__table__)
# What a new outcome replaces of an earlier one of the same asset and step.
_RECORDED = ("status", "version", "message", "duration_ms", "updated_at")

# What `_at_most_per_root` passes through: counted reasons or tallies, each of one library.
_PerRoot = TypeVar("_PerRoot", FailureReason, FailureTally)


class StepRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def outcomes_for(self, asset_ids: Sequence[str]) -> dict[str, dict[str, tuple[str, int]]]:
        """asset -> step -> (status, version) of its recorded outcomes."""
        found: dict[str, dict[str, tuple[str, int]]] = {}
        rows = self.session.execute(
            select(AssetStep.asset_id, AssetStep.step, AssetStep.status, AssetStep.version).where(
                AssetStep.asset_id.in_(asset_ids)
            )
        )
        for asset_id, step, status, version in rows:
            found.setdefault(asset_id, {})[step] = (status, version)
        return found

    def record(self, rows: list[dict[str, Any]]) -> None:
        """Insert or replace outcomes; one row per (asset, step)."""
        insert_rows(
            self.session,
            _STEPS,
            rows,
            or_update=(("asset_id", "step"), _RECORDED),
        )

    def counts(self) -> dict[tuple[str, str], int]:
        """Outcomes per (step, status), from the maintained counters."""
        return CounterRepository(self.session).step_counts()

    def failure_reasons(self, *, viewer: Viewer, per_root: int) -> list[FailureReason]:
        """The most frequent (library, step, message) among failed outcomes of files the
        viewer sees, at most `per_root` of each library, with an example file of each.

        One who sees everything reads the maintained tallies (models.FailureCount) and a
        probe for each example; others count the failed outcomes of what they see."""
        if not (viewer.sees_everything and viewer.share is None):
            return list(_at_most_per_root(self._counted_failure_reasons(viewer=viewer), per_root))
        tallies = _at_most_per_root(CounterRepository(self.session).failure_tallies(), per_root)
        return [
            FailureReason(
                t.root_id,
                t.step,
                t.message,
                t.n,
                self._example(root_id=t.root_id, step=t.step, message=t.message),
            )
            for t in tallies
        ]

    def _example(self, *, root_id: str, step: str, message: str) -> str:
        """The first file (by id: the earliest indexed) of the library whose `step` failed
        with `message`: the index of failed outcomes by step and message (migration
        0018_status_tallies) walked in id order, each one's file probed by its primary key
        until one is in the library. PostgreSQL's index is over the message's md5."""
        same_message: list[ColumnElement[bool]]
        if not message:
            same_message = [or_(AssetStep.message.is_(None), AssetStep.message == "")]
        elif self.session.get_bind().dialect.name == "postgresql":
            same_message = [
                func.md5(AssetStep.message) == func.md5(literal(message)),
                AssetStep.message == message,
            ]
        else:
            same_message = [AssetStep.message == message]
        stmt = (
            select(Asset.rel_path)
            .select_from(AssetStep)
            .join(Asset, Asset.id == AssetStep.asset_id)
            .where(
                text("asset_steps.status = 'failed'"),
                AssetStep.step == step,
                *same_message,
                Asset.root_id == root_id,
                Asset.deleted_at.is_(None),
            )
            .order_by(AssetStep.asset_id)
            .limit(1)
        )
        return str(self.session.scalar(stmt) or "")

    def _counted_failure_reasons(self, *, viewer: Viewer, limit: int = 200) -> list[FailureReason]:
        """failure_reasons counted over the failed outcomes of files the viewer sees. Read
        through the partial index of failed outcomes (migration 0014_failed_steps_index):
        the literal `'failed'` is what lets SQLite use it.

        Each failed outcome finds its file by a primary-key probe. PostgreSQL, left to
        choose, hashed every row of `assets` to meet a few thousand failures (223 ms at
        200,000 assets); a LATERAL subquery with LIMIT 1 cannot be turned into that join.
        SQLite starts from the partial index on its own."""
        failed = text("asset_steps.status = 'failed'")
        wanted: list[ColumnElement[bool]] = [
            Asset.id == AssetStep.asset_id,
            Asset.deleted_at.is_(None),
            Asset.root_id.is_not(None),
            visible_assets(viewer),
        ]
        if self.session.get_bind().dialect.name == "postgresql":
            files = select(Asset.root_id, Asset.rel_path).where(*wanted).limit(1).lateral("file")
            root: ColumnElement[Any] = files.c.root_id
            path: ColumnElement[Any] = files.c.rel_path
            source = select().select_from(AssetStep).join(files, true())
        else:
            root, path = Asset.root_id.expression, Asset.rel_path.expression
            source = select().select_from(AssetStep).join(Asset, and_(*wanted))
        count = func.count()
        stmt = (
            source.add_columns(root, AssetStep.step, AssetStep.message, count, func.min(path))
            .where(failed)
            .group_by(root, AssetStep.step, AssetStep.message)
            .order_by(count.desc(), AssetStep.step)
            .limit(limit)
        )
        return [
            FailureReason(str(root_id), str(step), str(message or ""), int(n), str(example or ""))
            for root_id, step, message, n, example in self.session.execute(stmt)
        ]


def _at_most_per_root(reasons: Iterable[_PerRoot], per_root: int) -> Iterator[_PerRoot]:
    """The first `per_root` of each library, in the order given (the most frequent first)."""
    shown: Counter[str] = Counter()
    for reason in reasons:
        shown[reason.root_id] += 1
        if shown[reason.root_id] <= per_root:
            yield reason
