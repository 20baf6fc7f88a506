"""WhatsAppSender against a local Cloud API: requests on the wire, error classes, media."""

from __future__ import annotations

import base64
import hashlib
import socket
from collections.abc import AsyncIterator

import pytest

from bot.core.channel import FailureCode, MediaUnavailable, SendFailed
from bot.core.messages import Button, ConversationKey, Outbound, Template
from channels.whatsapp import WhatsAppSender
from channels.whatsapp.convert import outbound_requests
from channels.whatsapp.errors import OUTSIDE_WINDOW
from channels.whatsapp.sender import digest_matches
from tests.support.whatsapp_api import TOKEN, VERSION, CloudApi

KEY = ConversationKey("whatsapp", "6281234567890")


@pytest.fixture
async def api() -> AsyncIterator[CloudApi]:
    cloud = await CloudApi().start()
    yield cloud
    await cloud.close()


@pytest.fixture
async def sender(api: CloudApi) -> AsyncIterator[WhatsAppSender]:
    async with WhatsAppSender(api.url, api.phone_number_id, api.token) as opened:
        yield opened


def outbound(text: str = "Token Anda: 1234-5678-9012-3456-7890", *buttons: Button) -> Outbound:
    return Outbound(KEY, text, buttons)


async def test_a_text_is_posted_with_the_bearer_token_and_its_wamid_returned(
    api: CloudApi, sender: WhatsAppSender
) -> None:
    message = outbound()
    sent = await sender.send(message)
    assert api.sent == outbound_requests(message)
    (call,) = api.calls
    assert (call.method, call.path) == ("POST", f"/{VERSION}/{api.phone_number_id}/messages")
    assert call.authorization == f"Bearer {TOKEN}"
    assert len(sent.message_ids) == 1 and sent.message_ids[0].startswith("wamid.")
    assert sender.channel == "whatsapp" and sender.reply_window == 24 * 3600.0


async def test_a_long_text_with_buttons_is_sent_in_order_and_every_wamid_kept(
    api: CloudApi, sender: WhatsAppSender
) -> None:
    message = outbound("panjang " * 700, Button("Ya", "/affirm"), Button("Tidak", "/deny"))
    sent = await sender.send(message)
    assert [r["type"] for r in api.sent] == ["text", "text", "interactive"]
    assert api.sent == outbound_requests(message)
    assert len(set(sent.message_ids)) == 3


async def test_a_failure_part_way_reports_the_parts_sent_and_a_retry_skips_them(
    api: CloudApi, sender: WhatsAppSender
) -> None:
    message = outbound("panjang " * 700, Button("Ya", "/affirm"), Button("Tidak", "/deny"))
    reported: list[tuple[int, str]] = []

    async def part_sent(parts: int, wamid: str) -> None:
        reported.append((parts, wamid))

    api.fail(131000, after=1)  # the second request fails, retryably
    with pytest.raises(SendFailed) as failed:
        await sender.send(message, part_sent=part_sent)
    assert failed.value.permanent is False
    assert len(api.sent) == 1 and [n for n, _ in reported] == [1]
    sent = await sender.send(message, skip=1, part_sent=part_sent)
    assert api.sent == outbound_requests(message)  # every request once, in order
    assert [n for n, _ in reported] == [1, 2]  # the last part is in what send returns
    assert len(sent.message_ids) == 2 and reported[0][1] not in sent.message_ids


@pytest.mark.parametrize(
    ("code", "status", "retry_after", "permanent", "wait", "reason"),
    [
        (131047, None, None, True, None, OUTSIDE_WINDOW),
        (130429, None, None, False, 5.0, "WhatsApp rate limit: Rate limit hit"),
        (130429, 429, "12", False, 12.0, "WhatsApp rate limit: Rate limit hit"),
        (80007, None, None, False, 60.0, "WhatsApp rate limit: Rate limit issues"),
        (4, None, None, False, 60.0, "WhatsApp rate limit: Application request limit reached"),
        (131026, None, None, True, None,
         "WhatsApp refused the message: Message undeliverable (WhatsApp error 131026)"),
        (190, None, None, True, None, "LOKET_WHATSAPP_TOKEN"),
        (10, None, None, True, None, "LOKET_WHATSAPP_TOKEN"),
        (131000, None, None, False, None, "WhatsApp is unavailable: Something went wrong"),
        (2, 503, "3", False, 3.0, "WhatsApp is unavailable"),
    ],
)  # fmt: skip
async def test_api_errors_are_classified_permanent_or_retryable(
    api: CloudApi,
    sender: WhatsAppSender,
    code: int,
    status: int | None,
    retry_after: str | None,
    permanent: bool,
    wait: float | None,
    reason: str,
) -> None:
    api.fail(code, status=status, retry_after=retry_after)
    with pytest.raises(SendFailed) as failed:
        await sender.send(outbound())
    assert failed.value.permanent is permanent
    assert failed.value.retry_after == wait
    assert reason in failed.value.reason
    assert api.sent == []


async def test_a_scripted_failure_lasts_n_sends_then_sending_works_again(
    api: CloudApi, sender: WhatsAppSender
) -> None:
    api.fail(130429, times=2)
    for _ in range(2):
        with pytest.raises(SendFailed):
            await sender.send(outbound())
    assert (await sender.send(outbound())).message_ids
    assert len(api.calls) == 3 and len(api.sent) == 1


