"""A conversation's own state: who answers it, what the gateway remembers between turns, and
the lock that lets one turn of it run at a time across replicas."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from bot.core.messages import ConversationKey
from handoff import index, keys
from handoff.status import Status
from handoff.store import Store, now_ms


@dataclass(frozen=True, slots=True)
class State:
    """A conversation's status and what the gateway keeps beside it."""

    status: Status = Status.BOT
    assignee: str = ""
    handoff_id: str = ""
    reason: str = ""
    language: str = "id"
    memory: str = ""  # the understanding policy's memory, opaque here
    rasa_paused: bool = False  # Rasa's tracker still holds a pause event
    answered: str = ""  # the channel message id of the last inbound whose turn finished


class Conversations:
    """Reads and updates conversation state; status changes go through `Handoffs` instead."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @contextlib.asynccontextmanager
    async def turn(
        self, conversation: ConversationKey, *, ttl: float, wait: float
    ) -> AsyncIterator[None]:
        """Hold the conversation's turn lock; raises LockTimeout after `wait` seconds.

        Rasa 3.6's own Redis lock store races between replicas, so the gateway does not
        rely on it: every replica takes this lock before it hands a message to Rasa.
        """
        async with self._store.lock(keys.turn_lock(conversation.id), ttl=ttl, wait=wait):
            yield

    async def exists(self, conversation: ConversationKey) -> bool:
        async with self._store.guard():
            return bool(await self._store.redis.exists(keys.conversation(conversation.id)))

    async def state(self, conversation: ConversationKey) -> State:
        fields = ("status", "assignee", "handoff_id", "reason", "language", "memory", "rasa_paused",
                  "answered")  # fmt: skip
        async with self._store.guard():
            values = await self._store.redis.hmget(keys.conversation(conversation.id), fields)
        status, assignee, handoff_id, reason, language, memory, paused, answered = (
            v or "" for v in values
        )
        return State(
            Status(status or "bot"), assignee, handoff_id, reason, language or "id", memory,
            paused == "1", answered,
        )  # fmt: skip

    async def mark_answered(self, conversation: ConversationKey, message_id: str) -> None:
        """Remember that this inbound message's turn is complete (a replay then skips it)."""
        async with self._store.guard():
            await self._store.redis.hset(keys.conversation(conversation.id), "answered", message_id)

    async def mark_rasa_paused(self, conversation: ConversationKey, paused: bool) -> None:
        async with self._store.guard():
            await self._store.redis.hset(
                keys.conversation(conversation.id), "rasa_paused", "1" if paused else "0"
            )

    async def remember(
        self,
        conversation: ConversationKey,
        memory: str,
        language: str,
        slots: Mapping[str, object] | None = None,
    ) -> None:
        """Keep what the gateway remembers after a bot turn, and — in the same MULTI — the
        numbers the bot collected in it (`slots`), for the contact and the search index."""
        cid = conversation.id
        found = index.refs(slots or {})
        account = str((slots or {}).get("customer_name") or "")[:100]
        mapping: dict[str | bytes, str] = {"memory": memory, "language": language}
        if account:
            mapping["account"] = account
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=True)
            pipe.hset(keys.conversation(cid), mapping=mapping)
            if found:
                ts = now_ms()
                members = {index.ref_member(k, v): ts for k, v in found}
                pipe.hset(keys.conversation_refs(cid), mapping=members)  # type: ignore[arg-type]
                for kind, value in found:
                    pipe.zadd(keys.search_ref(kind, value), {cid: ts})
            await pipe.execute()
