"""PipelineRunner: what a worker does with one batch of asset ids (the body of the task).

1. Claim the batch: a lease per asset (pipeline_leases), so no two workers process the same
   asset at once; leases are renewed by a heartbeat thread while the worker lives.
2. Run the steps in pipeline order over the whole batch, each step through its batch form
   when it has one (ExifTool: one request for the batch). A step that applies to none of the
   batch's assets costs nothing, not even a statement. Outcomes are written in bulk (one
   upsert of step records, one UPDATE per shape of change) and committed together: a slow
   step (over COMMIT_EVERY_S for the batch, as measured in this process) on its own as soon
   as it is done, cheap ones with the next commit. So a worker killed mid-batch repeats at
   most the step it was in and about a second of cheap work; on the next pass, steps already
   done at their version are skipped.
3. Finish: status `ready` (or `error` when a required step failed), lease released, in the
   same transaction as the last outcomes.

An asset whose lease lapsed (its worker died) is sent again by a supervisor (PipelineService)
and claimed by another worker; one that was claimed MAX_ATTEMPTS times without finishing is
put in `error` instead of killing worker after worker.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.domain.enums import AssetStatus, StepStatus
from trove.domain.ids import new_lease_owner
from trove.pipeline.processor import (
    AssetView,
    BatchMediaProcessor,
    MediaProcessor,
    StepResult,
    WarmableProcessor,
    close_processors,
    view_after,
)
from trove.pipeline.recording import AssetChanges, StepRun, finish, record_step
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository
from trove.repositories.pipeline import PipelineRepository
from trove.repositories.roots import RootRepository
from trove.repositories.steps import StepRepository
from trove.storage.originals import OriginalUnavailable, Resolver

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# Outcomes are committed at least this often, and a step expected to take longer for its batch
# is committed on its own (its name shown on the leases while it runs): a killed worker repeats
# at most about this much finished work besides the step it was in.
COMMIT_EVERY_S = 1.0


class PipelineRunner:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        processors: list[MediaProcessor],
        *,
        owner: str | None = None,
    ) -> None:
        """`owner`: the name this runner's leases carry (by default, a new one)."""
        self.settings = settings
        self.database = database
        self.processors = processors
        self.owner = owner or new_lease_owner()
        self._heartbeat = _Heartbeat(self)
        self._stopping = threading.Event()
        # Seconds per asset of each step in this process (moving average): which steps are
        # slow enough to be committed on their own.
        self._seconds_per_asset: dict[str, float] = {}
        self._warmable = [p for p in processors if isinstance(p, WarmableProcessor)]
        self._warmer = ThreadPoolExecutor(1, thread_name_prefix="trove-warm")

    def run_batch(self, asset_ids: list[str]) -> dict[str, Any]:
        """Process the assets of `asset_ids` that are still pending; counts for progress."""
        token = str(uuid.uuid4())
        ttl = self.settings.pipeline_lease_seconds
        with self.database.session() as session:
            claimed = PipelineRepository(session).claim(
                asset_ids, owner=self.owner, token=token, now=utcnow(), ttl=ttl
            )
        report = _Report(requested=len(asset_ids), claimed=len(claimed))
        if not claimed:
            return report.as_dict()
        self._heartbeat.hold()
        try:
            self._run_claimed(claimed, token=token, report=report)
        finally:
            self._heartbeat.release()
        return report.as_dict()

    def stop_soon(self) -> None:
        """Stop the batch in hand after the asset in hand: what is done is kept, and the rest
        of the batch is handed back for another worker (or this one's successor) to finish.
        Called from a signal handler: a SIGTERM must not wait for a batch of transcodes, which
        outlasts systemd's stop timeout and ends in a SIGKILL that loses the batch's work."""
        self._stopping.set()

    def close(self) -> None:
        self._heartbeat.stop()
        self._warmer.shutdown(wait=True, cancel_futures=True)
        close_processors(self.processors)

    def _run_claimed(self, claimed: dict[str, int], *, token: str, report: _Report) -> None:
        given_up = {i: n for i, n in claimed.items() if n > MAX_ATTEMPTS}
        views, previous, unreadable = self._load([i for i in claimed if i not in given_up])
        self._warm_ahead(views)
        failed: dict[str, dict[str, str]] = {asset_id: {} for asset_id in views}
        unsaved = _Unsaved()
        for processor in self.processors:
            todo = [
                v
                for v in views.values()
                if processor.applies_to(v) and not _is_current(previous[v.id], processor)
            ]
            if not todo:
                continue  # a step with nothing to do for these types costs no statement
            slow = self._expected_s(processor, len(todo)) >= COMMIT_EVERY_S
            if slow or unsaved.age_s() >= COMMIT_EVERY_S:
                self._save(unsaved, token=token, now_running=processor.name)
            started = time.monotonic()
            runs = self._run_step(processor, todo, failed)
            self._learn(processor, len(todo), time.monotonic() - started)
            unsaved.add(processor, runs)
            for run in runs:
                report.count(processor.name, run.result.status)
                views[run.asset_id] = view_after(views[run.asset_id], run.result)
            self._warm_ahead(views)
            if self._stopping.is_set():  # this step may have been cut: no final status
                self._hand_back(unsaved, token=token, report=report)
                return
            if time.monotonic() - started >= COMMIT_EVERY_S:
                self._save(unsaved, token=token)  # costly work is kept at once
        outcomes = {asset_id: self._final(failed[asset_id]) for asset_id in views}
        outcomes.update({i: (AssetStatus.ERROR, reason) for i, reason in unreadable.items()})
        outcomes.update(
            {
                i: (AssetStatus.ERROR, f"processing stopped its worker {n - 1} times; given up")
                for i, n in given_up.items()
            }
        )
        with self.database.session() as session:
            held = AssetChanges()
            self._record(session, unsaved, held)
            finish(session, outcomes, changes=held)
            PipelineRepository(session).release(list(outcomes), token=token)
        for status, _ in outcomes.values():
            report.assets[status] += 1

    def _warm_ahead(self, views: dict[str, AssetView]) -> None:
        """What a later step of the batch will load at its first asset (the places index: half
        a second, which held both pipeline threads at a run's first photos) is loaded in the
        background while the steps before it run. Offered again after each step, as the
        assets are then: the places index is wanted once the metadata step has read a
        position, and a run of pictures without one never loads it."""
        for processor in self._warmable:
            self._warmer.submit(_warm, processor, list(views.values()))

    def _run_step(
        self,
        processor: MediaProcessor,
        todo: list[AssetView],
        failed: dict[str, dict[str, str]],
    ) -> list[StepRun]:
        runs: list[StepRun] = []
        ready: list[AssetView] = []
        for view in todo:
            missing = [name for name in processor.requires if name in failed[view.id]]
            if missing:
                result = StepResult.skipped(f"needs {', '.join(missing)}, which failed")
                runs.append(StepRun(view.id, result, 0.0))
            else:
                ready.append(view)
        runs.extend(_execute(processor, ready, stopping=self._stopping))
        for run in runs:
            if run.result.status == StepStatus.FAILED:
                failed[run.asset_id][processor.name] = run.result.message or "failed"
        return runs

    def _hand_back(self, unsaved: _Unsaved, *, token: str, report: _Report) -> None:
        """Keep the outcomes so far and give the batch's leases back, in one transaction: its
        assets stay `processing`, and the next claim skips the steps already done."""
        with self.database.session() as session:
            self._record(session, unsaved, None)
            report.handed_back = PipelineRepository(session).hand_back(token=token)
        unsaved.clear()
        log.info("stopping: handed back %d assets of the batch in hand", report.handed_back)

    def _save(self, unsaved: _Unsaved, *, token: str, now_running: str | None = None) -> None:
        """Commit the outcomes not yet saved, and (before a slow step) show that step on the
        batch's leases, in one transaction."""
        if not unsaved.steps and now_running is None:
            return
        with self.database.session() as session:
            self._record(session, unsaved, None)
            if now_running is not None:
                PipelineRepository(session).set_step(token=token, step=now_running)
        unsaved.clear()

    def _record(self, session: Any, unsaved: _Unsaved, changes: AssetChanges | None) -> None:
        """The outcomes not saved yet; their changes to the assets kept in `changes` when
        given (written with the batch's final status), else written at once."""
        for processor, runs in unsaved.steps:
            record_step(
                session,
                step=processor.name,
                version=processor.version,
                runs=runs,
                settings=self.settings,
                changes=changes,
            )

    def _expected_s(self, processor: MediaProcessor, count: int) -> float:
        """How long this step should take for `count` assets, from what it took so far in
        this process; a step not seen yet counts as slow (shown and committed around)."""
        per_asset = self._seconds_per_asset.get(processor.name)
        return COMMIT_EVERY_S if per_asset is None else per_asset * count

    def _learn(self, processor: MediaProcessor, count: int, seconds: float) -> None:
        per_asset = seconds / max(count, 1)
        known = self._seconds_per_asset.get(processor.name)
        self._seconds_per_asset[processor.name] = (
            per_asset if known is None else 0.7 * known + 0.3 * per_asset
        )

    def _final(self, failures: dict[str, str]) -> tuple[str, str | None]:
        required = [
            f"{p.name}: {failures[p.name]}"
            for p in self.processors
            if p.required and p.name in failures
        ]
        if required:
            return AssetStatus.ERROR, "; ".join(required)[:2000]
        return AssetStatus.READY, None

    def _load(
        self, ids: list[str]
    ) -> tuple[dict[str, AssetView], dict[str, dict[str, tuple[str, int]]], dict[str, str]]:
        views: dict[str, AssetView] = {}
        previous: dict[str, dict[str, tuple[str, int]]] = {}
        unreadable: dict[str, str] = {}
        if not ids:
            return views, previous, unreadable
        with self.database.session() as session:
            roots = {root.id: root.path for root in RootRepository(session).all()}
            resolve = Resolver()
            done = StepRepository(session).outcomes_for(ids)
            for asset in AssetRepository(session).for_pipeline(ids):
                if asset.is_virtual and asset.root_id is None:  # an album: it has no file
                    views[asset.id] = view_of(asset, Path(asset.storage_urn))
                else:
                    root_path = roots.get(asset.root_id or "")
                    try:
                        if root_path is None or asset.rel_path is None:
                            raise OriginalUnavailable("the asset has no file in a library root")
                        path = resolve(root_path, asset.rel_path, escaped=asset.path_escaped)
                    except OriginalUnavailable:
                        unreadable[asset.id] = "file is outside its library root"
                        continue
                    views[asset.id] = view_of(asset, path)
                previous[asset.id] = done.get(asset.id, {})
        return views, previous, unreadable


