"""The Redis connection: the one module that imports redis, and turns its errors into ours."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import ResponseError as ResponseError  # re-exported for handoff modules
from redis.exceptions import TimeoutError as RedisTimeoutError

from handoff.errors import LockTimeout, StoreUnavailable

log = logging.getLogger(__name__)

_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)

Redis = aioredis.Redis  # decode_responses=True: every reply is str

# KEYS: a lock. ARGV: "<owner>/", this run's incarnation. A lock whose token says an earlier run
# of the same owner holds it is deleted: that run died holding it (one owner, one live process).
_TAKE_BACK = """
local held = redis.call('GET', KEYS[1])
if not held or string.sub(held, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
if string.sub(held, #ARGV[1] + 1, #ARGV[1] + #ARGV[2]) >= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


def now_ms() -> int:
    """The time as Loket stores it: milliseconds since the epoch."""
    return int(time.time() * 1000)


def check_reachable(url: str) -> None:
    """Blocking PING, for start-up before any event loop runs; raises StoreUnavailable."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except _UNAVAILABLE as exc:
        raise StoreUnavailable(str(exc)) from exc
    finally:
        client.close()


class Store:
    """Owns one Redis client; every caller reaches Redis through `guard()` or `lock()`.

    `owner` names this process among the replicas (the gateway's "<host>:<port>", stable across
    restarts); with it, locks and stream leases that an earlier run of the same owner left when
    it died are taken back at once instead of after their TTL."""

    def __init__(self, client: Redis[str], *, owner: str = "") -> None:
        self.redis = client
        self.owner = owner
        self.incarnation = f"{time.time_ns():020d}"  # this run of the owner; later runs sort after
        self._take_back = client.register_script(_TAKE_BACK)

    @classmethod
    def from_url(cls, url: str, *, owner: str = "") -> Store:
        client = aioredis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=15,
            # A connection Redis closed (a restart, a failover) fails its next command before
            # Redis sees it: try once more on a fresh connection instead of failing the caller.
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
            retry_on_error=[RedisConnectionError],
        )
        return cls(client, owner=owner)

    async def ping(self) -> None:
        async with self.guard():
            await self.redis.ping()

    async def close(self) -> None:
        await self.redis.close()
        await self.redis.connection_pool.disconnect()

    @contextlib.asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Turn Redis connection failures into StoreUnavailable."""
        try:
            yield
        except _UNAVAILABLE as exc:
            raise StoreUnavailable(f"Redis is unreachable: {exc}") from exc

    def lock_token(self) -> str:
        """A new token for a lock held by this run of the owner: "<owner>/<incarnation>/<uuid>"."""
        return f"{self.owner}/{self.incarnation}/{uuid.uuid4().hex}"

    @contextlib.asynccontextmanager
    async def lock(self, key: str, *, ttl: float, wait: float) -> AsyncIterator[None]:
        """Hold a Redis lock (visible to every replica) for the duration of the block.

        The lock expires after `ttl` seconds even if this process dies holding it; with an
        `owner`, the next run of this process takes it back at once.
        """
        lock = self.redis.lock(key, timeout=ttl, blocking_timeout=wait)
        token = self.lock_token() if self.owner else None
        async with self.guard():
            acquired = await lock.acquire(blocking=False, token=token)
            if not acquired:
                if self.owner:
                    await self._take_back(keys=[key], args=[f"{self.owner}/", self.incarnation])
                acquired = await lock.acquire(token=token)
        if not acquired:
            raise LockTimeout(f"{key} is held by another turn")
        try:
            yield
        finally:
            try:
                async with self.guard():
                    await lock.release()
            except (LockError, StoreUnavailable):
                # Expired or Redis gone: the TTL frees it either way.
                log.warning("could not release %s cleanly", key)
