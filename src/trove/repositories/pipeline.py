"""Pipeline leases and progress counts (SQL for pipeline/runner.py and pipeline/service.py)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from trove.db.models import Asset, AssetStep, PipelineLease
from trove.domain.enums import AssetStatus
from trove.repositories._sql import insert_ignoring_conflicts, rowcount, usually_true
from trove.repositories.counters import CounterRepository

QUEUED = "queued"
RUNNING = "running"


class PendingWork(NamedTuple):
    """An asset waiting for the pipeline, with what hints at how much work it is."""

    asset_id: str
    size: int | None
    mime_type: str | None
    asset_type: str


class PipelineRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- what to send to the workers -------------------------------------------------------

    def ids_to_kick(
        self, *, now: datetime, limit: int, after_id: str = "", include_queued: bool
    ) -> list[str]:
        """Assets waiting in `processing` that no live worker holds. With `include_queued`
        (a restart) also those already sent once: the message may have died with a broker."""
        return [
            w.asset_id
            for w in self.work_to_kick(
                now=now, limit=limit, after_id=after_id, include_queued=include_queued
            )
        ]

    def held_ids(self, *, now: datetime) -> list[str]:
        """Assets waiting in `processing` that a live worker holds: sent by someone else (a
        worker's supervisor re-sends what nobody holds while a scan is still registering)."""
        live = and_(PipelineLease.state == RUNNING, PipelineLease.expires_at >= now)
        held = exists().where(PipelineLease.asset_id == Asset.id, live)
        stmt = select(Asset.id).where(
            Asset.status == AssetStatus.PROCESSING, Asset.deleted_at.is_(None), held
        )
        return list(self.session.scalars(stmt))

    def work_to_kick(
        self,
        *,
        now: datetime,
        limit: int,
        after_id: str = "",
        include_queued: bool,
        queued_before: datetime | None = None,
    ) -> list[PendingWork]:
        """`ids_to_kick`, with what the sender needs to size batches by their work. Without
        `include_queued`, those sent before `queued_before` are included all the same (the
        broker had handed out every message by then: theirs was lost)."""
        busy = PipelineLease.state == RUNNING
        busy = and_(busy, PipelineLease.expires_at >= now)
        if not include_queued:
            queued = PipelineLease.state == QUEUED
            if queued_before is not None:
                queued = and_(queued, PipelineLease.kicked_at >= queued_before)
            busy = or_(busy, queued)
        held = exists().where(PipelineLease.asset_id == Asset.id, busy)
        rows = self.session.execute(
            select(Asset.id, Asset.size, Asset.mime_type, Asset.asset_type)
            .where(
                Asset.status == AssetStatus.PROCESSING,
                Asset.deleted_at.is_(None),
                Asset.id > after_id,
                not_(held),
            )
            .order_by(Asset.id)
            .limit(limit)
        )
        return [PendingWork(*row) for row in rows]

    def mark_queued(
        self, asset_ids: Sequence[str], *, now: datetime, redate_queued: bool = False
    ) -> None:
        """Record that a task was sent; a lapsed `running` lease becomes `queued` again. A
        `queued` one sent again keeps its date unless `redate_queued`: dating it again would
        write every queued row each time a server's pass sends what is pending, and the
        re-send of lost messages (work_to_kick's `queued_before`) does not need it. An
        in-process run needs it: it tells what it sent itself by the date."""
        if not asset_ids:
            return
        if redate_queued:
            self.session.execute(
                update(PipelineLease)
                .where(PipelineLease.asset_id.in_(asset_ids), PipelineLease.state == QUEUED)
                .values(kicked_at=now)
                .execution_options(synchronize_session=False)
            )
        self.session.execute(
            update(PipelineLease)
            .where(
                PipelineLease.asset_id.in_(asset_ids),
                PipelineLease.state == RUNNING,
                PipelineLease.expires_at < now,
            )
            .values(state=QUEUED, owner=None, token=None, step=None, kicked_at=now)
            .execution_options(synchronize_session=False)  # no lease is ever an ORM object
        )
        rows = [
            {"asset_id": i, "state": QUEUED, "attempts": 0, "kicked_at": now}
            for i in sorted(asset_ids)
        ]
        insert_ignoring_conflicts(self.session, PipelineLease, rows)

    # --- a worker's claim on a batch -------------------------------------------------------

    def claim(
        self, asset_ids: Sequence[str], *, owner: str, token: str, now: datetime, ttl: float
    ) -> dict[str, int]:
        """Take the assets of `asset_ids` that are still to process and that no live worker
        holds; {asset id: attempts including this one}. Atomic per row on both databases: the
        conditional UPDATE re-checks its WHERE under the row lock, the INSERT loses on conflict.
        """
        if not asset_ids:
            return {}
        expires = now + timedelta(seconds=ttl)
        pending = select(Asset.id).where(
            Asset.id.in_(asset_ids),
            usually_true(self.session, Asset.status == AssetStatus.PROCESSING),
            Asset.deleted_at.is_(None),
        )
        self.session.execute(
            update(PipelineLease)
            .where(
                PipelineLease.asset_id.in_(pending),
                or_(PipelineLease.state == QUEUED, PipelineLease.expires_at < now),
            )
            .values(
                state=RUNNING,
                owner=owner,
                token=token,
                step=None,
                started_at=now,
                expires_at=expires,
                attempts=PipelineLease.attempts + 1,
            )
            .execution_options(synchronize_session=False)  # else: its RETURNING, for nothing
        )
        unleased = pending.where(not_(exists().where(PipelineLease.asset_id == Asset.id)))
        rows = [
            {
                "asset_id": asset_id,
                "state": RUNNING,
                "owner": owner,
                "token": token,
                "attempts": 1,
                "kicked_at": now,
                "started_at": now,
                "expires_at": expires,
            }
            # In id order, as mark_queued inserts: two inserts racing over the same keys in
            # opposite orders would deadlock on PostgreSQL.
            for asset_id in sorted(self.session.scalars(unleased))
        ]
        insert_ignoring_conflicts(self.session, PipelineLease, rows)
        held = select(PipelineLease.asset_id, PipelineLease.attempts).where(
            PipelineLease.token == token
        )
        return {asset_id: attempts for asset_id, attempts in self.session.execute(held)}

    def renew(self, *, owner: str, now: datetime, ttl: float) -> int:
        result = self.session.execute(
            update(PipelineLease)
            .where(PipelineLease.owner == owner, PipelineLease.state == RUNNING)
            .values(expires_at=now + timedelta(seconds=ttl))
        )
        return rowcount(result)

    def requeue_owner(self, owner: str) -> int:
        """Hand back at once the leases of a worker known to be dead (its process ended), not
        once they lapse; their attempts still count."""
        result = self.session.execute(
            update(PipelineLease)
            .where(PipelineLease.owner == owner, PipelineLease.state == RUNNING)
            .values(state=QUEUED, owner=None, token=None, step=None)
        )
        return rowcount(result)

    def hand_back(self, *, token: str) -> int:
        """Give back the leases of a batch its worker stopped on request: queued as sent, for
        any supervisor to send again, and the attempt not counted (only a worker that died
        on an asset counts towards giving that asset up)."""
        result = self.session.execute(
            update(PipelineLease)
            .where(PipelineLease.token == token, PipelineLease.state == RUNNING)
            .values(
                state=QUEUED,
                owner=None,
                token=None,
                step=None,
                attempts=PipelineLease.attempts - 1,
            )
        )
        return rowcount(result)

    def set_step(self, *, token: str, step: str) -> None:
        self.session.execute(
            update(PipelineLease).where(PipelineLease.token == token).values(step=step)
        )

    def release(self, asset_ids: Sequence[str], *, token: str) -> None:
        if asset_ids:
            self.session.execute(
                delete(PipelineLease)
                .where(PipelineLease.asset_id.in_(asset_ids), PipelineLease.token == token)
                .execution_options(synchronize_session=False)
            )

    # --- progress --------------------------------------------------------------------------

    def lease_counts(self, *, now: datetime) -> dict[str, Any]:
        """Live leases per step and the others (queued, or expired), in one reading. A
        lease whose liveness is unknown (no expiry) is neither, as SQL's NOT would have it."""
        running: dict[str, int] = {}
        queued = 0
        for step, is_live, n in self.session.execute(_lease_counts(), {"now": now}):
            if is_live == 1:
                running[str(step)] = running.get(str(step), 0) + int(n)
            elif is_live == 0:
                queued += int(n)
        return {"running_by_step": running, "queued": queued}

    def processing_count(self) -> int:
        """Assets waiting for or in their pipeline pass, from the maintained counters."""
        return sum(
            tally.n
            for tally in CounterRepository(self.session).asset_tallies()
            if tally.live and tally.status == AssetStatus.PROCESSING
        )

    def current_outcomes_of_processing(self, versions: dict[str, int]) -> dict[str, int]:
        """Per step: assets still `processing` whose outcome at the current version is in,
        from the maintained tallies (models.ProcessingOutcomeCount)."""
        tallies = CounterRepository(self.session).processing_outcomes()
        found = {step: tallies.get((step, version), 0) for step, version in versions.items()}
        return {step: n for step, n in found.items() if n}

    def recent_throughput(
        self, *, since: datetime
    ) -> tuple[dict[str, dict[str, float]], int, datetime | None]:
        """Per step: outcomes recorded since `since` and the time they took; how many files
        those outcomes were of; and when the first of them was recorded (processing that
        began a few seconds ago is measured over those seconds, not the whole window). One
        statement: the files' count is an uncorrelated subquery (computed once), and with no
        recent outcome there is no row and no file.

        Grouped by `step || ''`, not `step`: SQLite would walk the (step, status) index for
        its order, i.e. every outcome of the library, instead of the recent ones through
        the updated_at index (0.4 s a refresh at 200,000 assets)."""
        step = AssetStep.step.concat("")
        recent = AssetStep.updated_at >= since
        files = (
            select(func.count(func.distinct(AssetStep.asset_id))).where(recent).scalar_subquery()
        )
        stmt = (
            select(
                step,
                func.count(),
                func.sum(AssetStep.duration_ms),
                files,
                func.min(AssetStep.updated_at),
            )
            .where(recent)
            .group_by(step)
        )
        rows = self.session.execute(stmt).all()
        per_step = {
            str(name): {"count": int(n), "busy_ms": float(ms or 0.0)} for name, n, ms, _, _ in rows
        }
        first = min((row[4] for row in rows if row[4] is not None), default=None)
        return per_step, int(rows[0][3] or 0) if rows else 0, first

    def status_of(self, asset_ids: Sequence[str]) -> dict[str, int]:
        stmt = (
            select(Asset.status, func.count()).where(Asset.id.in_(asset_ids)).group_by(Asset.status)
        )
        return {str(s): int(n) for s, n in self.session.execute(stmt)}

    def step_counts_of(self, asset_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        stmt = (
            select(AssetStep.step, AssetStep.status, func.count())
            .where(AssetStep.asset_id.in_(asset_ids))
            .group_by(AssetStep.step, AssetStep.status)
        )
        return {(str(a), str(b)): int(n) for a, b, n in self.session.execute(stmt)}

    # --- reprocess -------------------------------------------------------------------------

    def stale_step_ids(self, step: str, *, version: int, force: bool) -> list[str]:
        """Assets whose outcome for `step` is missing, failed, or from another version (all
        of them with `force`): the ones `trove reprocess --step` sends back."""
        has_current = exists().where(
            AssetStep.asset_id == Asset.id,
            AssetStep.step == step,
            AssetStep.version == version,
            AssetStep.status.in_(("ok", "skipped")),
        )
        where = [
            Asset.deleted_at.is_(None),
            Asset.status.in_((AssetStatus.READY, AssetStatus.ERROR, AssetStatus.PROCESSING)),
            Asset.asset_type != "collection",
            Asset.is_virtual.is_(False),
        ]
        if not force:
            where.append(not_(has_current))
        return list(self.session.scalars(select(Asset.id).where(*where)))

    def forget_step(self, asset_ids: Sequence[str], step: str) -> None:
        if asset_ids:
            self.session.execute(
                delete(AssetStep).where(AssetStep.asset_id.in_(asset_ids), AssetStep.step == step)
            )


@functools.cache
def _lease_counts() -> Select[Any]:
    """Leases per step and liveness (1 live, 0 not, NULL unknown) at the bound `now`: built
    once, as status asks every 2 s."""
    live = and_(PipelineLease.state == RUNNING, PipelineLease.expires_at >= bindparam("now"))
    leases = select(
        PipelineLease.step,
        case((live, 1), (not_(live), 0)).label("live"),
    ).subquery()
    return select(leases.c.step, leases.c.live, func.count()).group_by(leases.c.step, leases.c.live)
