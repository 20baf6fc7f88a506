"""The inbox's API for what agents coming from Chatwoot expect, over HTTP against real Redis:
their language, search and filters, the customer across conversations, approved templates after
WhatsApp's window, read marks, the typing signal, canned replies with variables."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer

from bot.core.messages import ConversationKey
from bot.core.templates import TemplateSpec
from handoff import Entry, Role, Transcript, keys
from handoff.conversations import Conversations
from handoff.handoffs import Handoffs
from handoff.inbox import InboxSettings
from handoff.store import Store, now_ms
from handoff.summary import Summary
from tests.support.builders import RecordingSender
from tests.support.inbox import Browser, add_agent, conv_path, make_app, make_services, open_handoff
from tests.support.waiting import eventually

SignIn = Callable[..., Awaitable[Browser]]
DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def whatsapp() -> RecordingSender:
    templates = (TemplateSpec("loket_reopen", "id"),
                 TemplateSpec("loket_follow_up", "id", ("name", "ticket")))  # fmt: skip
    return RecordingSender(channel="whatsapp", reply_window=24 * 3600.0, templates=templates)


@pytest.fixture
def telegram() -> RecordingSender:
    return RecordingSender(channel="telegram")


@pytest.fixture
async def sign_in(
    store: Store, whatsapp: RecordingSender, telegram: RecordingSender
) -> AsyncIterator[SignIn]:
    services = make_services(
        store, reply_window={"whatsapp": 24 * 3600.0},
        senders={"whatsapp": whatsapp, "telegram": telegram},
        settings=InboxSettings("Asia/Makassar", sla_minutes=7, auto_assign=True),
    )  # fmt: skip
    server = TestServer(make_app(services))
    await server.start_server()
    opened: list[Browser] = []

    async def go(name: str, role: str = "agent") -> Browser:
        await add_agent(store, name, role)
        browser = Browser(server)
        opened.append(browser)
        assert (await browser.login(name)).status == 303
        return browser

    yield go
    for b in opened:
        await b.close()
    await server.close()


async def test_me_carries_the_agents_preferences_and_the_teams_settings(sign_in: SignIn) -> None:
    ana = await sign_in("ana")
    _, me = await ana.call("GET", "me")
    assert me["preferences"] == {"language": "id", "auto_assign": True}  # Indonesian by default
    assert me["team"] == {"timezone": "Asia/Makassar", "zone": "WITA", "sla_minutes": 7,
                          "auto_assign": True}  # fmt: skip
    status, body = await ana.call("PUT", "me/preferences", {"language": "en", "auto_assign": False})
    assert status == 200 and body["preferences"] == {"language": "en", "auto_assign": False}
    _, me = await ana.call("GET", "me")
    assert me["preferences"]["language"] == "en"
    status, body = await ana.call("PUT", "me/preferences", {"language": "fr"})
    assert status == 400 and body["code"] == "preference"
    assert body["params"] == {"name": "language", "choices": "id, en"}


async def test_search_over_http_with_filters_and_the_matching_line(
    store: Store, sign_in: SignIn
) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "s1", texts=("Token belum masuk", "tolong cek meteran saya"))
    await open_handoff(store, "s2", channel="telegram", reason="not_understood")
    await Conversations(store).remember(key, "{}", "id", {"meter_number": "53210055667"})
    status, body = await ana.call("GET", "search?q=TOKEN+belum")
    assert status == 200 and [c["id"] for c in body["conversations"]] == [key.id]
    card = body["conversations"][0]
    assert card["snippet"]["text"] == "Token belum masuk" and card["status"] == "waiting"
    assert not body["more"]
    _, body = await ana.call("GET", "search?meter=532-1005-5667")
    assert [c["id"] for c in body["conversations"]] == [key.id]
    _, body = await ana.call("GET", "search?reason=not_understood&channel=telegram")
    assert [c["id"] for c in body["conversations"]] == ["telegram:s2"]
    today = now_ms()
    _, body = await ana.call("GET", f"search?status=waiting&from={day(today)}&to={day(today)}")
    assert len(body["conversations"]) == 2
    _, body = await ana.call("GET", f"search?to={day(today - 2 * DAY_MS)}")
    assert body["conversations"] == []
    for query, code in (("status=sleeping", "bad_filter"), ("from=31-12-2026", "bad_date"),
                        ("q=" + "x" * 201, "query_too_long"), ("agent=a%20b", "agent_name"),
                        ("limit=500", "bad_filter")):  # fmt: skip
        status, body = await ana.call("GET", "search?" + query)
        assert status == 400 and body["code"] == code, query


def day(ms: int) -> str:
    """The date in the team's zone (Asia/Makassar, UTC+8) as the page's date field sends it."""
    from datetime import datetime, timedelta, timezone

    return datetime.fromtimestamp(ms / 1000, timezone(timedelta(hours=8))).date().isoformat()


async def test_the_contact_panel_shows_the_customer_across_conversations(
    store: Store, sign_in: SignIn
) -> None:
    ana = await sign_in("ana")
    wa = await open_handoff(store, "6281234567890", channel="whatsapp")
    tg = ConversationKey("telegram", "777001")
    await Transcript(store).append(tg, [Entry(Role.CUSTOMER, "token ga masuk")], name="Budi")
    for conversation in (wa, tg):
        await Conversations(store).remember(conversation, "{}", "id",
                                            {"meter_number": "53210055667"})  # fmt: skip
    await Handoffs(store).request(tg, reason="frustrated", detail="", language="id",
                                  summary=Summary(), note="Handed over")  # fmt: skip
    status, body = await ana.call("GET", conv_path(wa, "contact"))
    assert status == 200
    assert body["contact"]["refs"] == {"meter": ["53210055667"]}
    assert body["contact"]["variables"]["meter"] == "53210055667"
    assert [c["id"] for c in body["conversations"]] == [tg.id]
    assert {h["conversation"] for h in body["handoffs"]} == {wa.id, tg.id}
    assert body["recent"] == {"days": 7, "handoffs": 2}
    status, body = await ana.call("GET", "conversations/webchat:nobody/contact")
    assert status == 404 and body["code"] == "no_conversation"


async def test_after_the_window_only_an_approved_template_is_offered_and_sent(
    store: Store, sign_in: SignIn, whatsapp: RecordingSender
) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "6285711223344", channel="whatsapp")
    await ana.call("POST", conv_path(key, "claim"))
    await store.redis.hset(keys.conversation(key.id), "last_customer_at", now_ms() - 2 * DAY_MS)
    _, view = await ana.call("GET", conv_path(key))
    assert view["reply_window"]["expired"]
    assert [t["key"] for t in view["templates"]] == ["loket_reopen:id", "loket_follow_up:id"]
    status, body = await ana.call("POST", conv_path(key, "template"),
                                  {"template": "loket_follow_up:id"})  # fmt: skip
    assert status == 400 and body["code"] == "template_variable"  # no name, no ticket yet
    status, body = await ana.call("POST", conv_path(key, "template"), {"template": "nope:id"})
    assert status == 404 and body["code"] == "no_template"
    await store.redis.hset(keys.conversation(key.id), "name", "Dewi")
    await Conversations(store).remember(key, "{}", "id", {"ticket_id": "TKT000123"})
    status, body = await ana.call("POST", conv_path(key, "template"),
                                  {"template": "loket_follow_up:id"})  # fmt: skip
    assert status == 201 and body["delivery"]["state"] == "queued"
    [line] = [e for e in await Transcript(store).read(key) if e.id == body["entry_id"]]
    assert line.role is Role.AGENT and line.text == "[template loket_follow_up:id] Dewi · TKT000123"
    assert line.meta["template"] == {"name": "loket_follow_up", "language": "id",
                                     "params": ["Dewi", "TKT000123"]}  # fmt: skip
    trainer = await sign_in("tari", "trainer")
    status, body = await trainer.call("POST", conv_path(key, "template"),
                                      {"template": "loket_reopen:id"})  # fmt: skip
    assert status == 403 and body["code"] == "trainer_read_only"


async def test_opening_a_whatsapp_conversation_marks_the_customers_message_read_once(
    store: Store, sign_in: SignIn, whatsapp: RecordingSender
) -> None:
    key = ConversationKey("whatsapp", "6281299887766")
    await Transcript(store).append(key, [Entry(Role.CUSTOMER, "halo",
                                               meta={"message_id": "wamid.A1"})])  # fmt: skip
    await Handoffs(store).request(key, reason="asked_for_human", detail="", language="id",
                                  summary=Summary(), note="Handed over")  # fmt: skip
    trainer = await sign_in("tari", "trainer")
    await trainer.call("GET", conv_path(key))
    ana = await sign_in("ana")
    await ana.call("GET", conv_path(key))
    await eventually(lambda: whatsapp.signals == [("read", "wamid.A1")])
    await ana.call("GET", conv_path(key))  # nothing new: not marked again
    await Transcript(store).append(key, [Entry(Role.CUSTOMER, "masih di sana?",
                                               meta={"message_id": "wamid.A2"})])  # fmt: skip
    await ana.call("GET", conv_path(key))
    await eventually(lambda: whatsapp.signals == [("read", "wamid.A1"), ("read", "wamid.A2")])


async def test_typing_reaches_the_channel_at_most_every_few_seconds(
    store: Store, sign_in: SignIn, telegram: RecordingSender
) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "777002", channel="telegram")
    status, body = await ana.call("POST", conv_path(key, "typing"))
    assert status == 403 and body["code"] == "claim_first"
    await ana.call("POST", conv_path(key, "claim"))
    assert await ana.call("POST", conv_path(key, "typing")) == (200, {"sent": True})
    assert await ana.call("POST", conv_path(key, "typing")) == (200, {"sent": False})
    assert telegram.signals == [("typing", key.id)]
    assert 0 < await store.redis.ttl(keys.typing_sent(key.id)) <= 4


async def test_canned_replies_may_use_the_contacts_variables_only(sign_in: SignIn) -> None:
    boss = await sign_in("boss", "admin")
    good = {"title": "Meter", "id": "Meter Anda {meter}, {name}?", "en": "Ticket {ticket}"}
    status, _ = await boss.call("PUT", "canned/meter", good)
    assert status == 200
    status, body = await boss.call("PUT", "canned/bad", {"title": "x", "id": "Halo {nama}"})
    assert status == 400 and body["code"] == "canned_variable"
    assert body["params"] == {"name": "nama", "known": "name, meter, ticket"}
    assert body["error"] == "unknown variable {nama} in the text (known: name, meter, ticket)"
