"""The router against real Redis, with a recording double of our own Bot interface."""

from __future__ import annotations

import asyncio

import pytest

from bot.errors import BotUnavailable
from bot.messages import Inbound, Turn
from bot.router import Router
from handoff import Conversations, Role, Transcript
from handoff.store import Store
from tests.builders import make_inbound, make_key, make_turn


class RecordingBot:
    """Answers every message with an echo; remembers overlapping turns per conversation."""

    def __init__(self, *, delay: float = 0.0, fail: bool = False) -> None:
        self.received: list[str] = []
        self.active: set[str] = set()
        self.overlaps = 0
        self._delay = delay
        self._fail = fail

    async def send(self, inbound: Inbound) -> Turn:
        cid = inbound.conversation.id
        if cid in self.active:
            self.overlaps += 1
        self.active.add(cid)
        try:
            await asyncio.sleep(self._delay)
            if self._fail:
                raise BotUnavailable("down")
            self.received.append(inbound.bot_text)
            return make_turn(inbound.conversation, f"echo: {inbound.text}", intent="greet")
        finally:
            self.active.discard(cid)


def make_router(store: Store, bot: RecordingBot) -> tuple[Router, Transcript]:
    transcript = Transcript(store)
    return Router(Conversations(store), transcript, bot, timeout=5), transcript


async def test_inbound_and_replies_are_recorded_with_the_parse(store: Store) -> None:
    router, transcript = make_router(store, RecordingBot())
    inbound = make_inbound("halo", message_id="tg-1")
    turn = await router.handle(inbound)
    assert [r.text for r in turn.replies] == ["echo: halo"]
    entries = await transcript.read(inbound.conversation)
    assert [(e.role, e.text) for e in entries] == [
        (Role.CUSTOMER, "halo"),
        (Role.BOT, "echo: halo"),
    ]
    assert entries[0].meta == {"message_id": "tg-1"}
    assert (entries[1].intent, entries[1].confidence) == ("greet", 0.97)


async def test_button_press_records_title_and_sends_payload(store: Store) -> None:
    bot = RecordingBot()
    router, transcript = make_router(store, bot)
    inbound = make_inbound("Ya", payload="/affirm")
    await router.handle(inbound)
    assert bot.received == ["/affirm"]
    first = (await transcript.read(inbound.conversation))[0]
    assert (first.text, first.payload) == ("Ya", "/affirm")


async def test_bot_down_keeps_the_message_and_records_why(store: Store) -> None:
    router, transcript = make_router(store, RecordingBot(fail=True))
    inbound = make_inbound("halo")
    with pytest.raises(BotUnavailable):
        await router.handle(inbound)
    entries = await transcript.read(inbound.conversation)
    assert [e.role for e in entries] == [Role.CUSTOMER, Role.SYSTEM]


async def test_one_conversation_is_handled_one_message_at_a_time(store: Store) -> None:
    bot = RecordingBot(delay=0.05)
    router, transcript = make_router(store, bot)
    key = make_key()
    other = make_key()
    texts = [f"m{i}" for i in range(5)]
    await asyncio.gather(
        *(router.handle(make_inbound(t, key)) for t in texts),
        router.handle(make_inbound("elsewhere", other)),
    )
    assert bot.overlaps == 0
    entries = await transcript.read(key)
    # Each customer message is directly followed by its own reply.
    pairs = [(entries[i].text, entries[i + 1].text) for i in range(0, len(entries), 2)]
    assert sorted(pairs) == [(t, f"echo: {t}") for t in texts]


async def test_two_routers_sharing_redis_also_serialise(store: Store, redis_url: str) -> None:
    """Two replicas (two routers, two connections) never overlap on one conversation."""
    bot = RecordingBot(delay=0.05)
    router_a, _ = make_router(store, bot)
    other_store = Store.from_url(redis_url)
    router_b, _ = make_router(other_store, bot)
    key = make_key()
    try:
        await asyncio.gather(
            *(r.handle(make_inbound(f"m{i}", key)) for i, r in enumerate([router_a, router_b] * 3))
        )
    finally:
        await other_store.close()
    assert bot.overlaps == 0
    assert len(bot.received) == 6
