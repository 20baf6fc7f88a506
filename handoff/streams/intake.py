"""The inbound worker: takes channel messages off the persisted inbound stream to the router.

A channel's webhook only accepts (persists and deduplicates) a message and answers; this worker
then gives each message its turn, one at a time per conversation, and acknowledges it once the
turn — replies queued for delivery included — is done. A crash in between leaves the message
pending: it is processed again, never lost. A turn that cannot run yet (Redis unreachable, the
conversation locked by a turn that a crashed gateway left) waits and runs again in its place,
before the conversation's next message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.core.errors import BadMessage
from bot.core.log_context import about
from bot.core.messages import ConversationKey, Inbound, Turn
from bot.core.metrics import Metrics
from handoff import keys
from handoff.errors import LockTimeout, StoreUnavailable
from handoff.store import Store
from handoff.streams.consumer import StreamConsumer, StreamEntry
from handoff.streams.inbound import InboundQueue, from_fields
from handoff.streams.workers import StreamWorker

log = logging.getLogger(__name__)

GROUP = "router"


class Intake:
    """`accept` for the channels' webhooks, and the worker that feeds `handle` (the router)."""

    def __init__(
        self,
        store: Store,
        handle: Callable[[Inbound], Awaitable[Turn]],
        *,
        consumer: str,
        turn_timeout: float,
        metrics: Metrics | None = None,
    ) -> None:
        self._queue = InboundQueue(store)
        self._metrics = metrics or Metrics()
        self._handle = handle
        # A turn never takes longer than this; an entry idle longer belongs to a dead worker.
        self._lease_s = turn_timeout * 2 + 10
        self._consumer = StreamConsumer(
            store, keys.inbound(), GROUP, consumer, min_idle_ms=int(self._lease_s * 1000)
        )
        self.worker = StreamWorker(
            self._consumer, self._process, lambda e: e.fields.get("conversation", "")
        )

    async def accept(self, inbound: Inbound) -> bool:
        added = await self._queue.accept(inbound)
        if added:
            self._metrics.accepted.labels(inbound.conversation.channel).inc()
        else:
            self._metrics.duplicates.labels(inbound.conversation.channel).inc()
            log.info("%s: message %s seen before, ignored", inbound.conversation.id,
                     inbound.message_id)  # fmt: skip
        return added

    async def backlog(self) -> int:
        """Entries not yet finished (for /healthz)."""
        return await self._consumer.backlog()

    async def _process(self, entry: StreamEntry) -> None:
        persist = self.worker.persist
        try:
            if not await persist(lambda: self._consumer.lease(entry.id, self._lease_s),
                                 f"inbound {entry.id}"):  # fmt: skip
                return  # another worker has it (or finished it)
        except StoreUnavailable:
            return  # stopping: it stays pending
        try:
            inbound = from_fields(entry.fields)
        except BadMessage as exc:
            log.error("inbound %s dropped: %s", entry.id, exc)
            await self._finish(entry.id)
            return
        try:
            with about(inbound.conversation.id):
                await self._wait_for_turn(inbound.conversation, entry.id)
                await persist(lambda: self._handle(inbound), f"{inbound.conversation.id}: turn",
                              also=(LockTimeout,))  # fmt: skip
        except (LockTimeout, StoreUnavailable) as exc:
            log.warning("%s: turn postponed (%s); it stays queued", inbound.conversation.id, exc)
            await self._release(entry.id)
            return
        except Exception:
            log.exception("%s: turn failed; the message stays queued", inbound.conversation.id)
            await self._release(entry.id)
            return
        await self._finish(entry.id)
        with contextlib.suppress(StoreUnavailable):  # `due` drops it anyway once it is gone
            await self._queue.finished(inbound.conversation, entry.id)

    async def _wait_for_turn(self, conversation: ConversationKey, entry_id: str) -> None:
        """Wait while an earlier message of the conversation is still being handled, perhaps by
        another replica; raises LockTimeout after half the lease (the entry is released and
        comes back later), so a dead replica's entry never holds this one for good."""
        deadline = time.monotonic() + self._lease_s / 2
        wait = 0.02
        while not await self.worker.persist(
            lambda: self._queue.due(conversation, entry_id), f"inbound {entry_id}"
        ):
            if time.monotonic() > deadline:
                raise LockTimeout("an earlier message of the conversation is not through yet")
            await asyncio.sleep(wait)
            wait = min(wait * 2, 1.0)

    async def _finish(self, entry_id: str) -> None:
        with contextlib.suppress(StoreUnavailable):  # stopping: the restart finds it answered
            await self.worker.persist(lambda: self._consumer.done(entry_id), f"inbound {entry_id}")

    async def _release(self, entry_id: str) -> None:
        with contextlib.suppress(StoreUnavailable):  # the lease expires by itself
            await self._consumer.release(entry_id)
