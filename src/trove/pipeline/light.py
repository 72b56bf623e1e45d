"""The light steps of a new file, done while the scan registers it (in-process runs only).

A small file's whole pass is often only light steps (libmagic, SHA-256, the document rules
of a text file): the file's bytes, no database. Done by the pipeline, each such file was
written twice (registered, then claimed, loaded, updated and released), and that bookkeeping
cost as much as the steps. Here the scan hands new files to the run's worker processes,
which run the light steps at the head of the file's pass, and registers each file with their
outcomes: `ready` when no step is left, else `processing` with those steps done (the pipeline
skips steps already current). Nothing about the result differs from the pipeline's:
the same processors run in the same order, their outcomes are recorded the same way.

A processor is light when it says so (`light = True`: it reads only files on disk, needs no
database and returns only core fields and metadata). A file leaves the lane whole, as if it
never entered it, when a step failed or returned what only the pipeline records (found
regions, derivatives, links to siblings), or when its worker process died: it is registered
for the pipeline, which does it again with its own failure handling.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from trove.domain.enums import AssetStatus, StepStatus
from trove.pipeline.processor import AssetView, MediaProcessor, StepResult, view_after
from trove.storage.originals import Resolver

if TYPE_CHECKING:
    from trove.pipeline.pool import LocalWorkers

log = logging.getLogger(__name__)

# New files the lane holds before it starts the worker processes: a scan of fewer (or a test)
# costs none, and its files go to the pipeline once the walk ends; past it, their start-up
# (~1 s of a core each) pays, and the files held go first. (Written at once instead, those
# files cost the pipeline twice what the lane costs: of 20,000 text files, the first 1,000
# took 8 % of the workers' time.)
OPEN_AFTER_FILES = 1_000
# New files after which the workers' fork server is started, in the background, so that it has
# imported what they run when they start: its ~0.3 s of a core then overlaps the scan's walk
# instead of holding up the first batches.
WARM_AFTER_FILES = 100
# Files larger than this go to the pipeline: its batches and commits suit long steps.
MAX_BYTES = 4 * 2**20
# Files a worker takes at once, and batches sent ahead of the scan per worker: enough to keep
# the workers busy while the scan writes a batch of `scan_batch_size` rows (2 ahead per worker
# left them waiting: 20,000 text files took 7 % longer).
BATCH = 200
AHEAD_PER_WORKER = 8


@dataclasses.dataclass(frozen=True)
class LightItem:
    """What a worker needs of a registered row to run its light steps."""

    asset_id: str
    root_path: str
    rel_path: str
    escaped: bool
    size: int | None
    mtime_ns: int | None
    mime_type: str | None
    asset_type: str
    filename: str
    timeline_source: str | None


# What a worker sends back for each file, as plain tuples: a batch of outcomes is pickled in
# the worker and unpickled in the scan, and dataclasses took 5x as long both ways (~0.2 s of
# CPU over 20,000 text files). A step done: (step, version, status, message, core field
# updates, metadata namespaces, elapsed ms). A file's outcome: (its steps done, in pipeline
# order; whether no step is left for the pipeline, so that it is registered `ready`).
StepDone = tuple[str, int, str, str | None, dict[str, Any], dict[str, Any], float]
LightOutcome = tuple[tuple[StepDone, ...], bool]


def is_light(processor: MediaProcessor) -> bool:
    return bool(getattr(processor, "light", False))


def light_pass(
    processors: list[MediaProcessor], items: list[LightItem]
) -> list[LightOutcome | None]:
    """Each item's light steps (in a worker process): None for a file the lane gives back."""
    resolve = Resolver()
    outcomes: list[LightOutcome | None] = []
    for item in items:
        try:
            path = resolve(item.root_path, item.rel_path, escaped=item.escaped)
            outcomes.append(_pass_of(processors, _view(item, path)))
        except Exception:  # unreachable, or a plugin's applies_to failing: the pipeline says why
            outcomes.append(None)
    return outcomes


def _pass_of(processors: list[MediaProcessor], view: AssetView) -> LightOutcome | None:
    """The light steps at the head of the file's pass, as the runner would run them: in
    pipeline order, each seeing what the earlier ones changed. The first step that applies and
    is not light ends the lane's part (the pipeline does the rest, in order)."""
    done: list[StepDone] = []
    for processor in processors:
        if not processor.applies_to(view):
            continue
        if not is_light(processor):
            return tuple(done), False
        started = time.perf_counter()
        try:
            result = processor.process(view)
        except Exception:  # the pipeline runs it again and records the failure its way
            return None
        elapsed_ms = (time.perf_counter() - started) * 1000
        if not _recordable(result):
            return None
        done.append(_step_done(processor, result, elapsed_ms))
        view = view_after(view, result)
    return tuple(done), True


def _step_done(processor: MediaProcessor, result: StepResult, elapsed_ms: float) -> StepDone:
    return (
        processor.name,
        processor.version,
        result.status.value,
        result.message,
        result.updates,
        result.metadata,
        elapsed_ms,
    )


def _recordable(result: StepResult) -> bool:
    """A result the scan writes as the pipeline would: a success or a skip, with core fields
    and metadata only."""
    return (
        result.status in (StepStatus.OK, StepStatus.SKIPPED)
        and result.found is None
        and not result.derivatives
        and not result.siblings
    )


