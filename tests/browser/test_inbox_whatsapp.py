"""WhatsApp after the 24-hour window: the page offers the approved templates only then, sends
one (filled from the contact) to the local Cloud API, and marks the customer's message read
when an agent opens the conversation."""

from __future__ import annotations

from playwright.async_api import expect

from bot.core.messages import ConversationKey
from handoff import Entry, Role, Transcript, keys
from handoff.conversations import Conversations
from handoff.handoffs import Handoffs
from handoff.store import Store, now_ms
from handoff.summary import Summary
from tests.browser.conftest import NEEDS_BROWSER, Login, Serve, whatsapp_settings
from tests.support.waiting import eventually
from tests.support.whatsapp_api import CloudApi

pytestmark = NEEDS_BROWSER
TEMPLATES = "loket_buka_lagi:id loket_lanjutan:id:name+ticket"


async def customer_wrote(store: Store, key: ConversationKey, wamid: str, hours_ago: float) -> None:
    line = Entry(Role.CUSTOMER, "Laporan TKT000123 ada kabar?", meta={"message_id": wamid})
    await Transcript(store).append(key, [line], name="Dewi")
    await store.redis.hset(keys.conversation(key.id), "last_customer_at",
                           now_ms() - int(hours_ago * 3600_000))  # fmt: skip


async def test_a_template_reopens_the_conversation_after_the_window(
    agent_page: Login, serve: Serve, cloud_api: CloudApi, store: Store
) -> None:
    cloud_api.templates[("loket_lanjutan", "id")] = 2
    base = await serve(**whatsapp_settings(cloud_api, TEMPLATES))
    key = ConversationKey("whatsapp", "6285711223344")
    cloud_api.received.add("wamid.IN1")
    await customer_wrote(store, key, "wamid.IN1", hours_ago=1)
    await Conversations(store).remember(key, "{}", "id", {"ticket_id": "TKT000123"})
    await Handoffs(store).request(key, reason="asked_for_human", detail="", language="id",
                                  summary=Summary(), note="Handed over")  # fmt: skip
    page = await agent_page("ana", base=base)
    await page.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    await eventually(lambda: cloud_api.read == ["wamid.IN1"])  # the blue ticks
    await page.click("#claim")
    await expect(page.locator("#reply-text")).to_be_enabled()
    await expect(page.locator("#template-row")).to_be_hidden()  # the window is open

    cloud_api.closed.add(key.chat_id)
    await store.redis.hset(keys.conversation(key.id), "last_customer_at",
                           now_ms() - 25 * 3600_000)  # fmt: skip
    await page.reload()
    await page.locator(f'#mine .card[data-id="{key.id}"] button').click(timeout=10_000)
    await expect(page.locator("#window-text")).to_contain_text("Jendela balasan WhatsApp tertutup")
    await expect(page.locator("#reply-text")).to_be_disabled()
    await expect(page.locator("#template option")).to_have_count(2)
    await page.select_option("#template", "loket_lanjutan:id")
    await page.click("#send-template")
    last = page.locator("#transcript .role-agent").last
    await expect(last.locator(".speaker")).to_have_text("Template oleh ana")
    await expect(last.locator(".delivery-state")).to_have_text("terkirim", timeout=10_000)
    [sent] = [m for m in cloud_api.sent if m["type"] == "template"]
    assert sent["to"] == key.chat_id and sent["template"] == {
        "name": "loket_lanjutan", "language": {"code": "id"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Dewi"},
                                                       {"type": "text", "text": "TKT000123"}]}],
    }  # fmt: skip


async def test_a_template_whatsapp_does_not_know_fails_visibly_with_the_reason(
    agent_page: Login, serve: Serve, cloud_api: CloudApi, store: Store
) -> None:
    base = await serve(**whatsapp_settings(cloud_api, "loket_buka_lagi:id"))
    key = ConversationKey("whatsapp", "6285711229999")
    await customer_wrote(store, key, "wamid.IN2", hours_ago=30)
    await Handoffs(store).request(key, reason="asked_for_human", detail="", language="id",
                                  summary=Summary(), note="Handed over")  # fmt: skip
    page = await agent_page("ana", base=base)
    await page.locator(f'#queue .card[data-id="{key.id}"] button').click(timeout=10_000)
    await page.click("#claim")
    await page.click("#send-template")
    failed = page.locator("#transcript .role-agent .delivery").last
    await expect(failed.locator(".delivery-state")).to_have_text("gagal", timeout=10_000)
    await expect(failed.locator(".delivery-reason")).to_have_text(
        "Tidak terkirim: WhatsApp tidak mengenal template ini dalam bahasa ini (sudah disetujui?)."
    )
