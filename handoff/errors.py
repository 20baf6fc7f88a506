"""Errors raised by conversation state and storage."""


class HandoffError(Exception):
    """Base class of the handoff package's errors."""


class StoreUnavailable(HandoffError):
    """Raised when Redis cannot be reached or times out; the request may be retried later."""


class LockTimeout(HandoffError):
    """Raised when a conversation's turn lock could not be taken within the allowed wait."""
