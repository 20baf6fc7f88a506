"""The web chat end to end: gateway, router, Rasa server with the trained model, Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.core.errors import ConfigError
from bot.core.settings import Settings
from bot.ops.embedded_redis import EmbeddedRedis
from bot.ops.processes import free_port
from handoff import Transcript
from handoff.store import Store
from tests.support.builders import make_key
from tests.support.chat import SECRET_HEADER, open_chat

SECRETS: dict[tuple[int, str], str] = {}  # (client, chat id) -> the conversation's secret


@pytest.fixture(autouse=True)
def _fresh_secrets() -> None:
    SECRETS.clear()  # Redis is emptied before each test


async def _secret(client: TestClient, chat_id: str) -> str:
    """The secret of `chat_id` on this client's app (opened on first use, as the page does)."""
    key = (id(client), chat_id)
    if key not in SECRETS:
        SECRETS[key] = await open_chat(client, chat_id)
    return SECRETS[key]


async def say(client: TestClient, text: str, chat_id: str = "c1") -> list[str]:
    resp = await client.post(
        "/chat/api/messages",
        json={"chat_id": chat_id, "text": text},
        headers={SECRET_HEADER: await _secret(client, chat_id)},
    )
    assert resp.status == 200, await resp.text()
    return [r["text"] for r in (await resp.json())["replies"]]


async def history(client: TestClient, chat_id: str = "c1") -> list[dict[str, Any]]:
    resp = await client.get(
        "/chat/api/messages",
        params={"chat_id": chat_id},
        headers={SECRET_HEADER: await _secret(client, chat_id)},
    )
    assert resp.status == 200
    messages: list[dict[str, Any]] = (await resp.json())["messages"]
    return messages


async def test_greeting_round_trip_in_indonesian(client: TestClient) -> None:
    replies = await say(client, "halo kak")
    assert len(replies) == 1
    assert replies[0].startswith("Halo, saya Loket")


async def test_replies_follow_the_customers_language(client: TestClient) -> None:
    assert "meter number" in (await say(client, "how do I buy an electricity token"))[0]
    assert "Nomor meter" in (await say(client, "gmn cara beli token listrik", "c2"))[0]


async def test_transcript_records_both_sides_with_intent(
    client: TestClient, settings: Settings
) -> None:
    await say(client, "mau beli token")
    lines = await history(client)
    assert [m["role"] for m in lines] == ["customer", "bot"]
    assert lines[0]["text"] == "mau beli token"
    # Intent and confidence are kept for agents, not shown to the customer.
    store = Store.from_url(settings.redis_url or "")
    entries = await Transcript(store).read(make_key("c1"))
    await store.close()
    assert entries[1].intent == "buy_token"
    assert entries[1].confidence is not None and entries[1].confidence > 0.5


async def test_health_reports_every_part(client: TestClient) -> None:
    resp = await client.get("/healthz")
    body = await resp.json()
    assert resp.status == 200, body
    assert body["status"] == "ok"
    assert body["redis"]["ok"] and body["action_server"]["ok"] and body["provider"]["ok"]
    assert body["model"]["file"].startswith("loket-")
    assert body["channels"] == ["webchat"]  # no Telegram or WhatsApp configured
    assert body["backlog"] == {"inbound": 0, "outbox": 0}


