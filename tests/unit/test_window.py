"""The reply window, as delivery and the inbox both read it."""

from __future__ import annotations

from bot.core.messages import ConversationKey, Outbound, Template
from bot.core.window import ReplyWindow, reply_window

HOUR_MS = 3600 * 1000


def test_no_window_on_a_channel_without_one_or_before_the_customer_wrote() -> None:
    assert reply_window(None, 1_000) is None
    assert reply_window(24 * 3600.0, 0) is None


def test_the_window_closes_its_length_after_the_customers_last_message() -> None:
    window = reply_window(24 * 3600.0, 10 * HOUR_MS)
    assert window == ReplyWindow(24 * 3600.0, 10 * HOUR_MS)
    assert window.closes_at == 34 * HOUR_MS
    assert window.is_open(34 * HOUR_MS) and not window.is_open(34 * HOUR_MS + 1)
    assert window.as_json(35 * HOUR_MS) == {
        "seconds": 24 * 3600.0, "last_customer_at": 10 * HOUR_MS, "closes_at": 34 * HOUR_MS,
        "expired": True,
    }  # fmt: skip


def test_the_refusal_says_when_it_closed_and_what_unblocks_it() -> None:
    window = ReplyWindow(24 * 3600.0, 0)
    assert window.refusal() == (
        "the reply window closed at 1970-01-02 00:00 UTC, 24 h after the customer's last "
        "message: the customer must write first"
    )


def test_only_an_approved_template_goes_out_once_the_window_closed() -> None:
    key = ConversationKey("whatsapp", "6281234567890")
    window = ReplyWindow(24 * 3600.0, 0)
    free_form = Outbound(key, "Halo, ada kabar?")
    template = Outbound(key, "[template]", template=Template("loket_reopen", "id"))
    assert window.allows(free_form, 0) and window.allows(template, 0)
    assert not window.allows(free_form, 25 * HOUR_MS)
    assert window.allows(template, 25 * HOUR_MS)
