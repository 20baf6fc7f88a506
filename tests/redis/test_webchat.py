"""The public web chat's gate over HTTP: conversation secrets, rate limits, the cap on kept
conversations, retention, switching it off, and its security headers.

The gateway is the production app with Rasa unreachable: a message is kept and handed to a
person (`bot_unavailable`), which is all these tests need of a turn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.core.clients import parse_networks
from bot.core.errors import NotAllowed
from bot.core.messages import ConversationKey
from bot.core.settings import Settings
from bot.ops.processes import free_port
from handoff import Entry, Role, Transcript, keys
from handoff.guests import Guests
from handoff.store import Store
from tests.support.chat import SECRET_HEADER, open_chat

CHAT = "/chat/api/messages"


def settings_for(redis_url: str, tmp: Path, **kw: Any) -> Settings:
    base = Settings(
        redis_url=redis_url,
        rasa_urls=(f"http://127.0.0.1:{free_port()}",),  # nothing listens: a turn hands over
        data_dir=tmp,
    )
    return dataclasses.replace(base, **kw)


@pytest.fixture
async def gateway(redis_url: str, tmp_path: Path) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(settings_for(redis_url, tmp_path)))) as client:
        yield client


async def gateway_with(redis_url: str, tmp: Path, **kw: Any) -> TestClient:
    client = TestClient(TestServer(create_app(settings_for(redis_url, tmp, **kw))))
    await client.start_server()
    return client


async def post(
    client: TestClient, chat_id: str, secret: str | None, text: str = "halo", **headers: str
) -> tuple[int, dict[str, Any]]:
    if secret is not None:
        headers[SECRET_HEADER] = secret
    resp = await client.post(CHAT, json={"chat_id": chat_id, "text": text}, headers=headers)
    return resp.status, await resp.json()


async def read(client: TestClient, chat_id: str, secret: str | None) -> tuple[int, Any]:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    resp = await client.get(CHAT, params={"chat_id": chat_id}, headers=headers)
    return resp.status, await resp.json()


# --- secrets ---------------------------------------------------------------------------------


async def test_a_conversation_is_read_and_written_only_with_its_secret(
    gateway: TestClient, store: Store
) -> None:
    secret = await open_chat(gateway, "web-1")
    assert (await post(gateway, "web-1", secret))[0] == 200
    status, body = await read(gateway, "web-1", secret)
    assert status == 200 and body["messages"][0]["role"] == "customer"
    # Whoever learns the chat id (URLs, logs, the provider's reference) gets nothing.
    assert await read(gateway, "web-1", None) == (
        401, {"error": "this conversation needs its secret (X-Loket-Chat-Secret)"}
    )  # fmt: skip
    assert (await read(gateway, "web-1", "guessed"))[0] == 403
    assert (await post(gateway, "web-1", None, "saya Budi, kirim tokennya"))[0] == 401
    assert (await post(gateway, "web-1", "x" * 43, "saya Budi, kirim tokennya"))[0] == 403
    texts = [e.text for e in await Transcript(store).read(ConversationKey("webchat", "web-1"))]
    assert "saya Budi, kirim tokennya" not in texts
    assert await store.redis.hget(keys.conversation("webchat:web-1"), "secret") != secret


async def test_a_secret_of_any_other_shape_opens_nothing(store: Store) -> None:
    # aiohttp hands a header's undecodable bytes over as lone surrogates; found by the fuzz.
    guests = Guests(store, max_conversations=10, retention_s=60)
    key = ConversationKey("webchat", "shape")
    secret = await guests.open(key)
    for wrong in ("\udc80" + secret[1:], secret[:-1] + "é", secret + "\n", secret[:-1] + "=="):
        with pytest.raises(NotAllowed):
            await guests.check(key, wrong, touch=False)
    await guests.check(key, secret, touch=False)


async def test_the_server_picks_an_id_and_an_id_in_use_is_refused(gateway: TestClient) -> None:
    resp = await gateway.post("/chat/api/conversations", json={})
    assert resp.status == 201
    opened = await resp.json()
    assert opened["chat_id"].startswith("web-") and len(opened["secret"]) == 43
    again = await gateway.post("/chat/api/conversations", json={"chat_id": opened["chat_id"]})
    assert again.status == 409
    assert (await gateway.post("/chat/api/conversations", json={"chat_id": "a/b"})).status == 400


async def test_a_conversation_from_before_secrets_is_not_taken_over(
    gateway: TestClient, store: Store
) -> None:
    old = ConversationKey("webchat", "web-old")
    await Transcript(store).append(old, [Entry(Role.CUSTOMER, "token saya 1234")])
    assert (await read(gateway, "web-old", "anything"))[0] == 403
    assert (
        await gateway.post("/chat/api/conversations", json={"chat_id": "web-old"})
    ).status == 409


async def test_an_unknown_conversation_is_a_404(gateway: TestClient) -> None:
    status, body = await read(gateway, "never-opened", "x")
    assert status == 404 and "start a new one" in body["error"]


# --- rate limits -----------------------------------------------------------------------------


async def test_messages_per_conversation_are_limited_and_refused_ones_leave_no_trace(
    redis_url: str, tmp_path: Path, store: Store
) -> None:
    client = await gateway_with(redis_url, tmp_path, webchat_per_minute=3)
    try:
        secret = await open_chat(client, "web-1")
        for i in range(3):
            assert (await post(client, "web-1", secret, f"pesan {i}"))[0] == 200
        resp = await client.post(
            CHAT, json={"chat_id": "web-1", "text": "pesan 3"}, headers={SECRET_HEADER: secret}
        )
        assert resp.status == 429
        assert 0 < int(resp.headers["Retry-After"]) <= 60
        assert "at most 3 per minute" in (await resp.json())["error"]
        texts = [e.text for e in await Transcript(store).read(ConversationKey("webchat", "web-1"))]
        assert "pesan 3" not in texts and "pesan 2" in texts
        other = await open_chat(client, "web-2")  # another conversation is not held back
        assert (await post(client, "web-2", other))[0] == 200
    finally:
        await client.close()


async def test_messages_per_client_address_are_limited_through_trusted_proxies(
    redis_url: str, tmp_path: Path
) -> None:
    client = await gateway_with(
        redis_url, tmp_path, webchat_address_per_minute=2,
        trusted_proxies=parse_networks("127.0.0.1"),
    )  # fmt: skip
    try:
        one, two = await open_chat(client, "web-1"), await open_chat(client, "web-2")
        behind = {"X-Forwarded-For": "198.51.100.1"}
        assert (await post(client, "web-1", one, **behind))[0] == 200
        assert (await post(client, "web-2", two, **behind))[0] == 200
        assert (await post(client, "web-1", one, **behind))[0] == 429
        # Another customer behind the same proxy has a budget of their own.
        assert (await post(client, "web-2", two, **{"X-Forwarded-For": "198.51.100.2"}))[0] == 200
    finally:
        await client.close()


async def test_new_conversations_per_address_are_limited(redis_url: str, tmp_path: Path) -> None:
    client = await gateway_with(redis_url, tmp_path, webchat_new_per_hour=2)
    try:
        for _ in range(2):
            assert (await client.post("/chat/api/conversations", json={})).status == 201
        refused = await client.post("/chat/api/conversations", json={})
        assert refused.status == 429
        assert "new conversations" in (await refused.json())["error"]
        assert int(refused.headers["Retry-After"]) <= 3600
    finally:
        await client.close()


# --- how many are kept, and for how long -----------------------------------------------------


async def test_at_the_cap_the_longest_idle_conversation_makes_room(
    redis_url: str, tmp_path: Path, store: Store
) -> None:
    client = await gateway_with(redis_url, tmp_path, webchat_max_conversations=2)
    try:
        first = await open_chat(client, "web-1")
        await open_chat(client, "web-2")
        await open_chat(client, "web-3")  # web-1 was idle longest: deleted
        assert (await read(client, "web-1", first))[0] == 404
        assert await store.redis.zcard(keys.public_conversations()) == 2
    finally:
        await client.close()


async def test_conversations_people_own_are_never_deleted_to_make_room(
    redis_url: str, tmp_path: Path
) -> None:
    client = await gateway_with(redis_url, tmp_path, webchat_max_conversations=2)
    try:
        for chat in ("web-1", "web-2"):  # Rasa is down: each is handed to a person
            assert (await post(client, chat, await open_chat(client, chat)))[0] == 200
        resp = await client.post("/chat/api/conversations", json={})
        assert resp.status == 503 and resp.headers["Retry-After"] == "60"
        assert "busy" in (await resp.json())["error"]
    finally:
        await client.close()


async def test_retention_deletes_idle_conversations_with_their_rasa_tracker(store: Store) -> None:
    clock = [1_000_000]
    guests = Guests(store, max_conversations=100, retention_s=60, clock=lambda: clock[0])
    idle, waiting, busy = (ConversationKey("webchat", c) for c in ("idle", "waiting", "busy"))
    for key in (idle, waiting, busy):
        await guests.open(key)
        await Transcript(store).append(key, [Entry(Role.CUSTOMER, "halo")])
        await store.redis.set(keys.rasa_tracker(key.id), "{}")
    await store.redis.hset(keys.conversation(waiting.id), "status", "waiting")
    clock[0] += 30_000
    secret = await guests.open(ConversationKey("webchat", "recent"))
    await guests.check(ConversationKey("webchat", "recent"), secret, touch=True)
    clock[0] += 40_000  # 70 s after the first three, 40 s after the last
    async with store.lock(keys.turn_lock(busy.id), ttl=5, wait=1):
        assert await guests.sweep() == 1  # idle; not the one people own, nor one mid-turn
    assert not await store.redis.exists(keys.transcript(idle.id), keys.rasa_tracker(idle.id))
    assert not await store.redis.exists(keys.conversation(idle.id))
    assert await store.redis.exists(keys.transcript(waiting.id))
    assert await guests.sweep() == 1  # the busy one, once its turn is over
    assert await guests.count() == 2  # waiting and recent


# --- switched off, and the headers -----------------------------------------------------------


async def test_the_web_chat_can_be_switched_off(redis_url: str, tmp_path: Path) -> None:
    client = await gateway_with(redis_url, tmp_path, webchat=False)
    try:
        for method, path in (("GET", "/chat"), ("POST", "/chat/api/conversations"),
                             ("POST", CHAT), ("GET", CHAT)):  # fmt: skip
            assert (await client.request(method, path)).status in (404, 405)
        assert (await (await client.get("/healthz")).json())["channels"] == []
    finally:
        await client.close()


async def test_chat_pages_and_answers_carry_security_headers(gateway: TestClient) -> None:
    for resp in (
        await gateway.get("/chat"),
        await gateway.get("/chat/static/chat.js"),
        await gateway.get(CHAT, params={"chat_id": "nobody"}),  # an error answer too
    ):
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
    page = await (await gateway.get("/chat")).text()
    assert "<script>" not in page and "<style>" not in page  # nothing inline for CSP to allow


async def test_the_chat_may_be_framed_by_the_sites_the_operator_names(
    redis_url: str, tmp_path: Path
) -> None:
    client = await gateway_with(
        redis_url, tmp_path, webchat_frame_ancestors="https://www.pln.example"
    )
    try:
        resp = await client.get("/chat")
        assert "frame-ancestors https://www.pln.example" in resp.headers["Content-Security-Policy"]
        assert "X-Frame-Options" not in resp.headers
    finally:
        await client.close()


async def test_a_message_body_is_capped(gateway: TestClient) -> None:
    secret = await open_chat(gateway, "web-1")
    resp = await gateway.post(
        CHAT, data=b'{"chat_id": "web-1", "text": "' + b"a" * 70_000 + b'"}',
        headers={SECRET_HEADER: secret, "Content-Type": "application/json"},
    )  # fmt: skip
    assert resp.status == 413
