"""The WhatsApp webhook in a small app with the gateway's error middleware and `install`."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import MAX_BODY, errors_middleware
from bot.core.channel import DeliveryState
from bot.core.errors import ConfigError
from bot.core.messages import Attachment, Inbound
from bot.core.settings import Settings
from channels.whatsapp import WhatsAppSender, install
from channels.whatsapp.errors import OUTSIDE_WINDOW
from channels.whatsapp.signature import HEADER, sign
from handoff.errors import StoreUnavailable
from tests.support.whatsapp_api import (
    PHONE_NUMBER_ID,
    TOKEN,
    CloudApi,
    message,
    messages_value,
    meta_json,
    signed,
    status,
    statuses_value,
    text_message,
    webhook,
)

PATH = "/channels/whatsapp/webhook"
SECRET = "4f1c0e9d-meta-app-secret"
VERIFY = "loket-verify-9d2"
ANGRY = "Token blm masuk 😡 é"


def whatsapp_settings(api_url: str = "http://127.0.0.1:9/v21.0", **kw: str) -> Settings:
    values = {"whatsapp_token": TOKEN, "whatsapp_app_secret": SECRET,
              "whatsapp_verify_token": VERIFY, "whatsapp_phone_number_id": PHONE_NUMBER_ID,
              "whatsapp_api_url": api_url, **kw}  # fmt: skip
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Recorder:
    """Our own Accept and Receipt interfaces, recording; a wamid seen before is a duplicate."""

    inbound: list[Inbound] = field(default_factory=list)
    receipts: list[tuple[str, str, DeliveryState, str]] = field(default_factory=list)
    down: bool = False

    async def accept(self, inbound: Inbound) -> bool:
        if self.down:
            raise StoreUnavailable("Redis is down")
        new = all(m.message_id != inbound.message_id for m in self.inbound)
        self.inbound.append(inbound)
        return new

    async def receipt(self, channel: str, wamid: str, state: DeliveryState, reason: str) -> None:
        self.receipts.append((channel, wamid, state, reason))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def api() -> AsyncIterator[CloudApi]:
    cloud = await CloudApi().start()
    yield cloud
    await cloud.close()


@dataclass
class Gateway:
    client: TestClient
    sender: WhatsAppSender


@pytest.fixture
async def gateway(recorder: Recorder, api: CloudApi) -> AsyncIterator[Gateway]:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[errors_middleware])
    sender = install(app, whatsapp_settings(api.url), recorder.accept, recorder.receipt)
    assert isinstance(sender, WhatsAppSender)
    async with TestClient(TestServer(app)) as client:
        yield Gateway(client, sender)


@pytest.fixture
def client(gateway: Gateway) -> TestClient:
    return gateway.client


async def post(client: TestClient, body: bytes, secret: str = SECRET) -> ClientResponse:
    return await client.post(PATH, data=body, headers=signed(body, secret))


async def test_the_handshake_echoes_the_challenge_for_the_right_verify_token(
    client: TestClient,
) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    response = await client.get(PATH, params=query)
    assert response.status == 200
    assert response.content_type == "text/plain"
    assert await response.text() == "1158201444"
    for wrong in ({"hub.verify_token": "guess"}, {"hub.mode": "unsubscribe"}):
        response = await client.get(PATH, params={**query, **wrong})
        assert response.status == 403
        assert "1158201444" not in await response.text()


def raw_utf8(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("encode", [meta_json, raw_utf8], ids=["meta-escaped", "raw-utf8"])
async def test_a_signed_message_is_accepted_with_accents_and_emoji_intact(
    client: TestClient, recorder: Recorder, encode: object
) -> None:
    item = text_message(ANGRY)
    body = encode(webhook(messages_value(item)))  # type: ignore[operator]
    response = await post(client, body)
    assert response.status == 200
    (inbound,) = recorder.inbound
    assert (inbound.text, inbound.message_id) == (ANGRY, item["id"])
    assert inbound.conversation.id == "whatsapp:6281234567890"


async def test_unsigned_or_wrongly_signed_posts_are_refused_and_nothing_kept(
    client: TestClient, recorder: Recorder
) -> None:
    payload = webhook(messages_value(text_message(ANGRY)))
    body = meta_json(payload)
    missing = await client.post(PATH, data=body, headers={"Content-Type": "application/json"})
    assert missing.status == 401
    assert (await post(client, body, secret="another-app")).status == 403
    # Signed over a re-encoding of the same JSON (what a handler that parses first would check).
    reencoded = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {HEADER: sign(SECRET, reencoded)}
    assert (await client.post(PATH, data=body, headers=headers)).status == 403
    headers = {HEADER: sign(SECRET, body).replace("sha256=", "sha1=")}
    assert (await client.post(PATH, data=body, headers=headers)).status == 403
    assert recorder.inbound == []


async def test_a_redelivered_batch_is_passed_on_with_the_same_wamids(
    client: TestClient, recorder: Recorder
) -> None:
    first, second = text_message("halo"), text_message("mau beli token")
    assert (await post(client, meta_json(webhook(messages_value(first))))).status == 200
    again = meta_json(webhook(messages_value(first, second)))
    assert (await post(client, again)).status == 200
    assert [m.message_id for m in recorder.inbound] == [first["id"], first["id"], second["id"]]


async def test_button_and_list_replies_arrive_as_payloads(
    client: TestClient, recorder: Recorder
) -> None:
    button = message(
        "interactive", {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Ya"}}
    )
    row = message(
        "interactive",
        {
            "type": "list_reply",
            "list_reply": {
                "id": "/buy_token",
                "title": "Beli token",
                "description": "Token listrik prabayar",
            },
        },
    )
    assert (await post(client, meta_json(webhook(messages_value(button, row))))).status == 200
    assert [(m.payload, m.text) for m in recorder.inbound] == [
        ("/affirm", "Ya"), ("/buy_token", "Beli token")
    ]  # fmt: skip


async def test_statuses_become_receipts(client: TestClient, recorder: Recorder) -> None:
    window = {"code": 131047, "title": "Re-engagement message"}
    value = statuses_value(
        status("wamid.A", "delivered"), status("wamid.A", "sent"),
        status("wamid.B", "failed", [window]),
    )  # fmt: skip
    assert (await post(client, meta_json(webhook(value)))).status == 200
    assert recorder.receipts == [
        ("whatsapp", "wamid.A", DeliveryState.DELIVERED, ""),
        ("whatsapp", "wamid.A", DeliveryState.SENT, ""),
        ("whatsapp", "wamid.B", DeliveryState.FAILED, OUTSIDE_WINDOW),
    ]
    assert recorder.inbound == []


async def test_a_photo_is_accepted_and_its_media_fetched_through_the_sender(
    gateway: Gateway, recorder: Recorder, api: CloudApi
) -> None:
    jpeg = b"\xff\xd8\xff\xe0meter-display"
    media_id = api.add_media(jpeg, "image/jpeg")
    photo = message("image", {"id": media_id, "mime_type": "image/jpeg", "caption": "meteran"})
    assert (await post(gateway.client, meta_json(webhook(messages_value(photo))))).status == 200
    (inbound,) = recorder.inbound
    assert inbound.attachment == Attachment("photo", media_id, "meteran")
    assert inbound.text == "[photo] meteran"
    media = await gateway.sender.fetch_media(inbound.attachment.ref)
    assert (media.content, media.content_type) == (jpeg, "image/jpeg")


async def test_unmapped_types_and_other_fields_are_acknowledged_and_ignored(
    client: TestClient, recorder: Recorder
) -> None:
    reaction = message("reaction", {"message_id": "wamid.X", "emoji": "👍"})
    for payload in (
        webhook(messages_value(reaction)),
        webhook({"event": "APPROVED", "message_template_id": 1}, "message_template_status_update"),
        {"object": "page", "entry": []},
    ):
        assert (await post(client, meta_json(payload))).status == 200
    assert recorder.inbound == [] and recorder.receipts == []


async def test_malformed_json_is_400(client: TestClient, recorder: Recorder) -> None:
    for body in (b'{"object": "whatsapp_business_account", "entry": [', b"[1, 2]", b"\xff\xfe"):
        response = await post(client, body)
        assert response.status == 400
        assert "error" in await response.json()
    assert recorder.inbound == []


async def test_bodies_over_one_megabyte_are_413_even_without_content_length(
    client: TestClient, recorder: Recorder
) -> None:
    big = meta_json(webhook(messages_value(text_message("x" * 4000)))) + b" " * MAX_BODY
    response = await client.post(PATH, data=io.BytesIO(big), headers=signed(big, SECRET))
    assert response.status == 413

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    response = await client.post(PATH, data=chunks(), headers=signed(big, SECRET))
    assert response.status == 413
    assert recorder.inbound == []


async def test_storage_down_answers_503_so_meta_retries(
    client: TestClient, recorder: Recorder
) -> None:
    recorder.down = True
    response = await post(client, meta_json(webhook(messages_value(text_message("halo")))))
    assert response.status == 503
    assert response.headers["Retry-After"]


async def test_install_returns_none_unconfigured_and_names_missing_variables() -> None:
    async def accept(inbound: Inbound) -> bool:
        return True

    async def receipt(channel: str, wamid: str, state: DeliveryState, reason: str) -> None:
        return None

    assert install(web.Application(), Settings(), accept, receipt) is None
    for field_name, variable in [
        ("whatsapp_app_secret", "LOKET_WHATSAPP_APP_SECRET"),
        ("whatsapp_verify_token", "LOKET_WHATSAPP_VERIFY_TOKEN"),
        ("whatsapp_phone_number_id", "LOKET_WHATSAPP_PHONE_NUMBER_ID"),
    ]:
        half_done = replace(whatsapp_settings(), **{field_name: ""})  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match=variable):
            install(web.Application(), half_done, accept, receipt)
