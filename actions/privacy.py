"""What the bot shows about a customer to whoever is typing: masked names, the token only to
the chat that ordered it, and a cap on how many different numbers one chat may look up.

Anyone can type a meter number or a customer id (they are printed on meters and bills), so a
look-up must not hand out what belongs to the account holder. See docs/security.md.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import say

DEFAULT_LOOKUP_LIMIT = 5  # different numbers one conversation may look up per window
LOOKUP_WINDOW_S = 24 * 3600
# Digit groups typed with single spaces, dots or dashes between them: "1423 4567 890".
_NUMBER = re.compile(r"[0-9](?:[ .-]?[0-9])*")
_TICKET = re.compile(r"\btkt[0-9]{6}\b", re.IGNORECASE)


def mask_name(name: str) -> str:
    """'BUDI SANTOSO' -> 'BUDI S*******': enough for the holder to recognise, not to learn.

    The first word stays (a single-word name keeps at most its first three letters); every
    further word keeps its initial.
    """
    words = name.split()
    if not words:
        return ""
    if len(words) == 1:
        shown = min(3, (len(words[0]) + 1) // 2)
        return words[0][:shown] + "*" * (len(words[0]) - shown)
    return " ".join([words[0], *(w[0] + "*" * (len(w) - 1) for w in words[1:])])


def token_tail(token: str | None) -> str:
    """The last four digits of a token, the way a receipt shows them: '…3395'."""
    digits = re.sub(r"[^0-9]", "", token or "")
    return f"…{digits[-4:]}" if digits else "-"


def ordered_here(reference: str | None, tracker: Tracker) -> bool:
    """True when this conversation placed the order (its id is the order's reference)."""
    return bool(reference) and reference == tracker.sender_id


def numbers_in(text: str) -> set[str]:
    """The meter numbers (11 digits), customer ids (12) and ticket ids a message names."""
    found = {re.sub(r"[^0-9]", "", m) for m in _NUMBER.findall(text)}
    numbers = {n for n in found if len(n) in (11, 12)}
    return numbers | {t.upper() for t in _TICKET.findall(text)}


def lookup_limit(environ: Mapping[str, str] | None = None) -> int:
    """LOKET_LOOKUP_LIMIT: different numbers per conversation per 24 h (0: no limit)."""
    raw = (environ if environ is not None else os.environ).get("LOKET_LOOKUP_LIMIT", "").strip()
    try:
        return max(0, int(raw)) if raw else DEFAULT_LOOKUP_LIMIT
    except ValueError:
        return DEFAULT_LOOKUP_LIMIT


def _earlier_numbers(events: Iterable[Mapping[str, Any]], since: float) -> set[str]:
    """Numbers the customer typed within the window, before their latest message."""
    user = [e for e in events if e.get("event") == "user"]
    seen: set[str] = set()
    for event in user[:-1]:
        if float(event.get("timestamp") or 0) >= since:
            seen |= numbers_in(str(event.get("text") or ""))
    return seen


def may_look_up(
    dispatcher: CollectingDispatcher, tracker: Tracker, number: str, *, now: float | None = None
) -> bool:
    """Whether this conversation may look `number` up; when not, says why to the customer.

    A number already looked up in the window is always allowed again; a new one only while
    fewer than the limit of different numbers were typed in this conversation.
    """
    limit = lookup_limit()
    if not limit:
        return True
    since = (time.time() if now is None else now) - LOOKUP_WINDOW_S
    earlier = _earlier_numbers(tracker.events, since)
    wanted = number.upper() if _TICKET.fullmatch(number) else re.sub(r"[^0-9]", "", number)
    if wanted in earlier or len(earlier) < limit:
        return True
    say(dispatcher, "utter_lookup_limit", limit=limit)
    return False


def own_tickets(tracker: Tracker) -> set[str]:
    """Ticket ids opened in this conversation (the slot set right after opening one)."""
    own: set[str] = set()
    last_action = ""
    for event in tracker.events:
        kind = event.get("event")
        if kind == "action":
            last_action = str(event.get("name") or "")
        elif (
            kind == "slot"
            and event.get("name") == "ticket_id"
            and event.get("value")
            and last_action == "action_open_complaint"
        ):
            own.add(str(event["value"]).upper())
    return own
