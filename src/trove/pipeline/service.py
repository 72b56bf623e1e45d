"""PipelineService (seed 4.4): runs the registered processors over assets that need them.

Each step's outcome is stored per asset, so a step already done at its current version is not
run again, a failed step does not lose the others, and an interrupted run resumes where it was.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from trove.config import Settings
from trove.db.database import Database
from trove.domain.enums import AssetStatus, StepStatus
from trove.pipeline.processor import AssetView, MediaProcessor, StepResult
from trove.repositories._sql import utcnow
from trove.repositories.assets import AssetRepository
from trove.repositories.roots import RootRepository
from trove.repositories.steps import StepRepository
from trove.storage.originals import OriginalUnavailable, resolve

_VIEW_FIELDS = {f.name for f in dataclasses.fields(AssetView)}


@dataclass
class PipelineSummary:
    assets: int = 0
    ready: int = 0
    errors: int = 0
    steps: dict[str, dict[str, int]] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def count(self, step: str, status: str) -> None:
        per_step = self.steps.setdefault(step, {})
        per_step[status] = per_step.get(status, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class _Outcome:
    asset_id: str
    steps: list[tuple[str, int, StepResult, float]]
    updates: dict[str, Any]
    status: str
    error_message: str | None


Progress = Callable[[PipelineSummary], None]


class PipelineService:
    def __init__(
        self, settings: Settings, database: Database, processors: list[MediaProcessor]
    ) -> None:
        self.settings = settings
        self.database = database
        self.processors = processors

    def run_pending(
        self, *, progress: Progress | None = None, batch_size: int = 256
    ) -> PipelineSummary:
        """Process every asset waiting in `processing`, batch by batch, until none is left."""
        summary = PipelineSummary()
        started = time.perf_counter()
        after_id = ""
        with ThreadPoolExecutor(max_workers=max(1, self.settings.hash_workers)) as pool:
            while True:
                with self.database.session() as session:
                    ids = AssetRepository(session).ids_with_status(
                        AssetStatus.PROCESSING, limit=batch_size, after_id=after_id
                    )
                if not ids:
                    break
                after_id = ids[-1]
                work = self._load(ids)
                outcomes = list(pool.map(lambda item: self._process(*item), work))
                self._record(outcomes, summary)
                if progress:
                    progress(summary)
        summary.elapsed_s = round(time.perf_counter() - started, 4)
        return summary

    def _load(self, ids: list[str]) -> list[tuple[AssetView | str, dict[str, tuple[str, int]]]]:
        with self.database.session() as session:
            roots = {root.id: root.path for root in RootRepository(session).all()}
            assets = AssetRepository(session).get_many(ids)
            done = StepRepository(session).outcomes_for(ids)
            work: list[tuple[AssetView | str, dict[str, tuple[str, int]]]] = []
            for asset in assets:
                previous = {s: (o.status, o.version) for s, o in done.get(asset.id, {}).items()}
                work.append((self._view(asset, roots), previous))
        return work

    def _view(self, asset: Any, roots: dict[str, str]) -> AssetView | str:
        """The asset as processors see it, or the id alone when its file cannot be located."""
        try:
            path = resolve(roots[asset.root_id], asset.rel_path, escaped=asset.path_escaped)
        except (KeyError, TypeError, OriginalUnavailable):
            return asset.id
        return AssetView(
            id=asset.id,
            path=path,
            size=asset.size,
            mtime_ns=asset.mtime_ns,
            mime_type=asset.mime_type,
            asset_type=asset.asset_type,
            hash=asset.hash,
        )

    def _process(self, view: AssetView | str, previous: dict[str, tuple[str, int]]) -> _Outcome:
        if isinstance(view, str):
            return _Outcome(view, [], {}, AssetStatus.ERROR, "file is outside its library root")
        steps: list[tuple[str, int, StepResult, float]] = []
        updates: dict[str, Any] = {}
        failed: dict[str, str] = {}
        for processor in self.processors:
            if not processor.applies_to(view) or _is_current(previous, processor):
                continue
            result, elapsed = self._run_step(processor, view, failed)
            steps.append((processor.name, processor.version, result, elapsed))
            if result.status is StepStatus.FAILED:
                failed[processor.name] = result.message or "failed"
            updates.update(result.updates)
            view = dataclasses.replace(
                view, **{k: v for k, v in result.updates.items() if k in _VIEW_FIELDS}
            )
        required_failures = [
            f"{p.name}: {failed[p.name]}"
            for p in self.processors
            if p.required and p.name in failed
        ]
        if required_failures:
            return _Outcome(
                view.id, steps, updates, AssetStatus.ERROR, "; ".join(required_failures)
            )
        return _Outcome(view.id, steps, updates, AssetStatus.READY, None)

    @staticmethod
    def _run_step(
        processor: MediaProcessor, view: AssetView, failed: dict[str, str]
    ) -> tuple[StepResult, float]:
        missing = [name for name in processor.requires if name in failed]
        if missing:
            return StepResult.skipped(f"needs {', '.join(missing)}, which failed"), 0.0
        started = time.perf_counter()
        try:
            result = processor.process(view)
        except Exception as exc:  # a plugin's bug must not take the pipeline down
            result = StepResult.failed(f"{type(exc).__name__}: {exc}")
        return result, (time.perf_counter() - started) * 1000

    def _record(self, outcomes: list[_Outcome], summary: PipelineSummary) -> None:
        now = utcnow()
        step_rows: list[dict[str, Any]] = []
        asset_rows: list[dict[str, Any]] = []
        for outcome in outcomes:
            summary.assets += 1
            if outcome.status == AssetStatus.READY:
                summary.ready += 1
            else:
                summary.errors += 1
            for name, version, result, elapsed in outcome.steps:
                summary.count(name, result.status)
                step_rows.append(
                    {
                        "asset_id": outcome.asset_id,
                        "step": name,
                        "status": result.status,
                        "version": version,
                        "message": result.message,
                        "duration_ms": round(elapsed, 3),
                        "updated_at": now,
                    }
                )
            asset_rows.append(
                {
                    "id": outcome.asset_id,
                    "status": outcome.status,
                    "error_message": outcome.error_message,
                    "updated_at": now,
                    **outcome.updates,
                }
            )
        with self.database.session() as session:
            StepRepository(session).record(step_rows)
            AssetRepository(session).update_many(asset_rows)


def _is_current(previous: dict[str, tuple[str, int]], processor: MediaProcessor) -> bool:
    status, version = previous.get(processor.name, ("", -1))
    return version == processor.version and status in (StepStatus.OK, StepStatus.SKIPPED)
