"""A conversation's status and the transitions between statuses, in one table."""

from __future__ import annotations

import enum


class Status(str, enum.Enum):
    BOT = "bot"  # the bot answers
    WAITING = "waiting"  # handed over, in the queue; the bot is silent
    ASSIGNED = "assigned"  # an agent owns it; the bot is silent
    CLOSED = "closed"  # an agent closed it; the next message goes to the bot again


# transition -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "request": (frozenset({Status.BOT, Status.CLOSED}), Status.WAITING),
    "claim": (frozenset({Status.WAITING}), Status.ASSIGNED),
    "transfer": (frozenset({Status.ASSIGNED}), Status.ASSIGNED),
    "hand_back": (frozenset({Status.WAITING, Status.ASSIGNED}), Status.BOT),
    "close": (frozenset({Status.WAITING, Status.ASSIGNED}), Status.CLOSED),
}

WITH_PEOPLE = frozenset({Status.WAITING, Status.ASSIGNED})
