"""Conversations, transcripts, handoffs and the agents' inbox."""

from handoff.conversations import Conversations
from handoff.errors import HandoffError, LockTimeout, StoreUnavailable
from handoff.transcript import Entry, Role, Transcript

__all__ = [
    "Conversations",
    "Entry",
    "HandoffError",
    "LockTimeout",
    "Role",
    "StoreUnavailable",
    "Transcript",
]
