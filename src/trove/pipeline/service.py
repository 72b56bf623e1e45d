"""PipelineService (seed 4.4): sends pending assets to the workers and reports progress.

Assets wait in `processing` until their pass is done; the database, not the broker, is the
record of what is left to do. So a restarted Trove finds its work again: every entry point
that drives the pipeline (`trove scan`, `serve`, `trove worker`) first re-sends the assets
still in `processing` that no live worker holds (a duplicate message is harmless: the claim
skips what is done or held), and while it waits it re-sends those whose worker's lease
lapsed (the worker died).

In-process (no broker URL) this process is the worker: batches go through TaskIQ's
InMemoryBroker into its thread pool, a few in flight at a time. With Redis, `trove worker`
processes anywhere do the work and this side only sends and (if asked) waits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trove.config import Settings
from trove.db.database import Database
from trove.domain.enums import AssetStatus, AssetType
from trove.pipeline.processor import MediaProcessor
from trove.pipeline.runner import PipelineRunner, view_of
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository
from trove.repositories.pipeline import PendingWork, PipelineRepository
from trove.repositories.statistics import STALE_ROWS, StatisticsKeeper
from trove.services.errors import Invalid

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from trove.pipeline.pool import LocalWorkers

PAGE = 5000
THROUGHPUT_WINDOW_S = 60
# A rate is measured over at least this long: the first outcomes of a run, a fraction of a
# second apart, are no rate yet.
MIN_WINDOW_S = 5.0
# A batch holds about this much estimated work (work_estimate: ≈ ms of one core): a few
# 12 MP photos, or as many small files as `pipeline_batch_size` allows.
BATCH_WORK = 800.0
# The smallest a batch gets toward the end of the work (a photo, or a hundred small files).
MIN_BATCH_WORK = BATCH_WORK / 8
# With a shared broker the number of worker processes is not known here: work is split in at
# least this many batches when there is little of it.
REMOTE_SHARES = 8
# How often a pipeline working beside a scan looks for what the scan has registered since,
# and, told when to look (`woken`), at least how often. Each look costs a few queries, and a
# scan whose new files get their light steps as it registers them (pipeline/light.py) may
# leave nothing to find for its whole run: looking every 0.1 s cost 0.7 s of a core in 11 s.
COMING_POLL_S = 0.1
WOKEN_POLL_S = 1.0
# How often a run waiting for its batches looks whether it was asked to stop.
STOP_POLL_S = 0.25


def work_estimate(work: PendingWork) -> float:
    """A rough cost of an asset's pass, in milliseconds of one core, from what the index
    knows before any step ran: a fixed part (claims, libmagic, records), reading and hashing
    its bytes, and decoding it for previews when it gets a picture (which grows with its
    size, up to a bound: previews are made from a reduced decode)."""
    megabytes = (work.size or 0) / 2**20
    cost = 1.0 + 2.0 * megabytes
    mime = work.mime_type or ""
    if (
        work.asset_type in (AssetType.IMAGE, AssetType.VIDEO)
        or mime.startswith(("image/", "video/"))
        or mime == "application/pdf"
    ):
        cost += 20.0 + min(25.0 * megabytes, 150.0)
    return cost


@dataclass
class PipelineSummary:
    assets: int = 0
    ready: int = 0
    errors: int = 0
    steps: dict[str, dict[str, int]] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def add(self, report: dict[str, Any]) -> None:
        self.assets += report.get("ready", 0) + report.get("errors", 0)
        self.ready += report.get("ready", 0)
        self.errors += report.get("errors", 0)
        for step, counts in report.get("steps", {}).items():
            per_step = self.steps.setdefault(step, {})
            for status, n in counts.items():
                per_step[status] = per_step.get(status, 0) + n

    def followed_by(self, later: PipelineSummary) -> PipelineSummary:
        """This run and a later one of the same work, as one (a processing job that made way
        for a scan, and went on after it)."""
        both = PipelineSummary(elapsed_s=round(self.elapsed_s + later.elapsed_s, 4))
        for part in (self, later):
            both.add({"ready": part.ready, "errors": part.errors, "steps": part.steps})
        return both

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


Progress = Callable[[PipelineSummary], None]


class PipelineService:
    def __init__(
        self, settings: Settings, database: Database, processors: list[MediaProcessor]
    ) -> None:
        self.settings = settings
        self.database = database
        self.processors = processors

    # --- driving ---------------------------------------------------------------------------

    def run_pending(
        self,
        *,
        progress: Progress | None = None,
        wait: bool = True,
        more_coming: Callable[[], bool] | None = None,
        woken: threading.Event | None = None,
        stopped: Callable[[], bool] | None = None,
        workers: LocalWorkers | None = None,
    ) -> PipelineSummary:
        """Process (in-process) or send (Redis) every asset waiting in `processing`.

        In-process this returns when nothing is left, and not before `more_coming()` says no
        more will be registered (a scan running beside it, which sets `woken` when there may
        be more to find); `stopped()` ends it early, once each batch in hand has stopped
        after its asset in hand. `workers`: worker processes shared with that scan.
        With Redis it returns once everything is sent, or with `wait` once the workers have
        finished it.
        """
        return asyncio.run(
            self._run_pending(
                progress=progress,
                wait=wait,
                more_coming=more_coming,
                woken=woken,
                stopped=stopped,
                workers=workers,
            )
        )

    def kick_pending(self, *, include_queued: bool = True) -> int:
        """Send every pending asset nobody holds to the broker; how many were sent."""

        async def kick() -> int:
            from trove.pipeline.tasks import make_broker

            broker = make_broker(self.settings)
            await broker.startup()
            try:
                return await self._kick(broker, include_queued=include_queued, sent=None)
            finally:
                await broker.shutdown()

        return asyncio.run(kick())

    def refresh_statistics(self) -> list[str]:
        """Re-analyze (PostgreSQL) the tables the pipeline grew since their last ANALYZE, so
        that plans follow a library growing from nothing (repositories/statistics.py)."""
        return StatisticsKeeper(self.database.url).tick(force=True)

    def reprocess(self, step: str, *, force: bool) -> int:
        """Send a step back to work where it is stale (never run, failed, older version) or,
        with `force`, everywhere it applies; the other steps of those assets are kept."""
        processor = next((p for p in self.processors if p.name == step), None)
        if processor is None:
            known = ", ".join(p.name for p in self.processors)
            raise Invalid(f"no step named {step!r}; steps: {known}")
        sent = 0
        with self.database.session() as session:
            pipeline = PipelineRepository(session)
            assets = AssetRepository(session)
            ids = pipeline.stale_step_ids(step, version=processor.version, force=force)
            for start in range(0, len(ids), PAGE):
                chunk = [
                    a.id
                    for a in assets.get_many(ids[start : start + PAGE])
                    if processor.applies_to(view_of(a, Path(a.rel_path or a.filename)))
                ]
                if force:
                    pipeline.forget_step(chunk, step)
                assets.set_status(chunk, AssetStatus.PROCESSING)
                sent += len(chunk)
        return sent

    async def _run_pending(
        self,
        *,
        progress: Progress | None,
        wait: bool,
        more_coming: Callable[[], bool] | None = None,
        woken: threading.Event | None = None,
        stopped: Callable[[], bool] | None = None,
        workers: LocalWorkers | None = None,
    ) -> PipelineSummary:
        from trove.pipeline.tasks import is_in_process, make_broker

        summary = PipelineSummary()
        started = time.perf_counter()
        broker = make_broker(self.settings)
        runner = None
        if is_in_process(broker):
            from trove.pipeline.pool import InProcessRunner

            runner = InProcessRunner(
                self.settings,
                self.database,
                PipelineRunner(self.settings, self.database, self.processors),
                workers=workers,
            )
            broker.state.runner = runner
        await broker.startup()
        try:
            if runner is not None:
                await self._work_in_process(
                    broker,
                    summary,
                    progress,
                    more_coming=more_coming,
                    woken=woken,
                    stopped=stopped,
                )
            else:
                # Only a caller that waits needs the ids sent (a million of them cost ~80 MB):
                # the server sends and forgets.
                sent: list[str] | None = [] if wait else None
                await self._kick(broker, include_queued=True, sent=sent)
                if sent is not None:
                    sent.extend(self._held_by_workers(excluding=set(sent)))
                    await self._wait_for_workers(broker, sent, summary, progress, stopped=stopped)
        finally:
            await broker.shutdown()
            if runner is not None:
                runner.close()
        summary.elapsed_s = round(time.perf_counter() - started, 4)
        return summary

    async def _work_in_process(
        self,
        broker: Any,
        summary: PipelineSummary,
        progress: Progress | None,
        *,
        more_coming: Callable[[], bool] | None = None,
        woken: threading.Event | None = None,
        stopped: Callable[[], bool] | None = None,
    ) -> None:
        """Keep a few batches in flight in the broker's thread pool until nothing is left
        (and nothing more is coming); then wait out leases of a process that died, and pick
        their assets up too. A batch is sent as soon as another ends: the pool never waits
        for the last batch of a page while there is more to do."""
        from trove.pipeline.tasks import batch_task, result_of

        task = batch_task(broker)
        in_flight: set[asyncio.Task[Any]] = set()
        window = max(1, self.settings.pipeline_threads) * 2
        # What this run sent is dated from now on; anything `queued` before it (the rest of
        # an earlier run that stopped or made way for a scan) is its work too, on every page.
        started = utcnow()
        statistics = StatisticsKeeper(self.database.url)
        runner = broker.state.runner
        while not _asked(stopped):
            statistics.tick()
            # Asked before the work: a lease lapsing (or a scan finishing) between the two
            # reads then shows up as work, instead of as "nothing more" with assets left.
            coming = more_coming is not None and more_coming()
            others_busy = self._someone_else_busy()
            work = self._kickable(include_queued=False, limit=PAGE, queued_before=started)
            if not work:
                if in_flight:  # look again when a batch ends, or for what a scan adds
                    done, in_flight = await _first_done(
                        in_flight, timeout=COMING_POLL_S if coming else None, stopped=stopped
                    )
                    self._collect(done, summary, progress)
                    continue
                if coming:
                    await _nap(woken)
                    continue
                if not others_busy:
                    break
                await asyncio.sleep(min(1.0, self.settings.pipeline_lease_seconds / 3))
                continue
            runner.see(self._pending)
            self._mark_queued([w.asset_id for w in work], redate_queued=True)
            for batch in self._batches(work, parallel=window):
                while len(in_flight) >= window and not _asked(stopped):
                    done, in_flight = await _first_done(in_flight, timeout=None, stopped=stopped)
                    self._collect(done, summary, progress)
                    runner.see(self._pending)  # a scan may be adding more
                if _asked(stopped):
                    break  # the page's other batches stay queued: the next run takes them
                sent = await task.kiq(batch)
                in_flight.add(asyncio.create_task(result_of(broker, sent)))
        if in_flight:  # stopped: the batches in hand end after their asset in hand
            runner.stop_soon()
            done, in_flight = await asyncio.wait(in_flight)
            self._collect(done, summary, progress)
        # A run shorter than the keeper's interval (a new library of a few hundred files)
        # would otherwise leave what it wrote unanalyzed until autovacuum's next round; one
        # of fewer assets than make a table stale has nothing to ask.
        if summary.assets > STALE_ROWS:
            statistics.tick(force=True)

    async def _kick(self, broker: Any, *, include_queued: bool, sent: list[str] | None) -> int:
        """Send what is pending, a page at a time; how many were sent (their ids appended to
        `sent` when given)."""
        from trove.pipeline.tasks import batch_task

        task = batch_task(broker)
        queued_before = None if include_queued else await self._messages_lost_before(broker)
        count = 0
        after = ""
        while work := self._kickable(
            include_queued=include_queued, limit=PAGE, after_id=after, queued_before=queued_before
        ):
            ids = [w.asset_id for w in work]
            after = ids[-1]
            for batch in self._batches(work, parallel=REMOTE_SHARES):
                self._mark_queued(batch)
                await task.kiq(batch)
            count += len(ids)
            if sent is not None:
                sent.extend(ids)
        return count

    async def _wait_for_workers(
        self,
        broker: Any,
        sent: list[str],
        summary: PipelineSummary,
        progress: Progress | None,
        *,
        stopped: Callable[[], bool] | None = None,
    ) -> None:
        """Poll the index until the assets sent are out of `processing`; meanwhile re-send
        those whose worker died. Waits for as long as it takes (start `trove worker`s), or
        until `stopped()`: the workers go on with what was sent."""
        pending = set(sent)
        last_sweep = time.monotonic()
        while pending and not _asked(stopped):
            await asyncio.sleep(0.25)
            pending = self._still_processing(pending)
            if progress:
                done = len(sent) - len(pending)
                summary.assets = done
                progress(summary)
            if time.monotonic() - last_sweep > self.settings.pipeline_lease_seconds / 2:
                last_sweep = time.monotonic()
                resent: list[str] = []
                await self._kick(broker, include_queued=False, sent=resent)
                pending |= set(resent)
        with self.database.session() as session:
            repo = PipelineRepository(session)
            statuses: dict[str, int] = {}
            steps: dict[tuple[str, str], int] = {}
            for start in range(0, len(sent), PAGE):
                chunk = sent[start : start + PAGE]
                for k, v in repo.status_of(chunk).items():
                    statuses[k] = statuses.get(k, 0) + v
                for k2, v in repo.step_counts_of(chunk).items():
                    steps[k2] = steps.get(k2, 0) + v
        summary.ready = statuses.get(AssetStatus.READY, 0)
        summary.errors = statuses.get(AssetStatus.ERROR, 0)
        summary.assets = len(set(sent))
        summary.steps = {}
        for (step, status), n in steps.items():
            summary.steps.setdefault(step, {})[status] = n

    # --- helpers ---------------------------------------------------------------------------

    def _batches(self, work: list[PendingWork], *, parallel: int) -> list[list[str]]:
        """Consecutive assets (registration order: a folder at a time) in batches of about
        BATCH_WORK of estimated work and at most `pipeline_batch_size` assets: hundreds of
        small files share a batch and its claims, reads and commits, a few photos do. When
        there is little to do, the batches are smaller so that every worker gets a share."""
        costs = [work_estimate(w) for w in work]
        remaining = sum(costs)
        limit = max(1, self.settings.pipeline_batch_size)
        batches: list[list[str]] = []
        batch: list[str] = []
        load = 0.0
        budget = min(BATCH_WORK, remaining / max(parallel, 1))
        for item, cost in zip(work, costs, strict=True):
            if batch and (len(batch) >= limit or load + cost > budget):
                batches.append(batch)
                batch, load = [], 0.0
                # Smaller toward the end (guided): the last batches finish together instead
                # of one worker finishing a big one alone (60 photos: a second of one core).
                budget = min(BATCH_WORK, max(remaining / (2 * max(parallel, 1)), MIN_BATCH_WORK))
            batch.append(item.asset_id)
            load += cost
            remaining -= cost
        if batch:
            batches.append(batch)
        return batches

    def _kickable(
        self,
        *,
        include_queued: bool,
        limit: int,
        after_id: str = "",
        queued_before: datetime | None = None,
    ) -> list[PendingWork]:
        with self.database.session() as session:
            return PipelineRepository(session).work_to_kick(
                now=utcnow(),
                limit=limit,
                after_id=after_id,
                include_queued=include_queued,
                queued_before=queued_before,
            )

    @staticmethod
    async def _messages_lost_before(broker: Any) -> datetime | None:
        """Now, if the broker has handed every message sent so far to a worker: an asset
        still `queued` since before then lost its message (a Redis that restarted empty, a
        send that failed while Redis was away, a worker killed between taking a message and
        claiming its assets), and no lease will ever lapse to send it again. None while
        messages wait (theirs may be among them) or when the broker cannot tell."""
        from trove.pipeline.tasks import undelivered

        now = utcnow()
        return now if await undelivered(broker) == 0 else None

    def _held_by_workers(self, *, excluding: set[str]) -> list[str]:
        """What workers are already on, sent before this caller's kick (by a worker's
        supervisor while the scan registered): waited for too, or a scan returns with those
        assets still in `processing`."""
        with self.database.session() as session:
            held = PipelineRepository(session).held_ids(now=utcnow())
        return [i for i in held if i not in excluding]

    def _mark_queued(self, ids: list[str], *, redate_queued: bool = False) -> None:
        with self.database.session() as session:
            PipelineRepository(session).mark_queued(ids, now=utcnow(), redate_queued=redate_queued)

    def _pending(self) -> int:
        with self.database.session() as session:
            return PipelineRepository(session).processing_count()

    def _someone_else_busy(self) -> bool:
        """Assets still `processing` under another process's live lease."""
        with self.database.session() as session:
            repo = PipelineRepository(session)
            return repo.processing_count() > 0 and bool(
                sum(repo.lease_counts(now=utcnow())["running_by_step"].values())
            )

    def _still_processing(self, ids: set[str]) -> set[str]:
        still: set[str] = set()
        ordered = sorted(ids)
        with self.database.session() as session:
            repo = AssetRepository(session)
            for start in range(0, len(ordered), PAGE):
                chunk = ordered[start : start + PAGE]
                still |= {a.id for a in repo.get_many(chunk) if a.status == AssetStatus.PROCESSING}
        return still

    @staticmethod
    def _collect(
        done: set[asyncio.Task[Any]], summary: PipelineSummary, progress: Progress | None
    ) -> None:
        for finished in done:
            result = finished.result()
            if result.is_err:
                raise RuntimeError(f"pipeline task failed: {result.error}")
            summary.add(result.return_value)
        if progress:
            progress(summary)

    # --- progress --------------------------------------------------------------------------

    def jobs(self) -> dict[str, Any]:
        """Per step: queued / running / done / failed (and skipped), and recent throughput."""
        with self.database.session() as session:
            return self.jobs_in(session)

    def jobs_in(self, session: Session) -> dict[str, Any]:
        """`jobs`, read in the caller's session (status reads it with the library's counts,
        whose counters it shares)."""
        now = utcnow()
        since = now - timedelta(seconds=THROUGHPUT_WINDOW_S)
        versions = {p.name: p.version for p in self.processors}
        from trove.repositories.steps import StepRepository

        repo = PipelineRepository(session)
        leases = repo.lease_counts(now=now)
        processing = repo.processing_count()
        current = repo.current_outcomes_of_processing(versions)
        outcomes = StepRepository(session).counts()
        recent, touched, first = repo.recent_throughput(since=since)
        window_s = _measured_window_s(now, first)
        running = leases["running_by_step"]
        steps = {}
        for name in versions:
            counts = {status: n for (step, status), n in outcomes.items() if step == name}
            busy = recent.get(name, {"count": 0, "busy_ms": 0.0})
            steps[name] = {
                "queued": max(0, processing - current.get(name, 0) - running.get(name, 0)),
                "running": running.get(name, 0),
                "done": counts.get("ok", 0),
                "skipped": counts.get("skipped", 0),
                "failed": counts.get("failed", 0),
                "per_minute": busy["count"] * 60 / window_s,
                "avg_ms": round(busy["busy_ms"] / busy["count"], 1) if busy["count"] else None,
            }
        return {
            "broker": "redis" if self.settings.broker_url else "in-process",
            "processing": processing,
            "queued": leases["queued"],
            "running": sum(running.values()),
            "assets_per_s": round(touched / window_s, 3),
            "window_s": round(window_s),
            "steps": steps,
        }


