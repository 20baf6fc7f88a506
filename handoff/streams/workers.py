"""Background workers that drain a Redis stream: one lane per conversation, lanes in parallel.

Messages of one conversation are handled one after another in stream order; different
conversations run concurrently up to a limit. An entry is acknowledged by its handler once its
work is finished; a crash leaves it pending, and this or another replica takes it over later.
While Redis is unreachable a handler waits in its lane (`persist`) rather than giving its entry
up, so the conversation's next message never overtakes it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from handoff.errors import StoreUnavailable
from handoff.streams.consumer import StreamConsumer, StreamEntry

log = logging.getLogger(__name__)

Handler = Callable[[StreamEntry], Awaitable[None]]
T = TypeVar("T")


class Lanes:
    """Runs jobs one at a time per key, different keys concurrently, at most `limit` at once."""

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._queues: dict[str, collections.deque[Callable[[], Awaitable[None]]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._progress = asyncio.Condition()

    def submit(self, key: str, job: Callable[[], Awaitable[None]]) -> None:
        self.pending += 1
        self._idle.clear()
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(job)
            return
        self._queues[key] = collections.deque([job])
        task = asyncio.create_task(self._drain(key), name=f"lane:{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                job = queue[0]
                async with self._slots:
                    try:
                        await job()
                    except Exception:  # a handler's bug must not stop the conversation's lane
                        log.exception("%s: job failed", key)
                queue.popleft()
                self.pending -= 1
                async with self._progress:
                    self._progress.notify_all()
        finally:
            del self._queues[key]
            if not self._queues:
                self._idle.set()

    async def wait_below(self, limit: int) -> None:
        """Return once fewer than `limit` jobs are queued or running (backpressure)."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.pending < limit)

    async def wait_idle(self) -> None:
        await self._idle.wait()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class StreamWorker:
    """Reads a consumer group and hands every entry to `handle` in the lane `lane_of` names."""

    def __init__(
        self,
        consumer: StreamConsumer,
        handle: Handler,
        lane_of: Callable[[StreamEntry], str],
        *,
        concurrency: int = 16,
        max_pending: int = 512,
        reclaim_every: float = 30.0,
        block_ms: int = 1000,
        retry_wait: tuple[float, float] = (0.5, 10.0),
    ) -> None:
        self._consumer = consumer
        self._handle = handle
        self._lane_of = lane_of
        self._lanes = Lanes(concurrency)
        self._max_pending = max_pending
        self._reclaim_every = reclaim_every
        self.block_ms = block_ms  # how long a read waits; also how soon `stop` takes effect
        self._retry_wait = retry_wait  # first and longest wait of `persist`
        self._in_flight: set[str] = set()
        self._stopping = asyncio.Event()

    async def persist(
        self,
        operation: Callable[[], Awaitable[T]],
        what: str,
        also: tuple[type[Exception], ...] = (),
    ) -> T:
        """Run `operation` until Redis takes it: after StoreUnavailable (or one of `also`) wait
        — 0.5, 1, 2 … 10 s — and run it again, keeping the entry's lane, so its conversation
        stays in order. Once the worker is stopping, the error is raised instead."""
        wait, longest = self._retry_wait
        retryable: tuple[type[Exception], ...] = (StoreUnavailable, *also)
        while True:
            try:
                return await operation()
            except retryable as exc:
                if self._stopping.is_set():
                    raise
                log.warning("%s: %s; trying again in %.1f s", what, exc, wait)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), wait)
            wait = min(wait * 2, longest)

    def _dispatch(self, entries: list[StreamEntry]) -> None:
        for entry in entries:
            if entry.id in self._in_flight:
                continue
            self._in_flight.add(entry.id)

            async def job(entry: StreamEntry = entry) -> None:
                try:
                    await self._handle(entry)
                finally:
                    self._in_flight.discard(entry.id)

            self._lanes.submit(self._lane_of(entry), job)

    async def run(self) -> None:
        """Until stopped: recover this consumer's own pending entries, then follow the stream.

        Stop it with `stop()`, not by cancelling: redis-py 4.x can leave a connection pool
        stuck when a task is cancelled in the middle of a blocking read."""
        name = self._consumer.stream
        backoff = 0.5
        started = False
        recovered = "0"  # this consumer's own pending entries are dispatched up to here
        last_reclaim = time.monotonic()
        try:
            while not self._stopping.is_set():
                try:
                    if not started:
                        await self._consumer.ensure_group()
                        started = True
                    await self._lanes.wait_below(self._max_pending)
                    if recovered:  # first what this consumer had read before a restart
                        own = await self._consumer.own_pending(self._max_pending, after=recovered)
                        self._dispatch(own)
                        recovered = own[-1].id if len(own) == self._max_pending else ""
                        continue
                    if time.monotonic() - last_reclaim > self._reclaim_every:
                        last_reclaim = time.monotonic()
                        self._dispatch(await self._consumer.reclaim())
                    self._dispatch(await self._consumer.read(count=64, block_ms=self.block_ms))
                    backoff = 0.5
                except StoreUnavailable as exc:
                    log.warning("%s: Redis unavailable, retrying in %.1f s: %s", name, backoff, exc)
                    # A read Redis carried out but whose answer was lost left entries pending
                    # for this consumer: look for them again once it is back.
                    recovered = "0"
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), backoff)
                    backoff = min(backoff * 2, 10.0)
        finally:
            await self._lanes.close()

    async def stop(self, grace: float) -> None:
        """Stop reading; give running jobs `grace` seconds, then cancel them (their entries
        stay pending and are processed again after a restart)."""
        self._stopping.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._lanes.wait_idle(), grace)

    async def drain(self) -> None:
        """Wait until every dispatched entry is handled (tests, benchmarks, shutdown)."""
        await self._lanes.wait_idle()
