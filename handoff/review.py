"""What the bot failed to understand, read back from the transcripts, for trainers to label.

A customer message counts as misunderstood when the bot's understanding of it (recorded on the
bot lines that answered it) was `nlu_fallback` or `out_of_scope`, when it led to a handoff
because the bot had not understood, or when it came just before the customer got frustrated
or the bot went in a loop. The same text sent by several customers is one row with a count:
the commonest failures first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.core.messages import ConversationKey
from bot.core.reasons import ABOUT_UNDERSTANDING, NOT_UNDERSTOOD_INTENTS, Reason
from handoff import keys
from handoff.store import Store
from handoff.transcript import Entry, Role, Transcript

LEAD_UP = 2  # customer messages before a frustrated complaint or closing a loop
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Miss:
    """One misunderstood customer message."""

    text: str
    conversation: str
    ts: int
    guess: str | None  # the intent the bot gave it
    confidence: float | None
    why: str  # the guess (nlu_fallback, out_of_scope) or the handoff reason
    entry: str = ""  # the customer line's transcript entry id
    # The bot's best real intents (nlu_fallback left out), best first, with their confidence.
    guesses: tuple[tuple[str, float], ...] = ()


@dataclass(slots=True)
class Row:
    """Every miss of one text (compared without case and extra spaces)."""

    text: str
    misses: list[Miss] = field(default_factory=list)

    @property
    def times(self) -> int:
        return len(self.misses)

    @property
    def last_seen(self) -> int:
        return max(m.ts for m in self.misses)

    @property
    def guesses(self) -> Counter[str]:
        return Counter(m.guess for m in self.misses if m.guess)

    @property
    def guess(self) -> str | None:
        """The intent the bot gave this text most often."""
        commonest = self.guesses.most_common(1)
        return commonest[0][0] if commonest else None

    @property
    def lowest_confidence(self) -> float | None:
        known = [m.confidence for m in self.misses if m.confidence is not None]
        return min(known) if known else None

    @property
    def reasons(self) -> list[str]:
        return sorted({m.why for m in self.misses})

    def as_json(self) -> dict[str, object]:
        """A line for trainers: fill in `intent`, then add it to nlu_data/ or evaluate on it."""
        return {
            "text": self.text,
            "intent": "",
            "guess": self.guess,
            "confidence": self.lowest_confidence,
            "why": self.reasons,
            "times": self.times,
            "last_seen": self.last_seen,
            "conversations": sorted({m.conversation for m in self.misses}),
        }


@dataclass(slots=True)
class _Turn:
    """A customer message and what the bot lines answering it recorded."""

    said: Entry
    guess: str | None = None
    confidence: float | None = None
    handoff: str | None = None
    guesses: tuple[tuple[str, float], ...] = ()

    def answered(self, line: Entry) -> None:
        if line.intent and self.guess is None:
            self.guess, self.confidence = line.intent, line.confidence
        if not self.guesses:
            self.guesses = guesses_of(line)
        if "handoff" in line.meta and self.handoff is None:
            self.handoff = str(line.meta["handoff"])


def guesses_of(line: Entry) -> tuple[tuple[str, float], ...]:
    """The two best real intents a bot line recorded (its `guesses`), else its own intent."""
    found: list[tuple[str, float]] = []
    raw = line.meta.get("guesses")
    if isinstance(raw, list):
        for item in raw[:2]:
            if (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                    and isinstance(item[1], (int, float))):  # fmt: skip
                found.append((item[0], float(item[1])))
    if not found and line.intent and line.intent != "nlu_fallback":
        found.append((line.intent, line.confidence or 0.0))
    return tuple(found)


def misses_in(conversation: str, entries: Sequence[Entry]) -> list[Miss]:
    """The customer messages of one transcript that the bot did not understand.

    A frustrated customer's complaint is understood; the messages before it (up to
    `LEAD_UP`) are what went wrong. A loop is the message that closed it and those before.
    """
    turns: list[_Turn] = []
    for entry in entries:
        if entry.role is Role.CUSTOMER:
            turns.append(_Turn(entry))
        elif entry.role is Role.BOT and turns:
            turns[-1].answered(entry)
    why: dict[int, str] = {}
    for k, turn in enumerate(turns):
        if turn.handoff == Reason.NOT_UNDERSTOOD:
            why[k] = turn.handoff
        elif turn.guess in NOT_UNDERSTOOD_INTENTS:
            why[k] = turn.guess
        if turn.handoff in ABOUT_UNDERSTANDING - {Reason.NOT_UNDERSTOOD}:
            # The lead-up went wrong; a frustrated customer's complaint itself is understood.
            last = k - 1 if turn.handoff == Reason.FRUSTRATED else k
            for j in range(max(0, last - LEAD_UP + 1), last + 1):
                why.setdefault(j, turn.handoff)
    return [
        Miss(
            t.said.text,
            conversation,
            t.said.ts,
            t.guess,
            t.confidence,
            why[k],
            t.said.id,
            t.guesses,
        )
        for k, t in enumerate(turns)
        if k in why and not t.said.payload  # a button press is never misunderstood
    ]


def group(misses: Iterable[Miss]) -> list[Row]:
    """One row per text, the most frequent first, then the most recent."""
    rows: dict[str, Row] = {}
    for miss in misses:
        norm = _SPACES.sub(" ", miss.text).strip().lower()
        rows.setdefault(norm, Row(miss.text)).misses.append(miss)
    return sorted(rows.values(), key=lambda r: (-r.times, -r.last_seen))


async def collect(store: Store, *, since_ms: int, max_conversations: int = 5000) -> list[Row]:
    """Misunderstood messages of the conversations active since `since_ms`, grouped."""
    transcript = Transcript(store)
    async with store.guard():
        ids = await store.redis.zrevrangebyscore(
            keys.conversations_by_activity(), "+inf", since_ms, start=0, num=max_conversations
        )
    misses: list[Miss] = []
    for cid in ids:  # the store decodes replies to str
        entries = await transcript.read(ConversationKey.parse(cid))
        misses += [m for m in misses_in(cid, entries) if m.ts >= since_ms]
    return group(misses)
