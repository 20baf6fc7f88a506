"""The agent's brief: what the customer wanted, what the bot collected, how it went wrong."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from bot.core.messages import IntentScore, Turn
from handoff.transcript import Entry, Role

# Slots that are bookkeeping, not something the customer told us.
_INTERNAL_SLOTS = frozenset(
    {"requested_slot", "language", "confirm_purchase", "session_started_metadata"}
)
# Intents that are not a request (the handoff reason already says "asked for a person").
_NOT_WANTS = frozenset(
    {"nlu_fallback", "out_of_scope", "greet", "goodbye", "thank", "affirm", "deny", "inform",
     "cancel", "help", "bot_challenge", "request_human", "complain_bot"}
)  # fmt: skip


class Fact(NamedTuple):
    """One line of the brief: a stable `key` (the inbox translates it), its English label."""

    key: str
    label: str
    lines: list[str]


@dataclass(frozen=True, slots=True)
class Summary:
    wanted: tuple[IntentScore, ...] = ()  # most recent first, best confidence per intent
    collected: Mapping[str, str] = field(default_factory=dict)
    last_action: str | None = None
    failed_turns: int = 0
    customer_messages: int = 0

    def one_line(self) -> str:
        parts = [
            ", ".join(f"{w.name} ({w.confidence:.2f})" for w in self.wanted[:2])
            or "no clear request"
        ]
        if self.collected:
            parts.append(", ".join(f"{k}={v}" for k, v in self.collected.items()))
        if self.failed_turns:
            parts.append(f"{self.failed_turns} not understood")
        return " · ".join(parts)

    def brief(self) -> dict[str, Any]:
        """What `one_line` says, as data, for a page that writes it in the agent's language."""
        return {
            "wanted": [{"intent": w.name, "confidence": round(w.confidence, 2)}
                       for w in self.wanted[:2]],
            "collected": dict(self.collected),
            "failed_turns": self.failed_turns,
        }  # fmt: skip

    def facts(self) -> list[Fact]:
        """What the agent reads, in the inbox (which translates each fact by its key) and in
        `loket handoffs show` (which prints the English label)."""
        return [
            Fact("wanted", "Wanted", [f"{w.name} ({w.confidence:.2f})" for w in self.wanted]),
            Fact("collected", "Collected", [f"{k}: {v}" for k, v in self.collected.items()]),
            Fact("last_action", "Last bot action", [self.last_action] if self.last_action else []),
            Fact("not_understood", "Not understood", [str(self.failed_turns)]),
        ]

    def as_json(self) -> dict[str, Any]:
        """The one serialisation: stored with the handoff, served by the inbox's API. The
        derived `one_line` and `facts` ride along so no reader formats the brief itself."""
        return {
            "wanted": [
                {"intent": w.name, "confidence": round(w.confidence, 4)} for w in self.wanted
            ],
            "collected": dict(self.collected),
            "last_action": self.last_action,
            "failed_turns": self.failed_turns,
            "customer_messages": self.customer_messages,
            "one_line": self.one_line(),
            "facts": [f._asdict() for f in self.facts()],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_json(), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | None) -> Summary:
        if not raw:
            return cls()
        data: dict[str, Any] = json.loads(raw)
        return cls(
            wanted=tuple(_intent_score(w) for w in data.get("wanted", [])),
            collected=dict(data.get("collected", {})),
            last_action=data.get("last_action"),
            failed_turns=int(data.get("failed_turns", 0)),
            customer_messages=int(data.get("customer_messages", 0)),
        )


def _intent_score(raw: Any) -> IntentScore:
    """{"intent", "confidence"}, or the [name, confidence] pair handoffs stored before."""
    if isinstance(raw, dict):
        return IntentScore(str(raw["intent"]), float(raw["confidence"]))
    name, confidence = raw
    return IntentScore(str(name), float(confidence))


def summarize(entries: Sequence[Entry], turn: Turn, *, failed_turns: int) -> Summary:
    """Build the brief from the transcript (bot lines carry the intent they answered) and the
    turn that led to the handoff (its slots and last action)."""
    best: dict[str, float] = {}
    order: list[str] = []
    for entry in reversed(entries):
        if entry.role is not Role.BOT or not entry.intent or entry.intent in _NOT_WANTS:
            continue
        if entry.intent not in best:
            order.append(entry.intent)
        best[entry.intent] = max(best.get(entry.intent, 0.0), entry.confidence or 0.0)
    collected = {
        k: str(v)
        for k, v in turn.slots.items()
        if k not in _INTERNAL_SLOTS and v not in (None, "", [])
    }
    return Summary(
        wanted=tuple(IntentScore(name, best[name]) for name in order),
        collected=collected,
        last_action=turn.latest_action,
        failed_turns=failed_turns,
        customer_messages=sum(1 for e in entries if e.role is Role.CUSTOMER),
    )
