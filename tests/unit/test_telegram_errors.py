"""Classifying Telegram's errors: permanent or not, and a reason an agent understands."""

from __future__ import annotations

import datetime as dtm

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from channels.telegram.errors import retry_after_seconds, send_failed


@pytest.mark.parametrize(
    ("exc", "permanent", "reason"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), True,
         "the customer blocked the bot"),
        (Forbidden("Forbidden: bot can't initiate conversation with a user"), True,
         "the customer never started a chat with the bot"),
        (Forbidden("Forbidden: something new"), True,
         "Telegram refused the message: something new"),
        (BadRequest("Bad Request: chat not found"), True,
         "the customer's chat no longer exists on Telegram"),
        (BadRequest("Bad Request: can't parse entities"), True,
         "Telegram rejected the message: Can't parse entities"),
        (ChatMigrated(-100123), True, "the chat moved to a new id (it became a supergroup)"),
        (InvalidToken("Unauthorized"), False,
         "Telegram rejected the bot token (check LOKET_TELEGRAM_TOKEN)"),
        (TimedOut(), False, "Telegram did not answer in time"),
        (NetworkError("Bad Gateway"), False, "Telegram is unreachable or failing: Bad Gateway"),
        (TelegramError("Invalid server response"), False,
         "Telegram error: Invalid server response"),
    ],
)  # fmt: skip
def test_failures_are_classified(exc: TelegramError, permanent: bool, reason: str) -> None:
    failed = send_failed(exc)
    assert (failed.permanent, failed.reason, failed.retry_after) == (permanent, reason, None)


def test_retry_after_is_read_as_seconds_in_either_ptb_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    failed = send_failed(RetryAfter(dtm.timedelta(seconds=7)))
    assert (failed.permanent, failed.retry_after) == (False, 7.0)
    monkeypatch.setenv("PTB_TIMEDELTA", "false")
    with pytest.warns(PTBDeprecationWarning):  # PTB itself warns while building the error
        exc = RetryAfter(3)
    assert retry_after_seconds(exc) == 3.0  # and reading it here does not warn again
