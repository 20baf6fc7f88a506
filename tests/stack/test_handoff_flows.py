"""Handoff signals end to end with the trained model: the bot notices, hands over, goes silent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.app import ROUTER
from bot.core.messages import ConversationKey
from bot.core.settings import Settings
from bot.ops.stack import Stack
from handoff.handoffs import Handoff, Handoffs
from handoff.store import Store
from tests.support.chat import BUDI, Customer


@pytest.fixture
def customer(client: TestClient, request: pytest.FixtureRequest) -> Customer:
    return Customer(client, request.node.name.replace("[", "-").replace("]", "")[:60])


@pytest.fixture
def provider_down(stack: Stack) -> Iterator[None]:
    """The utility's system goes down for the length of the test."""
    sandbox = stack.child("sandbox provider")
    assert sandbox is not None
    sandbox.stop()
    yield
    sandbox.start(timeout=60)


def key_of(customer: Customer) -> ConversationKey:
    return ConversationKey("webchat", customer.chat_id)


async def handoff_of(settings: Settings, customer: Customer) -> Handoff | None:
    store = Store.from_url(settings.redis_url or "")
    try:
        return await Handoffs(store).get(key_of(customer))
    finally:
        await store.close()


async def rasa_tracker(settings: Settings, customer: Customer) -> dict[str, Any]:
    url = f"{settings.rasa_url}/conversations/webchat:{customer.chat_id}/tracker"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, params={"token": settings.rasa_token}) as resp,
    ):
        assert resp.status == 200
        tracker: dict[str, Any] = await resp.json()
        return tracker


async def test_provider_down_is_told_plainly_and_handed_over(
    customer: Customer, settings: Settings, provider_down: None
) -> None:
    await customer.say("mau beli token")
    reply = await customer.say(BUDI)
    assert "sistem kami sedang tidak bisa dihubungi" in reply
    assert "antrean nomor" in reply
    handoff = await handoff_of(settings, customer)
    assert handoff is not None and handoff.reason == "backend_failure"


async def test_asking_for_a_person_pauses_rasa_and_hand_back_resumes_with_context(
    customer: Customer, settings: Settings, client: TestClient
) -> None:
    await customer.say("mau beli token 50rb")
    await customer.say(BUDI)  # the form now waits for a confirmation
    reply = await customer.say("mau ngomong sama CS aja")
    assert "antrean nomor 1" in reply
    handoff = await handoff_of(settings, customer)
    assert handoff is not None and handoff.reason == "asked_for_human"
    assert handoff.summary.collected["meter_number"] == BUDI
    assert handoff.summary.collected["amount"] == "50000"
    assert "buy_token" in [w.name for w in handoff.summary.wanted]
    assert (await rasa_tracker(settings, customer))["paused"] is True

    assert await customer.say("halo? ada orang?") == ""  # silent: a person owns it

    await client.server.app[ROUTER].hand_back(key_of(customer), by="ana")
    assert (await rasa_tracker(settings, customer))["paused"] is False
    # Rasa kept what it knew: the meter and amount are still there.
    slots = (await rasa_tracker(settings, customer))["slots"]
    assert slots["meter_number"] == BUDI and slots["amount"] == "50000"
    assert await customer.say("cek tagihan 532100556677")  # and it answers again


async def test_not_understood_twice_goes_to_a_person(
    customer: Customer, settings: Settings
) -> None:
    first = await customer.say("asdkjh qwe zzz")
    assert "Maaf" in first and len(customer.buttons) == 2  # rephrase, with two topics
    second = await customer.say("xyzzy plugh qwerty")
    assert "belum bisa memahami" in second and first not in second
    handoff = await handoff_of(settings, customer)
    assert handoff is not None and handoff.reason == "not_understood"
    assert handoff.summary.failed_turns == 2


async def test_frustration_gets_one_apology_and_a_person(
    customer: Customer, settings: Settings
) -> None:
    await customer.say("mau beli token")
    reply = await customer.say("kok jawabannya sama terus sih")
    assert reply.count("Maaf") == 1
    handoff = await handoff_of(settings, customer)
    assert handoff is not None and handoff.reason == "frustrated"


async def test_a_form_going_in_circles_goes_to_a_person(
    customer: Customer, settings: Settings
) -> None:
    await customer.say("mau beli token")
    await customer.say("12345")
    reply = await customer.say("99999999999")
    assert "antrean nomor" in reply
    handoff = await handoff_of(settings, customer)
    assert handoff is not None and handoff.reason == "looping"