def view_of(asset: Any, path: Any) -> AssetView:
    """An asset row as processors see it."""
    return AssetView(
        id=asset.id,
        path=path,
        size=asset.size,
        mtime_ns=asset.mtime_ns,
        mime_type=asset.mime_type,
        asset_type=asset.asset_type,
        hash=asset.hash,
        filename=asset.filename,
        is_virtual=asset.is_virtual,
        width=asset.width,
        height=asset.height,
        duration=asset.duration,
        timeline_source=asset.timeline_source,
        title=asset.title,
        description=asset.description,
        meta=dict(asset.meta or {}),
    )


def _execute(
    processor: MediaProcessor, views: list[AssetView], *, stopping: threading.Event
) -> list[StepRun]:
    """Results of one step for these assets (fewer once `stopping` is set: those it ran);
    a processor's exception fails only its step."""
    if not views:
        return []
    if isinstance(processor, BatchMediaProcessor) and len(views) > 1:
        started = time.perf_counter()
        try:
            results = processor.process_batch(views)
        except Exception as exc:
            results = {v.id: StepResult.failed(_crash(exc)) for v in views}
        share = (time.perf_counter() - started) * 1000 / len(views)
        return [
            StepRun(v.id, results.get(v.id) or StepResult.failed("no result"), share) for v in views
        ]
    runs = []
    for view in views:
        if stopping.is_set():
            break
        started = time.perf_counter()
        try:
            result = processor.process(view)
        except Exception as exc:  # a plugin's bug must not take the pipeline down
            result = StepResult.failed(_crash(exc))
        runs.append(StepRun(view.id, result, (time.perf_counter() - started) * 1000))
    return runs


