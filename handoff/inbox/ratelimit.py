"""Login throttling in Redis: every attempt is reserved before the password is checked.

Checking a password takes Argon2's deliberate tens of milliseconds, so counting failures
after the check would let a burst of concurrent guesses all pass a check made before any of
them failed. Instead one script reserves each attempt as a failure first — and the attempt
that proves right gives its reservation back.

Per account, the first `free` attempts in a row go at once; after them each attempt waits
for the one before: 1 s, 2 s, 4 s … up to `max_delay_s`. The owner of an attacked account is
slowed down, never locked out for long (a hard lockout would let anyone lock any agent out).
Per client address (through trusted proxies only, see bot/core/clients.py) at most
`per_address` attempts per window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from handoff import keys
from handoff.inbox.errors import TooManyAttempts
from handoff.store import Store, now_ms

WINDOW_S = 15 * 60  # an account's failures are forgotten after this long without one
PER_ADDRESS = 20  # trying many names from one place, per window
FREE = 3  # attempts in a row on one account before each must wait for the last
BASE_DELAY_S = 1.0
MAX_DELAY_S = 300.0

# KEYS: the account's record (hash: fails, next_at), the address's counter.
# ARGV: now (ms), per address, window (ms), free attempts, base delay (ms), longest delay (ms).
# Returns {0, 0} when reserved, else {1 (account) or 2 (address), ms to wait}.
_RESERVE = """
local now = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used >= tonumber(ARGV[2]) then
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl < 0 then ttl = tonumber(ARGV[3]); redis.call('PEXPIRE', KEYS[2], ttl) end
  return {2, ttl}
end
local next_at = tonumber(redis.call('HGET', KEYS[1], 'next_at') or '0')
if now < next_at then return {1, next_at - now} end
local fails = tonumber(redis.call('HGET', KEYS[1], 'fails') or '0') + 1
local delay = 0
if fails >= tonumber(ARGV[4]) then
  delay = math.min(tonumber(ARGV[5]) * 2 ^ (fails - tonumber(ARGV[4])), tonumber(ARGV[6]))
end
redis.call('HSET', KEYS[1], 'fails', fails, 'next_at', now + delay)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return {0, 0}
"""

# KEYS: the account's record, the address's counter: the right password gives both back.
_RELEASE = """
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 1
"""


@dataclass(frozen=True, slots=True)
class Reservation:
    """One login attempt, counted as failed until `LoginLimiter.succeeded` says otherwise."""

    name_key: str
    address_key: str


class LoginLimiter:
    def __init__(
        self,
        store: Store,
        *,
        per_address: int = PER_ADDRESS,
        window_s: int = WINDOW_S,
        free: int = FREE,
        base_delay_s: float = BASE_DELAY_S,
        max_delay_s: float = MAX_DELAY_S,
    ) -> None:
        self._store = store
        self._args = [per_address, window_s * 1000, free, int(base_delay_s * 1000),
                      int(max_delay_s * 1000)]  # fmt: skip
        self._reserve = store.redis.register_script(_RESERVE)
        self._release = store.redis.register_script(_RELEASE)

    async def reserve(self, name: str, address: str) -> Reservation:
        """Count an attempt before its password is checked; raise TooManyAttempts when the
        account must wait or the address used up its window."""
        found = Reservation(
            keys.login_failures("name", name.lower()[:64]),
            keys.login_failures("ip", address or "unknown"),
        )
        async with self._store.guard():
            scope, wait_ms = await self._reserve(
                keys=[found.name_key, found.address_key], args=[now_ms(), *self._args]
            )
        if int(scope):
            raise TooManyAttempts(max(1, math.ceil(int(wait_ms) / 1000)))
        return found

    async def succeeded(self, reservation: Reservation) -> None:
        """The password was right: the account's failures are forgotten and the address gets
        its attempt back."""
        async with self._store.guard():
            await self._release(keys=[reservation.name_key, reservation.address_key])