async def _first_done(
    in_flight: set[asyncio.Task[Any]], *, timeout: float | None, stopped: Callable[[], bool] | None
) -> tuple[set[asyncio.Task[Any]], set[asyncio.Task[Any]]]:
    """`asyncio.wait(in_flight, timeout, FIRST_COMPLETED)`, cut short when the run is asked to
    stop: its batches in hand are then told at once (PipelineRunner.stop_soon), not when one
    of them ends on its own."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while True:
        left = STOP_POLL_S if deadline is None else min(STOP_POLL_S, deadline - loop.time())
        done, pending = await asyncio.wait(
            in_flight, timeout=max(0.0, left), return_when=asyncio.FIRST_COMPLETED
        )
        if done or _asked(stopped) or (deadline is not None and loop.time() >= deadline):
            return done, pending


def _asked(stopped: Callable[[], bool] | None) -> bool:
    return stopped is not None and stopped()


async def _nap(woken: threading.Event | None) -> None:
    """Until the scan beside says there may be more (`woken`), or the time to look anyway."""
    if woken is None:
        await asyncio.sleep(COMING_POLL_S)
    elif await asyncio.to_thread(woken.wait, WOKEN_POLL_S):
        woken.clear()


def _measured_window_s(now: datetime, first: datetime | None) -> float:
    """The seconds the recent outcomes were made in: the window, or less when processing
    began inside it. Divided by the whole window, ten seconds of work just begun read as a
    sixth of its rate ("about 98 h left" on the Libraries page for a job of seconds)."""
    if first is None:
        return float(THROUGHPUT_WINDOW_S)
    return min(float(THROUGHPUT_WINDOW_S), max(MIN_WINDOW_S, (now - first).total_seconds()))