def _crash(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _is_current(previous: dict[str, tuple[str, int]], processor: MediaProcessor) -> bool:
    status, version = previous.get(processor.name, ("", -1))
    return version == processor.version and status in (StepStatus.OK, StepStatus.SKIPPED)


class _Unsaved:
    """Outcomes of steps that ran but are not committed yet (cheap ones ride together)."""

    def __init__(self) -> None:
        self.steps: list[tuple[MediaProcessor, list[StepRun]]] = []
        self.since = time.monotonic()

    def add(self, processor: MediaProcessor, runs: list[StepRun]) -> None:
        if not self.steps:
            self.since = time.monotonic()
        self.steps.append((processor, runs))

    def age_s(self) -> float:
        return time.monotonic() - self.since if self.steps else 0.0

    def clear(self) -> None:
        self.steps = []


@dataclasses.dataclass
class _Report:
    requested: int
    claimed: int
    assets: Counter[str] = dataclasses.field(default_factory=Counter)
    steps: dict[str, Counter[str]] = dataclasses.field(default_factory=dict)
    handed_back: int = 0

    def count(self, step: str, status: str) -> None:
        self.steps.setdefault(step, Counter())[str(status)] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "claimed": self.claimed,
            "ready": self.assets[AssetStatus.READY],
            "errors": self.assets[AssetStatus.ERROR],
            "handed_back": self.handed_back,
            "steps": {step: dict(counts) for step, counts in self.steps.items()},
        }


class _Heartbeat:
    """Renews this worker's leases every third of their lifetime while a batch runs."""

    def __init__(self, runner: PipelineRunner) -> None:
        self.runner = runner
        self._active = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def hold(self) -> None:
        with self._lock:
            self._active += 1
            if self._thread is None or not self._thread.is_alive():
                self._stopped = False
                self._thread = threading.Thread(target=self._run, name="trove-lease", daemon=True)
                self._thread.start()

    def release(self) -> None:
        with self._lock:
            self._active -= 1

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def _run(self) -> None:
        interval = max(self.runner.settings.pipeline_lease_seconds / 3, 0.2)
        while not self._wake.wait(interval):
            if self._stopped:
                return
            with self._lock:
                if self._active <= 0:
                    continue
            try:
                with self.runner.database.session() as session:
                    PipelineRepository(session).renew(
                        owner=self.runner.owner,
                        now=utcnow(),
                        ttl=self.runner.settings.pipeline_lease_seconds,
                    )
            except Exception:  # the database may be briefly away; try again next beat
                log.warning("could not renew pipeline leases", exc_info=True)


def _warm(processor: WarmableProcessor, views: list[AssetView]) -> None:
    try:
        processor.warm(views)
    except Exception:  # the step fails its own way when it runs
        log.debug("warming %s failed", getattr(processor, "name", processor), exc_info=True)
