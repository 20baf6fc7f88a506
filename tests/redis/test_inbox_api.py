"""The inbox's JSON API over HTTP against real Redis: queue, claim, read, reply, notes,
transfer, hand back, close, delivery retry, canned replies, agents, media."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer

from bot.core import reasons
from bot.core.channel import DeliveryState, Media
from bot.core.messages import ConversationKey
from handoff import Entry, Role, Transcript
from handoff.conversations import Conversations
from handoff.outbox import Delivery, Outbox
from handoff.store import Store, now_ms
from tests.support.inbox import (
    Browser,
    add_agent,
    conv_path,
    make_app,
    make_services,
    open_handoff,
)

SignIn = Callable[..., Awaitable[Browser]]


@pytest.fixture
async def server(store: Store) -> AsyncIterator[TestServer]:
    pdf = Media(b"%PDF-1.4 bill", "application/pdf", "bill.pdf")
    photo = Media(b"\x89PNG\r\n\x1a\nfake", "image/png", "meter.png")
    services = make_services(
        store, reply_window={"whatsapp": 24 * 3600.0}, media={"f-pdf": pdf, "f-png": photo}
    )
    server = TestServer(make_app(services))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def sign_in(store: Store, server: TestServer) -> AsyncIterator[SignIn]:
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


async def test_queue_lists_waiting_conversations_oldest_first(
    store: Store, sign_in: SignIn
) -> None:
    ana = await sign_in("ana")
    first = await open_handoff(store, "first")
    await open_handoff(store, "second", channel="telegram", reason="not_understood")
    status, body = await ana.call("GET", "queue")
    assert status == 200
    cards = body["conversations"]
    assert [c["id"] for c in cards] == ["webchat:first", "telegram:second"]
    card = cards[0]
    assert card["reason"] == "asked_for_human" and card["language"] == "id"
    assert card["channel"] == "webchat" and card["unread"] == 2
    assert card["summary"] == "buy_token (0.91) · meter_number=12345678901 · 1 not understood"
    assert 0 <= body["now"] - card["created_at"] < 60_000
    await ana.call("GET", conv_path(first))  # reading it marks it read
    _, body = await ana.call("GET", "queue")
    assert [c["unread"] for c in body["conversations"]] == [0, 2]


async def test_two_agents_claiming_at_once_one_wins_the_other_is_told_who(
    store: Store, sign_in: SignIn
) -> None:
    ana, budi = await sign_in("ana"), await sign_in("budi")
    key = await open_handoff(store, "race")
    results = await asyncio.gather(
        ana.call("POST", conv_path(key, "claim")), budi.call("POST", conv_path(key, "claim"))
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409]
    (_, won), (_, lost) = sorted(results, key=lambda r: r[0])
    winner = won["assignee"]
    assert lost == {"error": f"already claimed by {winner}", "assignee": winner,
                    "code": "already_claimed", "params": {"name": winner}}  # fmt: skip
    _, queue = await ana.call("GET", "queue")
    assert queue["conversations"] == []
    winner_browser = ana if winner == "ana" else budi
    _, mine = await winner_browser.call("GET", "mine")
    assert [c["id"] for c in mine["conversations"]] == [key.id]


async def test_conversation_shows_transcript_summary_and_abilities(
    store: Store, sign_in: SignIn
) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "read")
    status, body = await ana.call("GET", conv_path(key))
    assert status == 200
    roles = [e["role"] for e in body["entries"]]
    assert roles == ["customer", "bot", "customer", "system"]
    bot = body["entries"][1]
    assert bot["intent"] == "buy_token" and bot["confidence"] == pytest.approx(0.91)
    assert body["entries"][3]["text"] == "Handed over: the customer asked for a person"
    assert body["summary"]["collected"] == {"meter_number": "12345678901"}
    assert body["summary"]["wanted"] == [{"intent": "buy_token", "confidence": 0.91}]
    assert body["summary"]["failed_turns"] == 1
    collected = {"key": "collected", "label": "Collected", "lines": ["meter_number: 12345678901"]}
    assert collected in body["summary"]["facts"]
    assert body["conversation"]["status"] == "waiting"
    assert body["can"]["claim"] and not body["can"]["reply"]
    assert body["reply_window"] is None  # the web chat has no reply window


async def test_reason_labels_come_from_the_one_table_in_both_languages(
    sign_in: SignIn,
) -> None:
    status, body = await (await sign_in("ana")).call("GET", "reasons")
    assert status == 200
    assert body["reasons"] == reasons.labels()
    assert set(body["reasons"]) == {r.value for r in reasons.Reason}
    assert body["reasons"]["asked_for_human"] == {"id": "minta petugas", "en": "asked for a person"}


async def test_unknown_conversation_is_404(sign_in: SignIn) -> None:
    ana = await sign_in("ana")
    for path in ("conversations/webchat:nobody", "conversations/not-an-id"):
        status, body = await ana.call("GET", path)
        assert status == 404 and "error" in body
    status, _ = await ana.call("POST", "conversations/webchat:nobody/reply", {"text": "hi"})
    assert status == 404


async def test_reply_goes_on_the_web_chat_and_is_sent(store: Store, sign_in: SignIn) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "reply")
    status, body = await ana.call("POST", conv_path(key, "reply"), {"text": "Halo, saya Ana"})
    assert status == 403 and body["error"] == "claim the conversation first"
    await ana.call("POST", conv_path(key, "claim"))
    status, body = await ana.call("POST", conv_path(key, "reply"), {"text": "Halo, saya Ana"})
    assert status == 201 and body["delivery"]["state"] == "sent"
    entries = await Transcript(store).read(key)
    assert entries[-1].role is Role.AGENT and entries[-1].text == "Halo, saya Ana"
    assert entries[-1].meta == {"agent": "ana"}
    _, view = await ana.call("GET", conv_path(key))
    assert view["entries"][-1]["delivery"]["state"] == "sent"


async def test_reply_on_telegram_is_queued_for_delivery(store: Store, sign_in: SignIn) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "42", channel="telegram")
    await ana.call("POST", conv_path(key, "claim"))
    status, body = await ana.call("POST", conv_path(key, "reply"), {"text": "Sebentar ya"})
    assert status == 201 and body["delivery"]["state"] == "queued"
    assert await store.redis.xlen("loket:v1:outbox") == 1


async def test_empty_or_oversized_reply_is_refused(store: Store, sign_in: SignIn) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "bad")
    await ana.call("POST", conv_path(key, "claim"))
    status, body = await ana.call("POST", conv_path(key, "reply"), {"text": "  "})
    assert status == 400 and body == {"error": "message is empty", "code": "text_empty",
                                      "params": {}}  # fmt: skip
    status, body = await ana.call("POST", conv_path(key, "reply"), {"text": "x" * 5000})
    assert status == 413 and body["code"] == "text_too_long"


async def test_only_the_assignee_or_an_admin_replies_trainers_only_read(
    store: Store, sign_in: SignIn
) -> None:
    ana, budi = await sign_in("ana"), await sign_in("budi")
    tari, boss = await sign_in("tari", "trainer"), await sign_in("boss", "admin")
    key = await open_handoff(store, "owned")
    status, body = await tari.call("POST", conv_path(key, "claim"))
    assert status == 403 and "trainers" in body["error"]
    await ana.call("POST", conv_path(key, "claim"))
    status, body = await budi.call("POST", conv_path(key, "reply"), {"text": "hi"})
    assert status == 403 and body["error"] == "this conversation is assigned to ana"
    status, _ = await budi.call("POST", conv_path(key, "notes"), {"text": "hmm"})
    assert status == 403
    status, _ = await tari.call("POST", conv_path(key, "reply"), {"text": "hi"})
    assert status == 403
    status, view = await tari.call("GET", conv_path(key))
    assert status == 200 and not any(view["can"].values())
    status, _ = await boss.call("POST", conv_path(key, "reply"), {"text": "Admin here"})
    assert status == 201


async def test_notes_stay_private(store: Store, sign_in: SignIn, server: TestServer) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "private")
    await ana.call("POST", conv_path(key, "claim"))
    status, body = await ana.call("POST", conv_path(key, "notes"), {"text": "customer is upset"})
    assert status == 201
    entries = await Transcript(store).read(key)
    assert entries[-1].role is Role.NOTE and entries[-1].id == body["entry_id"]
    assert await store.redis.xlen("loket:v1:outbox") == 0
    assert await Outbox(store).deliveries(key) == {}
    _, view = await ana.call("GET", conv_path(key))
    assert view["entries"][-1]["role"] == "note" and "delivery" not in view["entries"][-1]


async def test_transfer_moves_the_conversation_to_another_agent(
    store: Store, sign_in: SignIn
) -> None:
    ana, budi = await sign_in("ana"), await sign_in("budi")
    await add_agent(store, "tari", "trainer")
    key = await open_handoff(store, "move")
    await ana.call("POST", conv_path(key, "claim"))
    status, body = await ana.call("POST", conv_path(key, "transfer"), {"to": "tari"})
    assert status == 400 and "trainer" in body["error"]
    status, body = await ana.call("POST", conv_path(key, "transfer"), {"to": "nobody"})
    assert status == 400
    status, body = await ana.call("POST", conv_path(key, "transfer"), {"to": "budi"})
    assert status == 200 and body["assignee"] == "budi"
    _, mine = await ana.call("GET", "mine")
    assert mine["conversations"] == []
    _, mine = await budi.call("GET", "mine")
    assert [c["id"] for c in mine["conversations"]] == [key.id]
    status, _ = await ana.call("POST", conv_path(key, "reply"), {"text": "still me?"})
    assert status == 403
    entries = await Transcript(store).read(key)
    assert entries[-1].text == "Transferred from ana to budi"


async def test_hand_back_returns_the_conversation_to_the_bot(store: Store, sign_in: SignIn) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "back")
    await ana.call("POST", conv_path(key, "claim"))
    status, body = await ana.call("POST", conv_path(key, "hand-back"))
    assert status == 200 and body == {"status": "bot"}
    state = await Conversations(store).state(key)
    assert state.status.value == "bot" and state.assignee == ""
    status, body = await ana.call("POST", conv_path(key, "hand-back"))
    assert status == 409 and body["error"] == "the conversation is already bot"
    _, mine = await ana.call("GET", "mine")
    assert mine["conversations"] == []


async def test_close_records_the_resolution_and_a_new_handoff_can_open(
    store: Store, sign_in: SignIn
) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "done")
    await ana.call("POST", conv_path(key, "claim"))
    status, body = await ana.call("POST", conv_path(key, "close"), {"resolution": "nope"})
    assert status == 400
    status, body = await ana.call(
        "POST", conv_path(key, "close"), {"resolution": "solved", "text": "token resent"}
    )
    assert status == 200 and body == {"status": "closed", "csat": "asked"}
    _, view = await ana.call("GET", conv_path(key))
    assert view["conversation"]["resolution"] == "solved: token resent"
    assert view["entries"][-2]["text"] == "Closed by ana: solved: token resent"
    question = view["entries"][-1]  # the satisfaction question (tests/redis/test_csat.py)
    assert "csat" in question["meta"] and len(question["buttons"]) == 5
    assert not view["can"]["reply"]
    await open_handoff(store, "done", texts=("token belum masuk", "petugas"))
    _, queue = await ana.call("GET", "queue")
    assert [c["id"] for c in queue["conversations"]] == [key.id]


async def test_failed_delivery_shows_its_reason_and_can_be_retried(
    store: Store, sign_in: SignIn
) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "77", channel="telegram")
    await ana.call("POST", conv_path(key, "claim"))
    _, sent = await ana.call("POST", conv_path(key, "reply"), {"text": "Token: 1234"})
    entry_id = sent["entry_id"]
    retry = conv_path(key, f"deliveries/{entry_id}/retry")
    status, body = await ana.call("POST", retry)
    assert status == 409 and "only a failed message" in body["error"]
    await Outbox(store).mark(
        key, Delivery(entry_id, DeliveryState.FAILED, "Forbidden: bot was blocked", 3, now_ms())
    )
    _, view = await ana.call("GET", conv_path(key))
    delivery = view["entries"][-1]["delivery"]
    assert delivery["state"] == "failed" and delivery["reason"] == "Forbidden: bot was blocked"
    status, body = await ana.call("POST", retry)
    assert status == 200 and body["delivery"]["state"] == "queued"
    assert await store.redis.xlen("loket:v1:outbox") == 2  # the first send and the retry


async def test_whatsapp_reply_window_warning(store: Store, sign_in: SignIn) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "6281234567890", channel="whatsapp")
    _, view = await ana.call("GET", conv_path(key))
    window = view["reply_window"]
    assert window["seconds"] == 24 * 3600 and not window["expired"]
    two_days_ago = now_ms() - 48 * 3600 * 1000
    await store.redis.hset(f"loket:v1:conv:{{{key.id}}}", "last_customer_at", two_days_ago)
    _, view = await ana.call("GET", conv_path(key))
    assert view["reply_window"]["expired"]
    assert view["reply_window"]["closes_at"] == two_days_ago + 24 * 3600 * 1000


async def test_canned_replies_are_seeded_and_only_admins_edit_them(sign_in: SignIn) -> None:
    ana, boss = await sign_in("ana"), await sign_in("boss", "admin")
    status, body = await ana.call("GET", "canned")
    assert status == 200
    greeting = next(s for s in body["canned"] if s["key"] == "greeting")
    assert set(greeting["texts"]) == {"id", "en"}
    new = {"title": "Outage", "id": "Ada gangguan di area Anda.", "en": "There is an outage."}
    status, _ = await ana.call("PUT", "canned/outage", new)
    assert status == 403
    status, body = await boss.call("PUT", "canned/outage", new)
    assert status == 200 and body["texts"]["en"] == "There is an outage."
    status, _ = await boss.call("PUT", "canned/Bad Key", new)
    assert status == 400
    status, _ = await boss.call("PUT", "canned/empty", {"title": "Nothing"})
    assert status == 400
    status, _ = await boss.call("DELETE", "canned/greeting")
    assert status == 204
    _, body = await ana.call("GET", "canned")
    assert "outage" in {s["key"] for s in body["canned"]}
    assert "greeting" not in {s["key"] for s in body["canned"]}
    status, _ = await boss.call("DELETE", "canned/greeting")
    assert status == 404


async def test_agents_list_for_transfer(sign_in: SignIn) -> None:
    ana = await sign_in("ana")
    await sign_in("tari", "trainer")
    status, body = await ana.call("GET", "agents")
    assert status == 200
    assert body["agents"] == [
        {"name": "ana", "role": "agent", "online": False},
        {"name": "tari", "role": "trainer", "online": False},
    ]


async def customer_sends_attachment(store: Store, key: ConversationKey, ref: str) -> str:
    [entry_id] = await Transcript(store).append(
        key, [Entry(Role.CUSTOMER, "[photo] meter", meta={"attachment": {"kind": "photo",
                                                                          "ref": ref}})]
    )  # fmt: skip
    return entry_id


async def test_media_is_fetched_from_the_channel_for_signed_in_agents(
    store: Store, sign_in: SignIn, server: TestServer
) -> None:
    ana = await sign_in("ana")
    key = await open_handoff(store, "628111", channel="whatsapp")
    photo = await customer_sends_attachment(store, key, "f-png")
    pdf = await customer_sends_attachment(store, key, "f-pdf")
    gone = await customer_sends_attachment(store, key, "f-expired")
    async with ana.http.get(ana.url(f"/inbox/api/media/{key.id}/{photo}")) as resp:
        assert resp.status == 200 and resp.content_type == "image/png"
        assert resp.headers["Content-Disposition"].startswith("inline")
        assert await resp.read() == b"\x89PNG\r\n\x1a\nfake"
    async with ana.http.get(ana.url(f"/inbox/api/media/{key.id}/{pdf}")) as resp:
        assert resp.content_type == "application/octet-stream"
        assert resp.headers["Content-Disposition"] == 'attachment; filename="bill.pdf"'
    async with ana.http.get(ana.url(f"/inbox/api/media/{key.id}/{gone}")) as resp:
        assert resp.status == 404 and "not available" in (await resp.json())["error"]
    async with (
        Browser(server).http as anonymous,
        anonymous.get(server.make_url(f"/inbox/api/media/{key.id}/{photo}")) as resp,
    ):
        assert resp.status == 401
