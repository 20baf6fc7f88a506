"""WhatsApp's errors and how Loket reads them: Cloud API error codes become SendFailed reasons."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.channel import FailureCode, SendFailed
from bot.core.errors import LoketError

REENGAGEMENT = 131047
TEMPLATE_PARAMS = 132000  # the number of parameters does not match the template
TEMPLATE_UNKNOWN = 132001  # no approved template of this name in this language
OUTSIDE_WINDOW = (
    "outside WhatsApp's 24-hour customer-service window: the customer must write first "
    "(or use an approved template)"
)
# Throughput (130429), pair rate (131056), spam rate (131048), WABA (80007), app (4) limits,
# with how long to wait when Meta sends no Retry-After.
RATE_LIMITS: dict[int, float] = {130429: 5.0, 131056: 6.0, 131048: 60.0, 80007: 60.0, 4: 60.0}
# Meta's own "try again later" errors.
TRANSIENT = frozenset({1, 2, 131000, 131016, 133004})
INVALID_TOKEN = frozenset({190, 102, 463, 467})
NO_PERMISSION = frozenset({3, 10, *range(200, 300)})
NO_SUCH_OBJECT = 33  # error_subcode of code 100: the id in the URL does not exist


class WhatsAppError(LoketError):
    """Base class of the WhatsApp channel's own errors."""


class SignatureMissing(WhatsAppError):
    """Raised when a webhook POST carries no X-Hub-Signature-256 header (answered 401)."""


class SignatureInvalid(WhatsAppError):
    """Raised when a webhook POST's signature does not match its body (answered 403)."""


class ApiError(WhatsAppError):
    """Raised when the Cloud API answers with an error object; `code` is Meta's error code."""

    def __init__(self, status: int, code: int | None, subcode: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.subcode = subcode
        self.message = message

    @classmethod
    def from_response(cls, status: int, body: object) -> ApiError:
        """Read `{"error": {"message", "code", "error_subcode", "error_data": {"details"}}}`."""
        error = body.get("error") if isinstance(body, Mapping) else None
        if not isinstance(error, Mapping):
            return cls(status, None, None, f"HTTP {status}")
        data = error.get("error_data")
        details = data.get("details") if isinstance(data, Mapping) else None
        message = details or error.get("message") or f"HTTP {status}"
        return cls(status, _int(error.get("code")), _int(error.get("error_subcode")), str(message))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def failure_reason(code: int | None, message: str) -> str:
    """A sentence for the agent about a message WhatsApp did not deliver."""
    if code == REENGAGEMENT:
        return OUTSIDE_WINDOW
    suffix = f" (WhatsApp error {code})" if code is not None else ""
    return f"WhatsApp refused the message: {message}{suffix}"


def send_failed(error: ApiError, retry_after: float | None = None) -> SendFailed:
    """Classify an API error: permanent (do not retry) or transient (retry, maybe after a wait)."""
    code, status = error.code, error.status
    if code == REENGAGEMENT:
        return SendFailed(OUTSIDE_WINDOW, permanent=True, code=FailureCode.WINDOW_CLOSED)
    if code in (TEMPLATE_PARAMS, TEMPLATE_UNKNOWN):
        failure = (
            FailureCode.TEMPLATE_PARAMS if code == TEMPLATE_PARAMS else FailureCode.TEMPLATE_UNKNOWN
        )
        return SendFailed(failure_reason(code, error.message), permanent=True, code=failure)
    if code in RATE_LIMITS or status == 429:
        wait = retry_after if retry_after is not None else RATE_LIMITS.get(code or 0, 30.0)
        return SendFailed(
            f"WhatsApp rate limit: {error.message}", permanent=False, retry_after=wait
        )
    if code in INVALID_TOKEN or status == 401:
        return SendFailed(
            f"WhatsApp rejected the access token, check LOKET_WHATSAPP_TOKEN: {error.message}",
            permanent=True,
        )
    if code in NO_PERMISSION or status == 403:
        return SendFailed(
            "the access token may not send from this number, check LOKET_WHATSAPP_TOKEN "
            f"(whatsapp_business_messaging permission): {error.message}",
            permanent=True,
        )
    if code == 100 and error.subcode == NO_SUCH_OBJECT:
        return SendFailed(
            f"unknown phone number id, check LOKET_WHATSAPP_PHONE_NUMBER_ID: {error.message}",
            permanent=True,
        )
    if code in TRANSIENT or status >= 500:
        return SendFailed(
            f"WhatsApp is unavailable: {error.message}", permanent=False, retry_after=retry_after
        )
    return SendFailed(failure_reason(code, error.message), permanent=True)
