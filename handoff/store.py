"""The Redis connection: the one module that imports redis, and turns its errors into ours."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator

import redis
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import ResponseError as ResponseError  # re-exported for handoff modules
from redis.exceptions import TimeoutError as RedisTimeoutError

from handoff.errors import LockTimeout, StoreUnavailable

log = logging.getLogger(__name__)

_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)

Redis = aioredis.Redis  # decode_responses=True: every reply is str


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
    """Owns one Redis client; every caller reaches Redis through `guard()` or `lock()`."""

    def __init__(self, client: Redis[str]) -> None:
        self.redis = client

    @classmethod
    def from_url(cls, url: str) -> Store:
        client = aioredis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=15,
        )
        return cls(client)

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

    @contextlib.asynccontextmanager
    async def lock(self, key: str, *, ttl: float, wait: float) -> AsyncIterator[None]:
        """Hold a Redis lock (visible to every replica) for the duration of the block.

        The lock expires after `ttl` seconds even if this process dies holding it.
        """
        lock = self.redis.lock(key, timeout=ttl, blocking_timeout=wait)
        async with self.guard():
            acquired = await lock.acquire()
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
