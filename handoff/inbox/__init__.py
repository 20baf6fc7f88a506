"""The agents' web inbox: accounts, sessions, the queue and conversations, live updates, API."""

from handoff.inbox.accounts import Accounts, Agent, AgentRole
from handoff.inbox.models import setup as setup_models
from handoff.inbox.services import InboxServices, InboxSettings
from handoff.inbox.web import setup

__all__ = [
    "Accounts",
    "Agent",
    "AgentRole",
    "InboxServices",
    "InboxSettings",
    "setup",
    "setup_models",
]