async def test_a_wrong_token_or_number_names_the_variable_to_fix(api: CloudApi) -> None:
    async with WhatsAppSender(api.url, api.phone_number_id, "expired") as wrong_token:
        with pytest.raises(SendFailed) as failed:
            await wrong_token.send(outbound())
    assert failed.value.permanent and "LOKET_WHATSAPP_TOKEN" in failed.value.reason
    async with WhatsAppSender(api.url, "000", api.token) as wrong_number:
        with pytest.raises(SendFailed) as failed:
            await wrong_number.send(outbound())
    assert failed.value.permanent and "LOKET_WHATSAPP_PHONE_NUMBER_ID" in failed.value.reason


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_unreachable_api_is_a_retryable_failure() -> None:
    async with WhatsAppSender(f"http://127.0.0.1:{free_port()}/v21.0", "1", "t") as sender:
        with pytest.raises(SendFailed) as failed:
            await sender.send(outbound())
    assert failed.value.permanent is False
    assert "cannot reach the WhatsApp API" in failed.value.reason


async def test_an_unopened_sender_fails_retryably() -> None:
    with pytest.raises(SendFailed) as failed:
        await WhatsAppSender("http://127.0.0.1:9/v21.0", "1", "t").send(outbound())
    assert failed.value.permanent is False


async def test_media_is_looked_up_then_downloaded_with_the_token(
    api: CloudApi, sender: WhatsAppSender
) -> None:
    photo = b"\xff\xd8\xff\xe0 a photo of the meter " + bytes(range(256))
    media_id = api.add_media(photo, "image/jpeg")
    media = await sender.fetch_media(media_id)
    assert (media.content, media.content_type, media.filename) == (
        photo, "image/jpeg", f"{media_id}.jpg"
    )  # fmt: skip
    lookup, download = api.calls
    assert lookup.path == f"/{VERSION}/{media_id}"
    assert download.path == "/whatsapp_business/attachments/"
    assert {lookup.authorization, download.authorization} == {f"Bearer {TOKEN}"}
    assert hashlib.sha256(media.content).hexdigest() == hashlib.sha256(photo).hexdigest()


async def test_unknown_or_malformed_media_ids_are_unavailable(
    api: CloudApi, sender: WhatsAppSender
) -> None:
    with pytest.raises(MediaUnavailable, match="does not exist"):
        await sender.fetch_media("123456789")
    with pytest.raises(MediaUnavailable, match="not a WhatsApp media id"):
        await sender.fetch_media("../../me")
    assert [c.path for c in api.calls] == [f"/{VERSION}/123456789"]


async def test_media_that_arrives_damaged_is_refused(api: CloudApi, sender: WhatsAppSender) -> None:
    media_id = api.add_media(b"voice note", "audio/ogg", served=b"voice n0te")
    with pytest.raises(MediaUnavailable, match="sha256"):
        await sender.fetch_media(media_id)


def test_media_hashes_are_checked_in_hex_or_base64() -> None:
    content = b"struk pembayaran"
    digest = hashlib.sha256(content).digest()
    assert digest_matches(digest.hex(), content)
    assert digest_matches(digest.hex().upper(), content)
    assert digest_matches(base64.b64encode(digest).decode(), content)
    assert not digest_matches(hashlib.sha256(b"other").hexdigest(), content)
    assert not digest_matches(base64.b64encode(hashlib.sha256(b"x").digest()).decode(), content)
    assert digest_matches("", content)  # none reported


async def test_a_template_is_sent_in_the_cloud_api_template_format(
    api: CloudApi, sender: WhatsAppSender
) -> None:
    api.templates[("loket_follow_up", "id")] = 2
    api.closed.add(KEY.chat_id)  # only a template reaches a customer whose window closed
    message = Outbound(KEY, "[template]", template=Template("loket_follow_up", "id",
                                                             ("Budi", "TKT000123")))  # fmt: skip
    sent = await sender.send(message)
    assert api.sent == [{
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": KEY.chat_id,
        "type": "template",
        "template": {"name": "loket_follow_up", "language": {"code": "id"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Budi"},
                                            {"type": "text", "text": "TKT000123"}]}]},
    }]  # fmt: skip
    assert len(sent.message_ids) == 1
    with pytest.raises(SendFailed) as closed:
        await sender.send(outbound("halo lagi"))
    assert closed.value.permanent and closed.value.code is FailureCode.WINDOW_CLOSED


async def test_a_template_not_approved_or_with_wrong_parameters_fails_for_good(
    api: CloudApi, sender: WhatsAppSender
) -> None:
    api.templates[("loket_reopen", "id")] = 0
    unknown = Outbound(KEY, "x", template=Template("loket_reopen", "en"))
    with pytest.raises(SendFailed) as refused:
        await sender.send(unknown)
    assert refused.value.permanent and refused.value.code is FailureCode.TEMPLATE_UNKNOWN
    assert "132001" in refused.value.reason
    extra = Outbound(KEY, "x", template=Template("loket_reopen", "id", ("Budi",)))
    with pytest.raises(SendFailed) as wrong:
        await sender.send(extra)
    assert wrong.value.code is FailureCode.TEMPLATE_PARAMS and api.sent == []
    await sender.send(Outbound(KEY, "x", template=Template("loket_reopen", "id")))
    assert api.sent[0]["template"] == {"name": "loket_reopen", "language": {"code": "id"}}


async def test_mark_read_posts_the_read_status_of_the_customers_message(
    api: CloudApi, sender: WhatsAppSender
) -> None:
    api.received.add("wamid.HBgNIN1")
    await sender.mark_read(KEY, "wamid.HBgNIN1")
    assert api.read == ["wamid.HBgNIN1"]
    assert api.calls[-1].body == {
        "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.HBgNIN1"
    }  # fmt: skip
    with pytest.raises(SendFailed) as unknown:
        await sender.mark_read(KEY, "wamid.nobody")
    assert unknown.value.permanent and "Invalid message_id" in unknown.value.reason
    await sender.typing(KEY)  # the Cloud API has no typing signal of its own: nothing sent
    assert len(api.calls) == 2