def _view(item: LightItem, path: Any) -> AssetView:
    return AssetView(
        id=item.asset_id,
        path=path,
        size=item.size,
        mtime_ns=item.mtime_ns,
        mime_type=item.mime_type,
        asset_type=item.asset_type,
        hash=None,
        filename=item.filename,
        timeline_source=item.timeline_source,
    )


def apply_outcome(row: dict[str, Any], outcome: LightOutcome) -> None:
    """A registered row as the light steps left it (before it is written)."""
    steps, finished = outcome
    for _step, _version, _status, _message, updates, metadata, _elapsed_ms in steps:
        row.update(updates)
        if metadata:
            row["meta"] = {**row["meta"], **metadata}
    row["status"] = AssetStatus.READY if finished else AssetStatus.PROCESSING


class LightLane:
    """New files of a scan on their way through the workers' light steps, in registration
    order. The scan offers each new file (`take`); what the workers finished comes back from
    `finished()`, to be written with its outcomes."""

    def __init__(self, workers: LocalWorkers, *, root_path: str) -> None:
        self.workers = workers
        self.root_path = root_path
        self._threads = ThreadPoolExecutor(workers.processes, thread_name_prefix="trove-light")
        self._gathering: list[tuple[str, dict[str, Any]]] = []
        self._sent: collections.deque[
            tuple[list[tuple[str, dict[str, Any]]], Future[list[LightOutcome | None]]]
        ] = collections.deque()
        self._closed = False
        # The workers took files: from now on, what is gathered goes in batches.
        self._open = False
        # Files held and then left to the pipeline (the workers never opened).
        self._given_back: list[tuple[str, dict[str, Any]]] = []

    def take(self, rel_path: str, row: dict[str, Any]) -> bool:
        """Whether the lane takes this newly registered file (its row is then written when
        `finished` gives it back, with its outcome, or with None for the pipeline to do)."""
        if self._closed or not _fits(row):
            return False
        if not self._open and not self.workers.may_open_for_light():
            self._give_back_gathered()  # no worker will take them: nothing is held
            return False
        self._gathering.append((rel_path, row))
        if not self._open:
            if len(self._gathering) == WARM_AFTER_FILES:
                self.workers.warm()
            if len(self._gathering) < OPEN_AFTER_FILES:
                return True  # held
            # Not waiting for the workers to start (~0.3 s): the first batches start them, in
            # the lane's threads, while the scan goes on registering files.
            self._open = True
        while len(self._gathering) >= BATCH:
            self._send()
        return True

    def finished(
        self, *, wait: bool = False
    ) -> Iterator[tuple[str, dict[str, Any], LightOutcome | None]]:
        """The files whose batch is done, oldest first; with `wait`, every file taken (what is
        gathered is sent now, or, held while the workers never opened, given back). Without
        it, the oldest batch is waited for while too many are out, so the scan runs at most a
        few batches ahead of the workers."""
        if wait and not self._open:
            self._give_back_gathered()
        while wait and self._gathering:
            self._send()
        given_back, self._given_back = self._given_back, []
        for rel_path, row in given_back:
            yield rel_path, row, None
        ahead = self.workers.processes * AHEAD_PER_WORKER
        while self._sent and (wait or self._sent[0][1].done() or len(self._sent) > ahead):
            batch, future = self._sent.popleft()
            outcomes = self._outcomes_of(future, len(batch))
            for (rel_path, row), outcome in zip(batch, outcomes, strict=True):
                yield rel_path, row, outcome

    def next_ready(self) -> bool:
        """Whether `finished` has files to give without waiting."""
        return bool(self._given_back) or (bool(self._sent) and self._sent[0][1].done())

    def close(self) -> None:
        """Stop taking files; what was sent and not collected is dropped (an interrupted scan
        registers those files on its next run)."""
        self._closed = True
        self._gathering = []
        for _batch, future in self._sent:
            future.cancel()
        self._sent.clear()
        self._threads.shutdown(wait=True, cancel_futures=True)

    def _give_back_gathered(self) -> None:
        """No worker takes these: the pipeline does them, and the files after them."""
        self._closed = True
        self._given_back += self._gathering
        self._gathering = []

    def _send(self) -> None:
        batch, self._gathering = self._gathering[:BATCH], self._gathering[BATCH:]
        items = [_item(self.root_path, row) for _rel, row in batch]
        self._sent.append((batch, self._threads.submit(self.workers.light_pass, items)))

    def _outcomes_of(
        self, future: Future[list[LightOutcome | None]], count: int
    ) -> list[LightOutcome | None]:
        try:
            return future.result()
        except Exception as exc:
            # The workers cannot take the batch (they cannot start, or the run is ending):
            # its files go to the pipeline, and so do the next ones.
            log.warning("the light steps of %d new files are left to the pipeline: %r", count, exc)
            self._closed = True
            return [None] * count


def _fits(row: dict[str, Any]) -> bool:
    return row["status"] == AssetStatus.PROCESSING and (row["size"] or 0) <= MAX_BYTES


def _item(root_path: str, row: dict[str, Any]) -> LightItem:
    return LightItem(
        asset_id=row["id"],
        root_path=root_path,
        rel_path=row["rel_path"],
        escaped=bool(row["path_escaped"]),
        size=row["size"],
        mtime_ns=row["mtime_ns"],
        mime_type=row["mime_type"],
        asset_type=str(row["asset_type"]),
        filename=row["filename"],
        timeline_source=row.get("timeline_source"),
    )
