"""Which agents are online now: the inbox checks in while an agent has it open."""

from __future__ import annotations

from handoff import keys
from handoff.store import Store

ONLINE_TTL_MS = 90_000  # an agent whose inbox has not checked in for this long is away


class Presence:
    """Agents' heartbeats."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def heartbeat(self, agent: str, now_ms: int) -> None:
        async with self._store.guard():
            await self._store.redis.zadd(keys.agents_online(), {agent: now_ms})

    async def leave(self, agent: str) -> None:
        async with self._store.guard():
            await self._store.redis.zrem(keys.agents_online(), agent)

    async def online(self, now_ms: int) -> list[str]:
        async with self._store.guard():
            return list(
                await self._store.redis.zrangebyscore(
                    keys.agents_online(), now_ms - ONLINE_TTL_MS, "+inf"
                )
            )
