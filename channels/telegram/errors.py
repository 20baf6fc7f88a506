"""Telegram's errors turned into the channel contract's: SendFailed with a reason an agent reads."""

from __future__ import annotations

import datetime as dtm
import warnings

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

from bot.core.channel import FailureCode, SendFailed

# Substrings of Telegram's 403 descriptions and what they mean for the agent.
_FORBIDDEN = (
    ("blocked by the user", "the customer blocked the bot"),
    ("user is deactivated", "the customer's Telegram account was deleted"),
    ("can't initiate conversation", "the customer never started a chat with the bot"),
    ("kicked", "the bot was removed from this chat"),
)
_GONE = (
    ("chat not found", "the customer's chat no longer exists on Telegram"),
    ("peer_id_invalid", "the customer's chat no longer exists on Telegram"),
    ("user not found", "the customer's Telegram account no longer exists"),
)


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked to wait. PTB 22 gives an int or a timedelta depending on the
    PTB_TIMEDELTA environment variable, and warns when read as an int."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def _describe(exc: TelegramError) -> str:
    return exc.message.removeprefix("Forbidden: ").removeprefix("Bad Request: ")


def send_failed(exc: TelegramError) -> SendFailed:
    """Classify one failed Bot API call: permanent when retrying cannot help."""
    text = exc.message.lower()
    if isinstance(exc, RetryAfter):
        wait = retry_after_seconds(exc)
        return SendFailed(f"Telegram rate limit: retry after {wait:g} s", permanent=False,
                          retry_after=wait)  # fmt: skip
    if isinstance(exc, Forbidden):
        reason = next((r for k, r in _FORBIDDEN if k in text), None)
        return SendFailed(reason or f"Telegram refused the message: {_describe(exc)}",
                          permanent=True, code=FailureCode.BLOCKED if reason else None)  # fmt: skip
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest is one of its subclasses
        reason = next((r for k, r in _GONE if k in text), None)
        return SendFailed(reason or f"Telegram rejected the message: {_describe(exc)}",
                          permanent=True)  # fmt: skip
    if isinstance(exc, ChatMigrated):
        return SendFailed("the chat moved to a new id (it became a supergroup)", permanent=True)
    if isinstance(exc, InvalidToken):
        return SendFailed("Telegram rejected the bot token (check LOKET_TELEGRAM_TOKEN)",
                          permanent=False)  # fmt: skip
    if isinstance(exc, TimedOut):
        return SendFailed("Telegram did not answer in time", permanent=False)
    if isinstance(exc, NetworkError):
        return SendFailed(f"Telegram is unreachable or failing: {_describe(exc)}", permanent=False)
    return SendFailed(f"Telegram error: {_describe(exc)}", permanent=False)
