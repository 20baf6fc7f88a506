"""The satisfaction question against real Redis: an agent closes in the inbox, the question
goes out on the customer's channel, the customer's tap comes back through the router (never
to the bot), is stored once on the handoff and shows in the report."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer

from bot.core.hours import ServiceHours
from bot.core.messages import (
    ConversationKey,
    HandoffSignal,
    Inbound,
    Outbound,
    Turn,
    Understanding,
)
from bot.gateway.router import Router, Team
from handoff import Conversations, Transcript, csat, keys
from handoff.analytics import Period
from handoff.csat import Answer, Surveys
from handoff.handoffs import Handoffs
from handoff.inbox import InboxSettings
from handoff.outbox import Outbox
from handoff.presence import Presence
from handoff.report import build
from handoff.store import Store, now_ms
from tests.redis.test_router import RecordingBot
from tests.support.builders import make_inbound
from tests.support.inbox import Browser, add_agent, conv_path, make_app, make_services

SignIn = Callable[..., Awaitable[Browser]]


async def _serve(store: Store, **settings: bool) -> TestServer:
    services = make_services(
        store, reply_window={"whatsapp": 24 * 3600.0}, settings=InboxSettings(**settings)
    )
    server = TestServer(make_app(services))
    await server.start_server()
    return server


@pytest.fixture
async def agent(store: Store) -> AsyncIterator[Browser]:
    server = await _serve(store)
    await add_agent(store, "ana")
    browser = Browser(server)
    assert (await browser.login("ana")).status == 303
    yield browser
    await browser.close()
    await server.close()


def rating_router(store: Store, bot: RecordingBot) -> tuple[Router, Transcript]:
    """The router as the app wires it: with the surveys that record taps."""
    transcript = Transcript(store)
    team = Team(ServiceHours.parse("mon-sat 00:00-23:59", "Asia/Jakarta"), Presence(store))
    router = Router(
        Conversations(store), transcript, Handoffs(store), bot, team, outbox=Outbox(store),
        timeout=5, surveys=Surveys(store, Outbox(store)),
    )  # fmt: skip
    return router, transcript


async def _hand_over(store: Store, chat_id: str, channel: str = "webchat") -> ConversationKey:
    """A customer asks the bot for a person (through the router, as in production)."""
    router, _ = rating_router(store, RecordingBot(_asks_for_human))
    inbound = make_inbound("saya mau bicara dengan petugas", ConversationKey(channel, chat_id))
    turn = await router.handle(inbound)
    assert turn.handoff is not None
    return inbound.conversation


def _asks_for_human(inbound: Inbound) -> Turn:
    return Turn(
        replies=(Outbound(inbound.conversation, "Baik"),),
        understanding=Understanding(None),
        handoff=HandoffSignal("asked_for_human", ""),
    )


async def _history(store: Store, key: ConversationKey) -> dict[str, str]:
    return await store.redis.hgetall(keys.handoff_history(key.id))


async def test_close_asks_the_tap_is_stored_once_and_shows_in_the_report(
    store: Store, agent: Browser
) -> None:
    key = await _hand_over(store, "5550001", "telegram")
    await agent.call("POST", conv_path(key, "claim"))
    await agent.call("POST", conv_path(key, "reply"), {"text": "Sudah saya kirim ulang"})
    status, body = await agent.call("POST", conv_path(key, "close"), {"resolution": "solved"})
    assert (status, body) == (200, {"status": "closed", "csat": "asked"})

    # The question is a bot line with five buttons, queued for delivery on the channel.
    _, view = await agent.call("GET", conv_path(key))
    question = view["entries"][-1]
    assert question["role"] == "bot" and question["text"] == csat.QUESTION["id"]
    [handoff_id] = (await _history(store, key)).keys()
    assert [b["payload"] for b in question["buttons"]] == [
        f"/loket_csat:{handoff_id}:{n}" for n in (1, 2, 3, 4, 5)
    ]
    assert question["delivery"]["state"] == "queued"
    outbox = await store.redis.xrange(keys.outbox())
    assert outbox[-1][1] == {"conversation": key.id, "entry": question["id"]}

    # The customer taps 4: recorded, thanked, and the bot (Rasa) never sees it.
    bot = RecordingBot()
    router, transcript = rating_router(store, bot)
    tap = make_inbound("4 🙂", key, payload=csat.payload(handoff_id, 4), message_id="tap-1")
    turn = await router.handle(tap)
    assert bot.received == []
    assert [r.text for r in turn.replies] == [csat.THANKS["id"]]
    entries = await transcript.read(key)
    assert (entries[-2].payload, entries[-1].text) == (tap.payload, csat.THANKS["id"])

    # A second tap (or a 5 after the 4) changes nothing: the first one counts.
    again = make_inbound("5 😀", key, payload=csat.payload(handoff_id, 5), message_id="tap-2")
    await router.handle(again)
    assert bot.received == []
    record = json.loads((await _history(store, key))[handoff_id])
    assert record["csat"] == 4 and record["csat_at"] >= record["csat_asked_at"]

    report = await build(store, Period.last_days(1, "Asia/Jakarta"))
    assert report.csat == {
        "asked": 1, "answered": 1, "response_rate": 1.0, "average": 4.0,
        "scores": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
    }  # fmt: skip
    assert report.resolutions == [{"resolution": "solved", "handoffs": 1}]
    assert report.first_reply["replied"] == 1
    # the taps are not conversation activity: one customer message that day
    assert report.totals["messages"] == 1


async def test_taps_that_were_never_asked_change_nothing(store: Store) -> None:
    key = await _hand_over(store, "forged")
    [handoff_id] = (await _history(store, key)).keys()
    surveys = Surveys(store, Outbox(store))
    assert await surveys.answer(key, handoff_id, 5) is Answer.UNKNOWN  # not asked yet
    assert await surveys.answer(key, "0123456789ab", 5) is Answer.UNKNOWN  # no such handoff
    bot = RecordingBot()
    router, _ = rating_router(store, bot)
    # A malformed CSAT payload never reaches the bot either; the agents see it (waiting).
    turn = await router.handle(make_inbound("x", key, payload="/loket_csat:zz:9"))
    assert bot.received == [] and turn.paused
    assert "csat" not in json.loads((await _history(store, key))[handoff_id])
    await surveys.ask(key, handoff_id, "en")
    assert await surveys.answer(key, handoff_id, 2) is Answer.RECORDED
    assert await surveys.answer(key, handoff_id, 3) is Answer.ALREADY


@pytest.mark.parametrize(
    ("resolution", "channel", "expected"),
    [("spam", "webchat", "resolution"), ("no-reply", "telegram", "resolution"),
     ("other", "whatsapp", "window_closed")],
)  # fmt: skip
async def test_no_question_after_spam_or_no_reply_or_outside_the_reply_window(
    store: Store, agent: Browser, resolution: str, channel: str, expected: str
) -> None:
    key = await _hand_over(store, "6281234567890", channel)
    # the customer's last message was 25 hours ago: WhatsApp's window is closed
    await store.redis.hset(keys.conversation(key.id), "last_customer_at", now_ms() - 25 * 3600_000)
    await agent.call("POST", conv_path(key, "claim"))
    status, body = await agent.call("POST", conv_path(key, "close"), {"resolution": resolution})
    assert (status, body) == (200, {"status": "closed", "csat": expected})
    _, view = await agent.call("GET", conv_path(key))
    assert not any("csat" in e["meta"] for e in view["entries"])


async def test_switched_off_it_asks_nothing(store: Store) -> None:
    server = await _serve(store, csat=False)
    await add_agent(store, "budi", "admin")
    browser = Browser(server)
    try:
        assert (await browser.login("budi")).status == 303
        key = await _hand_over(store, "quiet")
        status, body = await browser.call("POST", conv_path(key, "close"), {"resolution": "solved"})
        assert (status, body) == (200, {"status": "closed", "csat": "off"})
    finally:
        await browser.close()
        await server.close()


async def test_the_question_speaks_the_conversations_language(store: Store) -> None:
    key = await _hand_over(store, "english")
    await store.redis.hset(keys.conversation(key.id), "language", "en")
    [handoff_id] = (await _history(store, key)).keys()
    surveys = Surveys(store, Outbox(store))
    await surveys.ask(key, handoff_id, "en")
    router, transcript = rating_router(store, RecordingBot())
    turn = await router.handle(make_inbound("5", key, payload=csat.payload(handoff_id, 5)))
    # still waiting (the handoff was never closed): recorded, and the agents see the tap
    assert turn.paused and turn.replies == ()
    entries = await transcript.read(key)
    assert entries[-2].text == csat.QUESTION["en"]
    assert json.loads((await _history(store, key))[handoff_id])["csat"] == 5
