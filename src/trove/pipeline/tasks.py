"""The TaskIQ side: brokers, the pipeline task and the install task (seed 4.4, "TaskIQ
Integration").

`pipeline_batch(asset_ids)` runs a PipelineRunner over a batch. Which runner: the one in the
broker's state, put there by whoever owns the process — PipelineService for the in-process
broker, the worker start-up hook for `trove worker` processes (pipeline/worker.py).
`install_package(asset_id, argv)` runs an app package's configured install command through
the `installer` in the state (services/installs.py).

Brokers:
- no `broker_url`: TaskIQ's InMemoryBroker. Tasks run in its thread pool (CPU work leaves the
  calling event loop free); its results wake their waiter when they are stored (`result_of`),
  instead of being polled: TaskIQ's default 0.2 s poll would dominate a round trip, and a
  5 ms poll of each batch in flight kept the event loop contending for the GIL with the
  workers (45,000 wake-ups for 4,000 small files).
- `redis://...`: RedisStreamBroker + RedisAsyncResultBackend (taskiq-redis). A worker reads one
  message at a time (`xread_count=1`), so batches spread over all worker processes instead of
  the first one to connect taking the whole queue. A worker whose Redis goes away waits for it
  and listens again (taskiq's listener would end the process, which the process manager
  restarts every few seconds, each time with a traceback, for as long as Redis is away).
"""

from __future__ import annotations

import asyncio
from typing import Any

from taskiq import AsyncBroker, AsyncTaskiqTask, Context, InMemoryBroker, TaskiqDepends
from taskiq.brokers.inmemory_broker import InmemoryResultBackend
from taskiq.result import TaskiqResult

from trove.config import Settings

TASK_NAME = "trove.pipeline_batch"
INSTALL_TASK = "trove.install_package"
RESULT_TTL_S = 3600
MAX_STORED_RESULTS = 10_000


def pipeline_batch(asset_ids: list[str], context: Context = TaskiqDepends()) -> dict[str, Any]:
    """Process one batch of assets (synchronous: TaskIQ runs it in its thread pool)."""
    runner = context.state.runner
    return runner.run_batch(list(asset_ids))


def install_package(
    asset_id: str, argv: list[str], context: Context = TaskiqDepends()
) -> dict[str, Any]:
    """Run an app package's configured install command (services/installs.py)."""
    return context.state.installer.run(asset_id, list(argv))


def make_broker(settings: Settings) -> AsyncBroker:
    if settings.broker_url:
        broker = _redis_broker(settings.broker_url, queue=settings.broker_queue)
    else:
        broker = InMemoryBroker(
            # Threads for the batches in threads, and as many for the worker processes'
            # (pipeline/pool.py): the first may still run when the others start.
            sync_tasks_pool_size=max(1, settings.pipeline_threads) * 2,
            max_stored_results=MAX_STORED_RESULTS,
            max_async_tasks=max(1, settings.pipeline_threads) * 4,
        )
        broker.result_backend = _WakingResults(max_stored_results=MAX_STORED_RESULTS)
    broker.register_task(pipeline_batch, task_name=TASK_NAME)
    broker.register_task(install_package, task_name=INSTALL_TASK)
    return broker


def batch_task(broker: AsyncBroker) -> Any:
    task = broker.find_task(TASK_NAME)
    if task is None:
        raise RuntimeError("broker was not made by make_broker")
    return task


def is_in_process(broker: AsyncBroker) -> bool:
    return isinstance(broker, InMemoryBroker)


async def result_of(broker: AsyncBroker, sent: AsyncTaskiqTask[Any]) -> TaskiqResult[Any]:
    """The result of a task sent to the in-process broker, once it is stored."""
    results = broker.result_backend
    if not isinstance(results, _WakingResults):
        raise RuntimeError("broker was not made by make_broker for in-process work")
    return await results.wait(sent.task_id)


class _WakingResults(InmemoryResultBackend[Any]):
    """In-memory results that wake whoever waits for them. `set_result` runs in the broker's
    event loop (TaskIQ's receiver awaits the thread pool, then stores), so a future of that
    loop is enough."""

    def __init__(self, *, max_stored_results: int) -> None:
        super().__init__(max_stored_results=max_stored_results)
        self._waiters: dict[str, asyncio.Future[None]] = {}

    async def set_result(self, task_id: str, result: TaskiqResult[Any]) -> None:
        await super().set_result(task_id, result)
        waiter = self._waiters.pop(task_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, task_id: str) -> TaskiqResult[Any]:
        if task_id not in self.results:
            loop = asyncio.get_running_loop()
            await self._waiters.setdefault(task_id, loop.create_future())
        return self.results.pop(task_id)


async def undelivered(broker: AsyncBroker) -> int | None:
    """How many messages sent to `broker` no worker has taken yet (0: every message sent so
    far reached a worker); None when the broker cannot tell (in-process)."""
    from trove.pipeline.redis_broker import PatientStreamBroker

    if not isinstance(broker, PatientStreamBroker):
        return None
    return await broker.undelivered()


def _redis_broker(url: str, *, queue: str) -> AsyncBroker:
    from trove.pipeline.redis_broker import PatientResultBackend, PatientStreamBroker

    return PatientStreamBroker(
        url,
        queue_name=queue,
        consumer_group_name=f"{queue}:workers",
        xread_count=1,
        xread_block=1000,
        maxlen=200_000,  # messages of finished batches do not pile up for ever
    ).with_result_backend(PatientResultBackend(url, result_ex_time=RESULT_TTL_S))
