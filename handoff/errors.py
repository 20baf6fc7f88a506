"""Errors raised by conversation state and storage."""


class HandoffError(Exception):
    """Base class of the handoff package's errors."""


class StoreUnavailable(HandoffError):
    """Raised when Redis cannot be reached or times out; the request may be retried later."""


class LockTimeout(HandoffError):
    """Raised when a conversation's turn lock could not be taken within the allowed wait."""


class TransitionRefused(HandoffError):
    """Raised when a conversation is not in a status the transition may start from."""

    def __init__(self, transition: str, status: str, assignee: str = "") -> None:
        self.transition = transition
        self.status = status
        self.assignee = assignee
        who = f" by {assignee}" if assignee else ""
        super().__init__(f"cannot {transition}: the conversation is {status}{who}")
