"""The Redis stream broker of `trove worker` and of whoever sends it work (pipeline/tasks.py).

taskiq-redis's RedisStreamBroker and result backend, with what they lack:
- a worker whose Redis goes away waits for it and listens again. taskiq's listener would end
  the worker process, which the process manager restarts every few seconds (each time with
  tracebacks and the runner's start-up) for as long as Redis is away. A batch that ends while
  Redis is away is in the index all the same: its result and acknowledgement, which nobody
  waits for (senders watch the index), are given up with a line in the log;
- `undelivered()`: whether messages wait that no worker took yet. A sender records `queued`
  before it sends, so when every message reached a worker, an asset still `queued` lost its
  message (a Redis that restarted empty, a send that failed while Redis was away) and is sent
  again (PipelineService).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage
from taskiq.result import TaskiqResult
from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

log = logging.getLogger(__name__)

# How long a worker waits before listening again to a Redis that went away.
RECONNECT_S = 1.0
_AWAY = (RedisConnectionError, RedisTimeoutError, OSError)


class PatientStreamBroker(RedisStreamBroker):
    _away = False

    async def startup(self) -> None:
        """A worker process that starts while Redis is away waits for it in `listen`, as one
        that lost it does, instead of dying; a sender is told at once."""
        try:
            await super().startup()
        except _AWAY as exc:
            if not self.is_worker_process:
                raise
            log.warning("Redis is away (%s): waiting for it", exc)
            self._away = True

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """taskiq-redis's listening, begun again whenever the connection to Redis is lost,
        with the consumer group declared again (a Redis that restarted empty has none)."""
        away = self._away
        while True:
            try:
                if away:
                    await self._declare_consumer_group()
                    log.warning("Redis is back: listening again")
                    away = False
                async for message in super().listen():
                    yield message
            except _AWAY as exc:
                if not away:
                    log.warning("lost Redis (%s): waiting for it to come back", exc)
                away = True
                await asyncio.sleep(RECONNECT_S)

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        ack = super()._ack_generator(id, queue_name)

        async def ack_unless_away() -> None:
            try:
                await ack()
            except _AWAY as exc:
                # Redis came back empty, or (persistent) re-delivers it after its idle
                # timeout: the claim then finds its assets done.
                log.warning("could not acknowledge message %s: Redis is away (%s)", id, exc)

        return ack_unless_away

    async def undelivered(self) -> int:
        """Messages of the stream past the consumer group's last delivery. Compared by id:
        Redis keeps no lag for a stream it trimmed."""
        async with Redis(connection_pool=self.connection_pool) as redis:
            try:
                stream = await redis.xinfo_stream(self.queue_name)
            except ResponseError:  # no stream: nothing was sent since Redis started
                return 0
            groups = await redis.xinfo_groups(self.queue_name)
        group = next((g for g in groups if _text(g["name"]) == self.consumer_group_name), None)
        if group is None:
            return int(stream["length"])
        if _text(group["last-delivered-id"]) == _text(stream["last-generated-id"]):
            return 0
        return int(group.get("lag") or 1)


class PatientResultBackend(RedisAsyncResultBackend[Any]):
    async def set_result(self, task_id: str, result: TaskiqResult[Any]) -> None:
        try:
            await super().set_result(task_id, result)
        except _AWAY as exc:
            log.warning("could not store the result of task %s: Redis is away (%s)", task_id, exc)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
