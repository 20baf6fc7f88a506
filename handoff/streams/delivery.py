"""The delivery worker: sends queued bot and agent messages on their channel, with retries.

Each conversation's messages leave in order. A transient failure (rate limit, network) is
retried with backoff — as long as the channel asks when it says how long to wait; a permanent
one (the customer blocked the bot, the reply window closed) or too many attempts mark the
message failed with the reason, which the agent sees. Outside the reply window only an approved
template message goes out (bot/core/window.py). A message already sent is never sent
again, even when a crashed worker's entry is taken over; nor is a part of a long message that
the channel accepted before a later part failed. While Redis is unreachable a message waits in
its place (what the channel accepted is recorded as soon as Redis is back), so the
conversation's next message never overtakes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.core.channel import DeliveryState, FailureCode, Sender, SendFailed
from bot.core.log_context import about
from bot.core.messages import ConversationKey
from bot.core.metrics import Metrics
from bot.core.window import reply_window
from handoff import keys
from handoff.errors import StoreUnavailable
from handoff.outbox import Delivery, Outbox
from handoff.store import Store, now_ms
from handoff.streams.consumer import StreamConsumer, StreamEntry
from handoff.streams.workers import StreamWorker
from handoff.transcript import Transcript

log = logging.getLogger(__name__)

GROUP = "senders"
MAX_ATTEMPTS = 8
LEASE_S = 900.0  # longer than all retries of one message together


Persist = Callable[[Callable[[], Awaitable[Any]], str], Awaitable[Any]]  # StreamWorker.persist


def backoff(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: 1, 2, 4 ... at most 60."""
    return float(min(2 ** (attempt - 1), 60))


class Courier:
    def __init__(
        self,
        store: Store,
        outbox: Outbox,
        senders: Mapping[str, Sender],
        *,
        consumer: str,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._outbox = outbox
        self._transcript = Transcript(store)
        self._senders = senders
        self._sleep = sleep
        self._consumer = StreamConsumer(
            store, keys.outbox(), GROUP, consumer, min_idle_ms=int(LEASE_S * 1000)
        )
        self.worker = StreamWorker(
            self._consumer, self._process, lambda e: e.fields.get("conversation", "")
        )

    async def backlog(self) -> int:
        """Entries not yet finished (for /healthz)."""
        return await self._consumer.backlog()

    async def _process(self, entry: StreamEntry) -> None:
        persist = self.worker.persist
        what = f"outbox {entry.id}"
        try:
            if not await persist(lambda: self._consumer.lease(entry.id, LEASE_S), what):
                return
            conversation = ConversationKey.parse(entry.fields["conversation"])
            # Retried whole only while nothing was sent: after a send, Progress.record waits
            # for Redis itself.
            with about(conversation.id):
                await persist(lambda: self._deliver(conversation, entry.fields["entry"]), what)
        except StoreUnavailable as exc:  # stopping with Redis gone
            log.warning("outbox %s: Redis unavailable, it stays queued: %s", entry.id, exc)
            with contextlib.suppress(StoreUnavailable):  # the lease expires by itself
                await self._consumer.release(entry.id)
            return
        with contextlib.suppress(StoreUnavailable):  # stopping: the restart finds it sent
            await persist(lambda: self._consumer.done(entry.id), what)

    async def _deliver(self, conversation: ConversationKey, entry_id: str) -> None:
        current = await self._outbox.delivery(conversation, entry_id)
        if current is None or current.state is not DeliveryState.QUEUED:
            return  # sent already (a crash after sending), or not ours to send
        outbound = await self._outbox.outbound(conversation, entry_id)
        sender = self._senders.get(conversation.channel)
        progress = Progress(self._outbox, conversation, entry_id, current, self.worker.persist)
        if outbound is None:
            await self._failed(progress, "the message is no longer in the transcript")
            return
        if sender is None:
            await self._failed(
                progress,
                f"the {conversation.channel} channel is not configured on this server",
                FailureCode.CHANNEL_MISSING,
            )
            return
        window = reply_window(
            sender.reply_window, await self._transcript.last_customer_at(conversation)
        )
        if window is not None and not window.allows(outbound, now_ms()):
            await self._failed(progress, window.refusal(), FailureCode.WINDOW_CLOSED)
            return
        while True:
            progress.attempts += 1
            earlier = list(progress.ids)
            try:
                sent = await sender.send(
                    outbound, skip=progress.parts, part_sent=progress.part_sent
                )
            except SendFailed as exc:
                if exc.permanent or progress.attempts >= MAX_ATTEMPTS:
                    await self._failed(progress, exc.reason, exc.code)
                    return
                wait = (
                    exc.retry_after if exc.retry_after is not None else backoff(progress.attempts)
                )
                log.info("%s: delivery attempt %d failed (%s), next in %.0f s",
                         conversation.id, progress.attempts, exc.reason, wait)  # fmt: skip
                await progress.record(DeliveryState.QUEUED, f"retrying: {exc.reason}")
                self._metrics.deliveries.labels(conversation.channel, "retried").inc()
                await self._sleep(wait)
                continue
            progress.ids = earlier + list(sent.message_ids)
            await progress.record(DeliveryState.SENT)
            self._metrics.deliveries.labels(conversation.channel, "sent").inc()
            return

    async def _failed(
        self, progress: Progress, reason: str, code: FailureCode | None = None
    ) -> None:
        self._metrics.deliveries.labels(progress.conversation.channel, "failed").inc()
        log.warning("%s: delivery of %s failed: %s", progress.conversation.id, progress.entry_id,
                    reason)  # fmt: skip
        if progress.parts:
            reason = f"{reason} (the first {progress.parts} part(s) reached the customer)"
        await progress.record(DeliveryState.FAILED, reason, code)


class Progress:
    """How far one message got: attempts, and the parts of a long text the channel accepted,
    recorded as each part is accepted so no retry or takeover sends it again."""

    def __init__(
        self,
        outbox: Outbox,
        conversation: ConversationKey,
        entry_id: str,
        current: Delivery,
        persist: Persist,
    ) -> None:
        self._outbox = outbox
        self._persist = persist
        self.conversation = conversation
        self.entry_id = entry_id
        self.attempts = current.attempts
        self.parts = current.parts_sent
        self.ids = list(current.message_ids)

    async def part_sent(self, parts: int, message_id: str) -> None:
        self.parts = parts
        if message_id:
            self.ids.append(message_id)
        await self.record(DeliveryState.QUEUED, f"sending: {parts} part(s) sent")

    async def record(
        self, state: DeliveryState, reason: str = "", code: FailureCode | None = None
    ) -> None:
        """Record how far the message got, waiting for Redis if need be: once the channel
        accepted something, giving up here would send it again."""
        delivery = Delivery(self.entry_id, state, reason, self.attempts, now_ms(), tuple(self.ids),
                            self.parts, code.value if code else "")  # fmt: skip
        await self._persist(lambda: self._outbox.mark(self.conversation, delivery),
                            f"{self.conversation.id}: delivery of {self.entry_id}")  # fmt: skip
