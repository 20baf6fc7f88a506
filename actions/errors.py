"""Errors the provider client raises; the actions turn them into an honest sentence."""

from __future__ import annotations


class ProviderError(Exception):
    """Base class of the provider client's errors; `code` is the provider's reason, if any."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class ProviderMisconfigured(ProviderError):
    """Raised by `Provider.from_env` when LOKET_PROVIDER_URL or LOKET_PROVIDER_TIMEOUT is
    malformed; the message names the variable."""


class ProviderUnavailable(ProviderError):
    """Raised when the provider is unreachable, times out, fails (5xx, 429) or answers
    something that is not the JSON we expect; asking again later may work."""


class NotFound(ProviderError):
    """Raised when the provider has no such customer, transaction, bill or ticket (404)."""


class InvalidRequest(ProviderError):
    """Raised when the provider refuses the request as asked (4xx other than 404), e.g.
    `invalid_number`, `invalid_amount`, `not_prepaid`, `not_postpaid`; see `code`."""