async def test_chat_page_is_served(client: TestClient) -> None:
    resp = await client.get("/chat")
    assert resp.status == 200
    assert 'src="/chat/static/chat.js"' in await resp.text()
    script = await client.get("/chat/static/chat.js")
    assert "textContent" in await script.text()  # customer text is never inserted as HTML


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"chat_id": "c1", "text": ""}', 400),
        (b'{"chat_id": "c1", "text": "   \\n\\t "}', 400),
        (b'{"chat_id": "c1", "text": "' + b"a" * 100_000 + b'"}', 413),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage\xff\xfe", 400),
        (b"{", 400),
        (b'{"chat_id": "../../etc", "text": "halo"}', 400),
        (os.urandom(300_000), 413),
    ],
    ids=["empty", "whitespace", "100kB", "binary", "truncated-json", "bad-chat-id", "random-300kB"],
)
async def test_bad_input_gets_a_clear_4xx_and_leaves_no_trace(
    client: TestClient, body: bytes, status: int
) -> None:
    await say(client, "halo")
    resp = await client.post(
        "/chat/api/messages",
        data=io.BytesIO(body),
        headers={SECRET_HEADER: await _secret(client, "c1")},
    )
    assert resp.status == status
    assert (await resp.json())["error"]
    assert len(await history(client)) == 2  # only the greeting and its reply


async def test_body_over_1mb_is_refused_from_its_headers(client: TestClient) -> None:
    """413 before a byte of the body is read: nothing is buffered or stored."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /chat/api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2097152\r\n\r\n"
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert status_line.split()[1] == b"413"


async def test_garbage_text_gets_a_polite_reply_not_an_error(client: TestClient) -> None:
    replies = await say(client, "\u0000ä½ å¥½ ¤¤¤ ¿¿¿ \u202e zxqv")
    assert replies and replies[0]
    assert len(await history(client)) == 2


@pytest.mark.parametrize("text", ["asdkjh qwe zzz", "cuaca besok gimana", "tell me a joke"])
async def test_off_topic_is_not_mistaken_for_a_request(
    client: TestClient, settings: Settings, text: str
) -> None:
    await say(client, text)
    store = Store.from_url(settings.redis_url or "")
    entries = await Transcript(store).read(make_key("c1"))
    await store.close()
    assert entries[-1].intent in ("out_of_scope", "nlu_fallback")


@pytest.mark.parametrize("after", ["x", "1-1\n", "١٢-٣", "99999999999999999999-0", "1-2-3"])
async def test_bad_cursor_is_a_400(client: TestClient, after: str) -> None:
    resp = await client.get(
        "/chat/api/messages",
        params={"chat_id": "c1", "after": after},
        headers={SECRET_HEADER: await _secret(client, "c1")},
    )
    assert resp.status == 400


async def test_redis_lost_while_running_gives_503_then_recovers(
    client: TestClient, redis_server: EmbeddedRedis
) -> None:
    await say(client, "halo")
    redis_server.stop()
    try:
        resp = await client.post(
            "/chat/api/messages",
            json={"chat_id": "c1", "text": "halo"},
            headers={SECRET_HEADER: await _secret(client, "c1")},
        )
        assert resp.status == 503
        assert "unavailable" in (await resp.json())["error"]
        assert (await client.get("/healthz")).status == 503
    finally:
        redis_server.start()
    assert await say(client, "makasih")
    # Nothing half-written: the refused message left no trace.
    assert [m["text"] for m in await history(client)][::2] == ["halo", "makasih"]


async def test_transcript_kept_across_an_app_and_redis_restart(
    settings: Settings, redis_server: EmbeddedRedis
) -> None:
    async with TestClient(TestServer(create_app(settings))) as first:
        await say(first, "halo", chat_id="restart")
    redis_server.stop()
    redis_server.start()
    async with TestClient(TestServer(create_app(settings))) as second:
        SECRETS[(id(second), "restart")] = SECRETS[(id(first), "restart")]
        lines = await history(second, chat_id="restart")
        assert [m["role"] for m in lines] == ["customer", "bot"]
        await say(second, "makasih", chat_id="restart")
        assert len(await history(second, chat_id="restart")) == 4


async def test_unreachable_redis_at_start_names_redis_url(settings: Settings) -> None:
    dead = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    runner = web.AppRunner(create_app(dead))
    with pytest.raises(ConfigError, match=r"REDIS_URL=redis://127\.0\.0\.1"):
        await runner.setup()
    await runner.cleanup()
