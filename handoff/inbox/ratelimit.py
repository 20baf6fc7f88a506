"""Failed logins counted per name and per address in Redis; too many and logins wait a while."""

from __future__ import annotations

from handoff import keys
from handoff.inbox.errors import TooManyAttempts
from handoff.store import Store

WINDOW_S = 15 * 60
PER_NAME = 5  # guessing one agent's password
PER_ADDRESS = 20  # trying many names from one place


class LoginLimiter:
    def __init__(
        self,
        store: Store,
        *,
        per_name: int = PER_NAME,
        per_address: int = PER_ADDRESS,
        window_s: int = WINDOW_S,
    ) -> None:
        self._store = store
        self._limits = {"name": per_name, "ip": per_address}
        self._window = window_s

    @staticmethod
    def _keys(name: str, address: str) -> dict[str, str]:
        return {
            "name": keys.login_failures("name", name.lower()[:64]),
            "ip": keys.login_failures("ip", address or "unknown"),
        }

    async def check(self, name: str, address: str) -> None:
        """Raise TooManyAttempts while either counter is at its limit."""
        found = self._keys(name, address)
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=False)
            for key in found.values():
                pipe.get(key)
                pipe.ttl(key)
            values = await pipe.execute()
        wait = 0
        for i, scope in enumerate(found):
            count, ttl = values[2 * i], values[2 * i + 1]
            if count is not None and int(count) >= self._limits[scope]:
                wait = max(wait, ttl if ttl > 0 else self._window)
        if wait:
            raise TooManyAttempts(wait)

    async def failed(self, name: str, address: str) -> None:
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=True)
            for key in self._keys(name, address).values():
                # The window starts with the first failure (EXPIRE NX needs Redis 7).
                pipe.set(key, 0, ex=self._window, nx=True)
                pipe.incr(key)
            await pipe.execute()

    async def succeeded(self, name: str) -> None:
        """A correct password clears the name's counter (not the address's)."""
        async with self._store.guard():
            await self._store.redis.delete(keys.login_failures("name", name.lower()[:64]))
