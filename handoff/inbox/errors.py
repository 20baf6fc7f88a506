"""Errors raised by the agents' inbox; the web layer turns each into one HTTP status."""

from __future__ import annotations

from handoff.errors import HandoffError


class InboxError(HandoffError):
    """Base class of the inbox's errors; the message is shown to the agent as is."""


class Invalid(InboxError):
    """Raised when a request or a command's input is malformed (a bad name, an empty reply)."""


class NotSignedIn(InboxError):
    """Raised when a request carries no valid session cookie or API token."""


class Forbidden(InboxError):
    """Raised when the agent may not do this: a trainer replying, a conversation assigned to
    someone else, a missing or wrong CSRF token."""


class NotFound(InboxError):
    """Raised for an unknown conversation, transcript line, agent or canned reply."""


class Conflict(InboxError):
    """Raised when the conversation is not in a state that allows the action; `assignee`
    names who holds it when that is the reason (two agents claiming at once)."""

    def __init__(self, message: str, assignee: str = "") -> None:
        super().__init__(message)
        self.assignee = assignee


class AgentExists(Conflict):
    """Raised when adding an account under a name that is taken."""


class TooManyAttempts(InboxError):
    """Raised when an account must wait before its next login attempt, or an address tried
    too often; retry after `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        if retry_after < 60:
            wait = f"{retry_after} second{'s' if retry_after != 1 else ''}"
        else:
            minutes = (retry_after + 59) // 60
            wait = f"{minutes} minute{'s' if minutes > 1 else ''}"
        super().__init__(f"Too many failed logins. Try again in {wait}.")
        self.retry_after = retry_after


class MediaUnavailable(InboxError):
    """Raised when a customer's attachment cannot be fetched from its channel any more."""
