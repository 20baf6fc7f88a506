"""Two Rasa workers behind the gateway: a killed one is routed around, restarted, taken back."""

from __future__ import annotations

import os
import signal

from aiohttp.test_utils import TestClient

from bot.ops.stack import RASA_START_TIMEOUT, Stack
from tests.support.chat import Customer
from tests.support.waiting import eventually


async def test_a_killed_rasa_worker_is_routed_around_then_restarted(
    stack: Stack, client: TestClient
) -> None:
    first, second = stack.child("rasa server 1"), stack.child("rasa server 2")
    assert first is not None and second is not None and first.running() and second.running()
    killed = second.pid
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    await eventually(lambda: not second.running() or second.pid != killed, timeout=10)

    # Every conversation is answered meanwhile: the pool sends the dead worker's to the other.
    for n in range(8):
        customer = Customer(client, f"w{n}")
        assert await customer.say("halo"), n

    # The stack's supervisor starts it again; the pool takes it back once it answers.
    await eventually(lambda: second.running() and second.pid != killed, RASA_START_TIMEOUT)

    async def both_up() -> bool:
        health = await (await client.get("/healthz")).json()
        return len(health["model"]["workers"]["up"]) == 2

    await eventually(both_up, timeout=RASA_START_TIMEOUT)
