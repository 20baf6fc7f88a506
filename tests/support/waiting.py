"""Waiting for what background work does: a worker's send, a callback, a live event."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0) -> None:
    """Return once `check()` (plain or async) is true; fail the test after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        done = check()
        if inspect.isawaitable(done):
            done = await done
        if done:
            return
        assert loop.time() < deadline, f"condition not reached within {timeout} s"
        await asyncio.sleep(0.02)
