"""The Store against the real Redis: what a crashed gateway leaves behind, and a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.ops.embedded_redis import EmbeddedRedis
from handoff import LockTimeout
from handoff.store import Store


async def hold_and_die(url: str, owner: str, key: str) -> None:
    """Hold the lock as `owner` and never release it, as a process killed mid-turn does."""
    store = Store.from_url(url, owner=owner)
    await store.redis.set(key, store.lock_token(), px=60_000)
    await store.close()


async def test_a_restarted_owner_takes_its_dead_runs_lock_back_at_once(redis_url: str) -> None:
    await hold_and_die(redis_url, "host:8080", "k")
    restarted = Store.from_url(redis_url, owner="host:8080")
    try:
        # wait=1: were the dead run's lock (ttl 60 s) waited for, this would raise LockTimeout.
        async with restarted.lock("k", ttl=60, wait=1):
            assert (await restarted.redis.get("k") or "").startswith("host:8080/")
    finally:
        await restarted.close()


async def test_another_owners_lock_is_waited_for(redis_url: str) -> None:
    await hold_and_die(redis_url, "host:8080", "k")
    for owner in ("host:80", ""):
        other = Store.from_url(redis_url, owner=owner)
        try:
            with pytest.raises(LockTimeout):
                async with other.lock("k", ttl=60, wait=0.2):
                    pass
        finally:
            await other.close()


async def test_a_later_runs_lock_is_not_taken_by_an_earlier_run(redis_url: str) -> None:
    earlier = Store.from_url(redis_url, owner="host:8080")
    await hold_and_die(redis_url, "host:8080", "k")  # a later run holds it
    try:
        with pytest.raises(LockTimeout):
            async with earlier.lock("k", ttl=60, wait=0.2):
                pass
    finally:
        await earlier.close()


async def test_connections_redis_closed_in_a_restart_are_replaced_not_failed(
    tmp_path: Path,
) -> None:
    server = EmbeddedRedis(tmp_path / "redis").start()
    store = Store.from_url(server.url)
    try:
        await asyncio.gather(*(store.redis.set(f"k{i}", i) for i in range(4)))  # a pool of 4
        server.stop()
        server = EmbeddedRedis(tmp_path / "redis", port=server.port).start()
        # Each pooled connection is dead; without a retry the first command fails with
        # "Connection closed by server" though Redis is up again.
        assert await asyncio.gather(*(store.redis.get(f"k{i}") for i in range(4))) == [
            "0", "1", "2", "3"
        ]  # fmt: skip
    finally:
        await store.close()
        server.stop()
