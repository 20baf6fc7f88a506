"""The hot path under fuzz, over HTTP: the Telegram and WhatsApp webhooks, the web chat API and
the inbox API of the production app, with arbitrary bodies, headers, Unicode, huge and empty
payloads. Never a 5xx; a refused request stores nothing; every record in Redis stays whole.

Rasa is unreachable here (a turn hands the conversation to a person), which the invariants do
not care about. Example counts come from the Hypothesis profile in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st

from bot.app import create_app
from bot.core.messages import ConversationKey
from bot.core.settings import Settings
from bot.ops.processes import free_port
from handoff import Entry, Role, Transcript, keys
from handoff.inbox import Accounts, AgentRole
from handoff.store import Store
from handoff.streams.inbound import from_fields
from tests.support import telegram_api as tg
from tests.support import whatsapp_api as wa
from tests.support.chat import SECRET_HEADER, open_chat
from tests.support.inbox import open_handoff
from tests.support.nlu import copy_nlu_data

TELEGRAM_SECRET = "fuzz-telegram-secret"
WHATSAPP_SECRET = "fuzz-meta-app-secret"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=16,
)
texts = st.text() | st.sampled_from(["", " ", "\u200b", "\x00", "🙂" * 2100, "a" * 4097])
# Header values an HTTP client can send: printable Latin-1, no line breaks.
# (DEL, 0x7f, is refused by aiohttp's HTTP parser before any of Loket's code runs.)
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=80,
)
junk_headers = st.dictionaries(
    st.sampled_from(
        ["Content-Type", "X-Forwarded-For", "Forwarded", "Origin", "Last-Event-ID", "Accept",
         "Content-Encoding", "X-Loket-Background", "Cookie"]
    ),
    header_values,
    max_size=3,
)  # fmt: skip


def encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


class Huge(bytes):
    """A body too big to print in a failure report."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes: {bytes(self[:20])!r}…>"


bodies = st.one_of(
    st.binary(max_size=1024),
    json_values.map(encode),
    st.just(b""),
    st.just(Huge(b"[" * 70_000)),  # deep, and over the web chat's and inbox's 64 kB
    st.just(Huge(b'{"x": "' + b"a" * 1_100_000 + b'"}')),  # over the webhooks' 1 MB
)


