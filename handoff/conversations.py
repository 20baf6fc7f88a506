"""Conversation-wide coordination: one turn of a conversation at a time, across replicas."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from bot.messages import ConversationKey
from handoff import keys
from handoff.store import Store


class Conversations:
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
