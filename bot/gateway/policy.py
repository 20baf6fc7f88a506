"""The understanding-failure policy: after each bot turn, should a person take over, and why.

It runs in the gateway, after Rasa answered and before anything reaches the customer, so it
holds whatever the model does. The reasons it gives are bot/core/reasons.py's.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.core.messages import HandoffSignal, Inbound, Outbound, Turn
from bot.core.reasons import NOT_UNDERSTOOD_INTENTS, Reason

# How the bot answers a message it did not understand. A form that still took a value from
# such a message (a bare meter number) did understand it.
FALLBACK_ACTIONS = frozenset(
    {"action_rephrase", "utter_out_of_scope", "utter_please_rephrase", "action_default_fallback"}
)
# How the bot says it cannot help with what it understood (no rule for this turn): whatever
# the intent, such a turn counts toward the handoff like one not understood.
CANNOT_HELP_ACTIONS = frozenset({"action_cannot_help", "action_default_fallback"})
# Answers that may honestly repeat: "sama-sama" twice is politeness, not a loop.
REPEATABLE_INTENTS = frozenset({"greet", "thank", "goodbye"})
# A status asked for again ("kapan jatuh temponya?" after the bill) is read afresh and may
# honestly be the same answer; the same question of a form asked again is still a loop.
STATUS_INTENTS = frozenset({"check_bill", "check_transaction", "check_complaint"})
MAX_FAILED_TURNS = 2  # the first miss gets a contextual rephrase, the second a person
MAX_SLOT_ASKS = 3  # a form asking for the same thing a third time is going nowhere

_ONLY_PUNCTUATION = re.compile(r"^[\s?!.]*\?[\s?!.]*$")


@dataclass(frozen=True, slots=True)
class Memory:
    """What the policy remembers of a conversation between turns (kept in Redis)."""

    failed_turns: int = 0
    last_bot_texts: tuple[str, ...] = ()
    requested_slot: str | None = None
    slot_asks: int = 0
    collected: str = ""  # digest of the slots filled so far: a change means progress

    def to_json(self) -> str:
        return json.dumps(
            [self.failed_turns, list(self.last_bot_texts), self.requested_slot, self.slot_asks,
             self.collected],
            ensure_ascii=False,
        )  # fmt: skip

    @classmethod
    def from_json(cls, raw: str) -> Memory:
        if not raw:
            return cls()
        failed, texts, slot, asks, collected = json.loads(raw)
        return cls(int(failed), tuple(texts), slot, int(asks), str(collected))


def _digest(slots: Mapping[str, Any]) -> str:
    filled = {k: v for k, v in slots.items() if k not in ("requested_slot", "language")}
    return hashlib.sha1(json.dumps(filled, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Verdict:
    memory: Memory
    handoff: HandoffSignal | None = None
    failed_turns: int = 0  # consecutive not-understood turns, this one included
    replies: tuple[Outbound, ...] = ()  # what to send when no handoff

    @property
    def hand_over(self) -> bool:
        return self.handoff is not None


def shouting(text: str) -> bool:
    """ALL CAPS over several words ("KOK TOKEN SAYA GA MASUK2"), not an acronym like "PLN"."""
    letters = [ch for ch in text if ch.isalpha()]
    return len(text.split()) >= 3 and len(letters) >= 10 and all(ch.isupper() for ch in letters)


def exasperated(text: str) -> bool:
    """A message of question marks only ("??", "???")."""
    return text.count("?") >= 2 and bool(_ONLY_PUNCTUATION.match(text))


def judge(inbound: Inbound, turn: Turn, memory: Memory) -> Verdict:
    """Decide on one turn. Signals are checked from the most explicit to the most inferred."""
    intent = turn.understanding.intent.name if turn.understanding.intent else None
    # Never say again, word for word, what the customer has just above: a form's question
    # re-asked after a side answer is dropped, the side answer stays.
    fresh = tuple(r for r in turn.replies if r.text not in memory.last_bot_texts)
    slot = turn.slots.get("requested_slot")
    asked_again = intent in STATUS_INTENTS and not slot
    repeating = (
        bool(turn.replies) and not fresh and intent not in REPEATABLE_INTENTS and not asked_again
    )
    replies = fresh or turn.replies
    texts = tuple(r.text for r in replies)
    collected = _digest(turn.slots)
    # Asking again for the same thing counts only when nothing new was learned meanwhile
    # (a correction at the confirmation step is progress, a second wrong number is not).
    same_ask = slot and slot == memory.requested_slot and collected == memory.collected
    asks = memory.slot_asks + 1 if same_ask else int(bool(slot))
    fell_back = not turn.actions or any(a in FALLBACK_ACTIONS for a in turn.actions)
    cannot_help = any(a in CANNOT_HELP_ACTIONS for a in turn.actions)
    missed = (intent in NOT_UNDERSTOOD_INTENTS and fell_back) or cannot_help
    failed = memory.failed_turns + 1 if missed else 0
    nxt = Memory(failed, texts, slot, asks, collected)

    def over(signal: HandoffSignal) -> Verdict:
        return Verdict(replace(nxt, failed_turns=0, slot_asks=0), signal, failed)

    if turn.handoff is not None:  # an action asked for it (backend down, asked for a person)
        return over(turn.handoff)
    if not turn.replies:
        # The bot said nothing at all: not an answer but a failure. Rasa carries on without
        # an action's events when it cannot reach the action server, leaving the customer in
        # silence.
        ran = ", ".join(turn.actions) or "none"
        return over(HandoffSignal(Reason.BOT_UNAVAILABLE, f"no answer (actions run: {ran})"))
    if intent == "request_human":
        return over(HandoffSignal(Reason.ASKED_FOR_HUMAN, "the customer asked for a person"))
    if intent == "complain_bot" or exasperated(inbound.text) or shouting(inbound.text):
        return over(HandoffSignal(Reason.FRUSTRATED, f"frustration: {inbound.text[:80]!r}"))
    # A form stuck on one question says more to the agent than "not understood".
    if asks >= MAX_SLOT_ASKS:
        return over(HandoffSignal(Reason.LOOPING, f"asked for {slot} {asks} times"))
    if failed >= MAX_FAILED_TURNS:
        return over(HandoffSignal(Reason.NOT_UNDERSTOOD, f"{failed} turns not understood"))
    if repeating:
        return over(HandoffSignal(Reason.LOOPING, f"about to repeat {texts[0][:60]!r}"))
    return Verdict(nxt, failed_turns=failed, replies=replies)
