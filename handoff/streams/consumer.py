"""A Redis stream consumed by a consumer group: at-least-once work that survives a crash.

An entry stays pending until it is acknowledged; a worker that dies leaves its entries pending,
and any worker takes them over with XAUTOCLAIM once they have been idle long enough — or at
once, when it is the same consumer started again (a gateway's consumer name is stable).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from handoff import keys
from handoff.store import ResponseError, Store

log = logging.getLogger(__name__)

# KEYS: the lease. ARGV: this incarnation's token ("<name>/<start ns, 20 digits>"), ttl ms,
# the consumer's prefix ("<name>/"). Free, or held by an earlier incarnation of this very
# consumer (it died: one consumer name belongs to one live process), it is taken; finished
# ("done"), another consumer's or a later incarnation's, it is not.
_LEASE = """
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then
  local prefix = ARGV[3]
  if string.sub(held, 1, #prefix) ~= prefix then return 0 end
  if string.sub(held, #prefix + 1) >= string.sub(ARGV[1], #prefix + 1) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


@dataclass(frozen=True, slots=True)
class StreamEntry:
    id: str
    fields: dict[str, str]


def _entries(rows: Any) -> list[StreamEntry]:
    # XAUTOCLAIM lists entries deleted meanwhile with fields None: they are gone, skip them.
    return [StreamEntry(str(i), dict(f)) for i, f in rows or () if f]


class StreamConsumer:
    """One consumer of `group` on `stream`."""

    def __init__(
        self, store: Store, stream: str, group: str, consumer: str, *, min_idle_ms: int
    ) -> None:
        self._store = store
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self._min_idle_ms = min_idle_ms
        self._claim_cursor = "0-0"
        # Leases name this incarnation: after a restart, the same consumer takes its dead
        # predecessor's leases at once instead of waiting for them to expire.
        self._token = f"{consumer}/{store.incarnation}"
        self._lease = store.redis.register_script(_LEASE)

    async def ensure_group(self) -> None:
        """Create the group (reading from the stream's start) unless it exists."""
        async with self._store.guard():
            try:
                await self._store.redis.xgroup_create(
                    self.stream, self.group, id="0", mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def own_pending(self, count: int = 100, after: str = "0") -> list[StreamEntry]:
        """Entries delivered to this consumer before and not acknowledged (after a restart),
        oldest first, from just after the entry id `after`."""
        async with self._store.guard():
            reply = await self._store.redis.xreadgroup(
                self.group, self.consumer, {self.stream: after}, count=count
            )
        return _entries(reply[0][1]) if reply else []

    async def read(self, count: int, block_ms: int) -> list[StreamEntry]:
        """New entries, waiting up to `block_ms` (keep it under the socket timeout, 5 s)."""
        async with self._store.guard():
            reply = await self._store.redis.xreadgroup(
                self.group, self.consumer, {self.stream: ">"}, count=count, block=block_ms
            )
        return _entries(reply[0][1]) if reply else []

    async def reclaim(self, count: int = 100) -> list[StreamEntry]:
        """Take over entries another (dead or stuck) consumer left idle for too long."""
        async with self._store.guard():
            reply = await self._store.redis.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=self._min_idle_ms,
                start_id=self._claim_cursor,
                count=count,
            )
        self._claim_cursor = str(reply[0])
        return _entries(reply[1])

    async def lease(self, entry_id: str, ttl_s: float) -> bool:
        """Claim the right to process an entry for `ttl_s` seconds; False when another worker
        holds it (a slow worker whose entry was reclaimed by a second one: only one goes on)
        or it is finished. A lease left by this consumer's previous run is taken over."""
        async with self._store.guard():
            taken = await self._lease(
                keys=[keys.lease(self.stream, entry_id)],
                args=[self._token, int(ttl_s * 1000), f"{self.consumer}/"],
            )
        return bool(taken)

    async def done(self, entry_id: str) -> None:
        """Acknowledge and drop the entry: its work is finished."""
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=True)
            pipe.xack(self.stream, self.group, entry_id)
            pipe.xdel(self.stream, entry_id)
            # The lease stays a while as "done": a second worker that reclaimed the entry
            # before it was acknowledged finds it taken and skips it.
            pipe.set(keys.lease(self.stream, entry_id), "done", ex=3600)
            await pipe.execute()

    async def release(self, entry_id: str) -> None:
        """Give up the lease without acknowledging: the entry will be processed again."""
        async with self._store.guard():
            await self._store.redis.delete(keys.lease(self.stream, entry_id))

    async def backlog(self) -> int:
        """Entries not yet acknowledged (pending plus unread): for health and benchmarks."""
        async with self._store.guard():
            return int(await self._store.redis.xlen(self.stream))
