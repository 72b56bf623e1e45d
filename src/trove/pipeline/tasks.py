"""The TaskIQ side: brokers, the pipeline task and the install task (seed 4.4, "TaskIQ
Integration").

`pipeline_batch(asset_ids)` runs a PipelineRunner over a batch. Which runner: the one in the
broker's state, put there by whoever owns the process — PipelineService for the in-process
broker, the worker start-up hook for `trove worker` processes (pipeline/worker.py).
`install_package(asset_id, argv)` runs an app package's configured install command through
the `installer` in the state (services/installs.py).

Brokers:
- no `broker_url`: TaskIQ's InMemoryBroker. Tasks run in its thread pool (CPU work leaves the
  calling event loop free); results are polled every few milliseconds rather than TaskIQ's
  default 0.2 s, which would otherwise dominate a round trip.
- `redis://...`: RedisStreamBroker + RedisAsyncResultBackend (taskiq-redis). A worker reads one
  message at a time (`xread_count=1`), so batches spread over all worker processes instead of
  the first one to connect taking the whole queue.
"""

from __future__ import annotations

from typing import Any

from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends

from trove.config import Settings

TASK_NAME = "trove.pipeline_batch"
INSTALL_TASK = "trove.install_package"
RESULT_POLL_S = 0.005
RESULT_TTL_S = 3600


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
            sync_tasks_pool_size=max(1, settings.pipeline_threads),
            max_stored_results=10_000,
            max_async_tasks=max(1, settings.pipeline_threads) * 4,
        )
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


def _redis_broker(url: str, *, queue: str) -> AsyncBroker:
    from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

    return RedisStreamBroker(
        url,
        queue_name=queue,
        consumer_group_name=f"{queue}:workers",
        xread_count=1,
        xread_block=1000,
        maxlen=200_000,  # messages of finished batches do not pile up for ever
    ).with_result_backend(RedisAsyncResultBackend(url, result_ex_time=RESULT_TTL_S))
