"""The delivery worker: sends queued bot and agent messages on their channel, with retries.

Each conversation's messages leave in order. A transient failure (rate limit, network) is
retried with backoff — as long as the channel asks when it says how long to wait; a permanent
one (the customer blocked the bot, the reply window closed) or too many attempts mark the
message failed with the reason, which the agent sees. A message already sent is never sent
again, even when a crashed worker's entry is taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from bot.messages import ConversationKey
from bot.sending import DeliveryState, Sender, SendFailed
from bot.workers import StreamWorker
from handoff import keys
from handoff.errors import StoreUnavailable
from handoff.outbox import Delivery, Outbox
from handoff.store import Store
from handoff.streams import StreamConsumer, StreamEntry
from handoff.transcript import now_ms

log = logging.getLogger(__name__)

GROUP = "senders"
MAX_ATTEMPTS = 8
LEASE_S = 900.0  # longer than all retries of one message together


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
    ) -> None:
        self._outbox = outbox
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
        if not await self._consumer.lease(entry.id, LEASE_S):
            return
        try:
            conversation = ConversationKey.parse(entry.fields["conversation"])
            await self._deliver(conversation, entry.fields["entry"])
        except StoreUnavailable as exc:
            log.warning("outbox %s: Redis unavailable, it stays queued: %s", entry.id, exc)
            with contextlib.suppress(StoreUnavailable):  # the lease expires by itself
                await self._consumer.release(entry.id)
            return
        await self._consumer.done(entry.id)

    async def _deliver(self, conversation: ConversationKey, entry_id: str) -> None:
        current = await self._outbox.delivery(conversation, entry_id)
        if current is None or current.state is not DeliveryState.QUEUED:
            return  # sent already (a crash after sending), or not ours to send
        outbound = await self._outbox.outbound(conversation, entry_id)
        sender = self._senders.get(conversation.channel)
        if outbound is None or sender is None:
            reason = (
                "the message is no longer in the transcript"
                if outbound is None
                else f"the {conversation.channel} channel is not configured on this server"
            )
            await self._failed(conversation, entry_id, reason, current.attempts)
            return
        attempts = current.attempts
        while True:
            attempts += 1
            try:
                sent = await sender.send(outbound)
            except SendFailed as exc:
                if exc.permanent or attempts >= MAX_ATTEMPTS:
                    await self._failed(conversation, entry_id, exc.reason, attempts)
                    return
                wait = exc.retry_after if exc.retry_after is not None else backoff(attempts)
                log.info("%s: delivery attempt %d failed (%s), next in %.0f s",
                         conversation.id, attempts, exc.reason, wait)  # fmt: skip
                await self._outbox.mark(
                    conversation,
                    Delivery(entry_id, DeliveryState.QUEUED, f"retrying: {exc.reason}", attempts,
                             now_ms()),
                )  # fmt: skip
                await self._sleep(wait)
                continue
            await self._outbox.mark(
                conversation,
                Delivery(entry_id, DeliveryState.SENT, "", attempts, now_ms(), sent.message_ids),
            )
            return

    async def _failed(
        self, conversation: ConversationKey, entry_id: str, reason: str, attempts: int
    ) -> None:
        log.warning("%s: delivery of %s failed: %s", conversation.id, entry_id, reason)
        await self._outbox.mark(
            conversation, Delivery(entry_id, DeliveryState.FAILED, reason, attempts, now_ms())
        )