async def post(
    client: TestClient, path: str, body: bytes, headers: dict[str, str], method: str = "POST"
) -> tuple[int, str]:
    """Send a request as a raw HTTP/1.1 exchange: a server may answer 413 (or 403) before it
    has read a big body and close the connection, which an HTTP client reports as an error."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    head = [f"{method} {path} HTTP/1.1", f"Host: {client.host}", "Connection: close",
            f"Content-Length: {len(body)}"]  # fmt: skip
    head += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-length"]
    try:
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        for start in range(0, len(body), 65_536):
            writer.write(body[start : start + 65_536])
            await writer.drain()
    except ConnectionError:
        pass  # the server answered and closed early; its answer is still there to read
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.decode("utf-8", "replace")[-500:]


@dataclass
class Edges:
    client: TestClient
    store: Store
    secret: str  # of the web-chat conversation fuzz-chat
    bearer: dict[str, str]  # an admin's API token


@pytest.fixture
async def edges(redis_url: str, tmp_path: Path, store: Store) -> AsyncIterator[Edges]:
    telegram, cloud = tg.FakeTelegram(), wa.CloudApi()
    await telegram.start()
    await cloud.start()
    settings = Settings(
        redis_url=redis_url,
        rasa_urls=(f"http://127.0.0.1:{free_port()}",),  # nothing listens
        data_dir=tmp_path,
        telegram_token=telegram.token,
        telegram_api_url=telegram.url,
        telegram_webhook_url="https://loket.example",
        telegram_secret=TELEGRAM_SECRET,
        whatsapp_token=wa.TOKEN,
        whatsapp_app_secret=WHATSAPP_SECRET,
        whatsapp_verify_token="fuzz-verify",
        whatsapp_phone_number_id=wa.PHONE_NUMBER_ID,
        whatsapp_api_url=cloud.url,
        webchat_per_minute=100_000,  # the fuzzer is no abuser: let every example through
        webchat_address_per_minute=100_000,
        nlu_data_dir=copy_nlu_data(tmp_path),  # labels never touch the project's files
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        secret = await open_chat(client, "fuzz-chat")
        await Accounts(store).add("ana", AgentRole.ADMIN, "correct horse battery")
        token = await Accounts(store).issue_token("ana")
        await open_handoff(store, "fuzz-handoff")
        yield Edges(client, store, secret, {"Authorization": f"Bearer {token}"})
    await telegram.close()
    await cloud.close()


async def last_id(store: Store, stream: str) -> str:
    """The id of the last entry ever added: unlike the newest entry still there, it does not
    change when the worker finishes (and deletes) an earlier entry meanwhile."""
    if not await store.redis.exists(stream):
        return ""
    return str((await store.redis.xinfo_stream(stream))["last-generated-id"])


async def records_are_whole(store: Store) -> None:
    """Every inbound entry, transcript line and conversation can be read back completely."""
    for _, fields in await store.redis.xrange(keys.inbound()):
        from_fields(fields)
    async for key in store.redis.scan_iter(match=f"{keys.PREFIX}:conv:*"):
        if key.endswith(":transcript"):
            for entry_id, fields in await store.redis.xrange(key):
                Entry.from_fields(entry_id, fields)
        elif key.endswith("}"):
            conversation = await store.redis.hgetall(key)
            assert conversation.get("channel") and conversation.get("chat_id"), (key, conversation)


@given(body=bodies, secret=st.sampled_from([TELEGRAM_SECRET, "wrong", None]), headers=junk_headers)
async def test_telegram_webhook(
    edges: Edges, body: bytes, secret: str | None, headers: dict[str, str]
) -> None:
    if secret is not None:
        headers = {**headers, "X-Telegram-Bot-Api-Secret-Token": secret}
    before = await last_id(edges.store, keys.inbound())
    status, text = await post(edges.client, "/channels/telegram/webhook", body, headers)
    assert status in (200, 400, 403, 413), (status, text)
    if status != 200:
        assert await last_id(edges.store, keys.inbound()) == before
    await records_are_whole(edges.store)


@given(
    update_id=st.integers(min_value=1, max_value=2**40),
    chat=st.integers(min_value=1, max_value=2**40),
    text=texts,
    extra=st.dictionaries(st.sampled_from(["caption", "photo", "sticker", "location"]),
                          json_values, max_size=2),
)  # fmt: skip
async def test_telegram_updates_shaped_like_real_ones(
    edges: Edges, update_id: int, chat: int, text: str, extra: dict[str, Any]
) -> None:
    message = {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"},
               "from": tg.user(chat), "text": text, **extra}  # fmt: skip
    before = await last_id(edges.store, keys.inbound())
    resp = await edges.client.post(
        "/channels/telegram/webhook",
        data=encode({"update_id": update_id, "message": message}),
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )
    assert resp.status in (200, 400, 413), (resp.status, await resp.text())
    if resp.status != 200:
        assert await last_id(edges.store, keys.inbound()) == before
    await records_are_whole(edges.store)


@given(body=bodies, signed=st.booleans(), headers=junk_headers)
async def test_whatsapp_webhook(
    edges: Edges, body: bytes, signed: bool, headers: dict[str, str]
) -> None:
    if signed:
        headers = {**headers, **wa.signed(body, WHATSAPP_SECRET)}
    before = await last_id(edges.store, keys.inbound())
    status, text = await post(edges.client, "/channels/whatsapp/webhook", body, headers)
    assert status in (200, 400, 401, 403, 413), (status, text)
    if status != 200:
        assert await last_id(edges.store, keys.inbound()) == before
    await records_are_whole(edges.store)


@given(
    kind=st.sampled_from(["text", "button", "interactive", "image", "location", "reaction", "x"]),
    text=texts,
    content=json_values,
    sender=st.from_regex(r"[0-9]{8,15}", fullmatch=True) | st.text(max_size=20),
)
async def test_whatsapp_bodies_shaped_like_real_ones(
    edges: Edges, kind: str, text: str, content: Any, sender: str
) -> None:
    item = wa.message(kind, content, wa_id=sender) | {"text": {"body": text}}
    raw = encode(wa.webhook(wa.messages_value(item)))
    before = await last_id(edges.store, keys.inbound())
    resp = await edges.client.post(
        "/channels/whatsapp/webhook", data=raw, headers=wa.signed(raw, WHATSAPP_SECRET)
    )
    assert resp.status in (200, 400, 413), (resp.status, await resp.text())
    if resp.status != 200:
        assert await last_id(edges.store, keys.inbound()) == before
    await records_are_whole(edges.store)


@given(
    body=bodies | st.fixed_dictionaries(
        {"chat_id": st.just("fuzz-chat") | st.text(max_size=70)},
        optional={"text": texts | json_values, "payload": texts | json_values},
    ).map(encode),
    secret=st.sampled_from(["right", "wrong", "none"]) | header_values,
    after=st.none() | st.text(max_size=30),
    headers=junk_headers,
)  # fmt: skip
async def test_web_chat_api(
    edges: Edges, body: bytes, secret: str, after: str | None, headers: dict[str, str]
) -> None:
    key = ConversationKey("webchat", "fuzz-chat")
    value = {"right": edges.secret, "wrong": "x" * 43}.get(secret, secret)
    if secret != "none":
        headers = {**headers, SECRET_HEADER: value}
    before = await last_id(edges.store, keys.transcript(key.id))
    status, text = await post(edges.client, "/chat/api/messages", body, headers)
    assert status < 500, (status, text)
    if status != 200:
        assert await last_id(edges.store, keys.transcript(key.id)) == before
    query = {"chat_id": "fuzz-chat"} | ({"after": after} if after is not None else {})
    read = await edges.client.get("/chat/api/messages", params=query, headers=headers)
    assert read.status < 500, (read.status, await read.text())
    status, text = await post(edges.client, "/chat/api/conversations", body, headers)
    assert status in (201, 400, 409, 413, 429), (status, text)
    await records_are_whole(edges.store)


conversation_ids = st.sampled_from(["webchat:fuzz-handoff", "webchat:nobody"]) | st.text(
    max_size=40
)
inbox_calls = st.sampled_from(
    [
        ("GET", "conversations/{id}"),
        ("POST", "conversations/{id}/claim"),
        ("POST", "conversations/{id}/reply"),
        ("POST", "conversations/{id}/notes"),
        ("POST", "conversations/{id}/transfer"),
        ("POST", "conversations/{id}/close"),
        ("POST", "conversations/{id}/deliveries/{entry}/retry"),
        ("PUT", "canned/{entry}"),
        ("GET", "media/{id}/{entry}"),
        ("GET", "queue"),
        ("POST", "conversations/{id}/meant"),
        ("GET", "review"),
        ("POST", "review/label"),
        ("POST", "review/dismiss"),
    ]
)


@given(
    call=inbox_calls,
    conversation=conversation_ids,
    entry=st.text(max_size=30),
    body=bodies
    | st.fixed_dictionaries(
        {}, optional={"text": texts | json_values, "to": texts | json_values,
                      "resolution": st.sampled_from(["solved", "spam"]) | texts,
                      "title": texts, "id": texts, "en": texts,
                      "entry": texts | json_values, "intent": texts | json_values,
                      "items": json_values, "example": texts | json_values}
    ).map(encode),
    headers=junk_headers,
)  # fmt: skip
async def test_inbox_api(
    edges: Edges,
    call: tuple[str, str],
    conversation: str,
    entry: str,
    body: bytes,
    headers: dict[str, str],
) -> None:
    method, template = call
    path = template.replace("{id}", conversation).replace("{entry}", entry)
    key = ConversationKey("webchat", "fuzz-handoff")
    before = (await last_id(edges.store, keys.transcript(key.id)),
              await last_id(edges.store, keys.inbox_events()))  # fmt: skip
    target = "/inbox/api/" + quote(path, safe="/:")
    status, text = await post(edges.client, target, body, {**headers, **edges.bearer}, method)
    assert status < 500, (status, text)
    if status >= 400:
        after = (await last_id(edges.store, keys.transcript(key.id)),
                 await last_id(edges.store, keys.inbox_events()))  # fmt: skip
        assert after == before, (method, path, status)
    await records_are_whole(edges.store)
    assert await Transcript(edges.store).read(key)  # the handoff's transcript is still there
    assert all(e.role in Role for e in await Transcript(edges.store).read(key))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize(
    "path",
    ["/channels/telegram/webhook", "/channels/whatsapp/webhook", "/chat/api/messages",
     "/chat/api/conversations", "/inbox/api/conversations/webchat:fuzz-handoff/notes",
     "/inbox/login"],
)  # fmt: skip
async def test_a_body_that_is_not_its_content_encoding_is_a_400(
    edges: Edges, path: str, encoding: str
) -> None:
    """Found by the fuzzer: aiohttp raises while decoding, which was a 500."""
    raw = b'{"text": "halo"}'
    headers = {
        "Content-Encoding": encoding,
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
        SECRET_HEADER: edges.secret,
        **wa.signed(raw, WHATSAPP_SECRET),
        **edges.bearer,
    }
    status, text = await post(edges.client, path, raw, headers)
    assert status in (400, 403), (status, text)  # 403: the login form's CSRF comes first
