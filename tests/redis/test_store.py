"""The Store's lock against the real Redis: what a crashed run of a gateway leaves behind."""

from __future__ import annotations

import pytest

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
