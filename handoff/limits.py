"""Rate limits kept in Redis, so every replica counts the same requests.

Each limit allows `count` requests per `window_s` seconds and subject (a client address, a
conversation), counted in fixed windows that start with the subject's first request. Several
limits are checked and taken together in one script: a request refused by one of them uses
up none of the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import TooManyRequests
from handoff import keys
from handoff.store import Store

# KEYS: one counter per limit. ARGV: the limits' counts, then their windows (ms).
# Returns {0, 0} when taken, else {ms until the longest refusing window ends, its index}.
_TAKE = """
local n = #KEYS
local wait, which = 0, 0
for i = 1, n do
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if used >= tonumber(ARGV[i]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then ttl = tonumber(ARGV[n + i]); redis.call('PEXPIRE', KEYS[i], ttl) end
    if ttl > wait then wait, which = ttl, i end
  end
end
if wait > 0 then return {wait, which} end
for i = 1, n do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[n + i]) end
end
return {0, 0}
"""


@dataclass(frozen=True, slots=True)
class Limit:
    """`count` requests per `window_s` seconds; `bucket` names it in keys and messages."""

    bucket: str
    count: int
    window_s: int
    what: str = "requests"  # for the refusal's message: "messages", "new conversations"

    def per(self) -> str:
        return {60: "minute", 3600: "hour", 86400: "day"}.get(self.window_s, f"{self.window_s} s")


class Limits:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._take = store.redis.register_script(_TAKE)

    async def take(self, *checks: tuple[Limit, str]) -> None:
        """Count one request against each (limit, subject); raise TooManyRequests, counting
        nothing, when any of them is used up."""
        if not checks:
            return
        counters = [keys.rate(limit.bucket, subject or "unknown") for limit, subject in checks]
        args = [limit.count for limit, _ in checks] + [limit.window_s * 1000 for limit, _ in checks]
        async with self._store.guard():
            wait_ms, which = (int(v) for v in await self._take(keys=counters, args=args))
        if wait_ms > 0:
            refused = checks[which - 1][0]
            raise TooManyRequests(
                f"too many {refused.what}: at most {refused.count} per {refused.per()}; "
                f"try again in {(wait_ms + 999) // 1000} s",
                (wait_ms + 999) // 1000,
            )

    async def used(self, limit: Limit, subject: str) -> int:
        key = keys.rate(limit.bucket, subject or "unknown")
        async with self._store.guard():
            return int(await self._store.redis.get(key) or 0)
