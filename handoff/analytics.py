"""Analytics for operators and trainers: conversations, containment, handoffs by reason, intent
and channel, time to first agent reply, resolutions and satisfaction (CSAT), per day.

Computed from what Redis keeps already, for whole days on the service's clock: the transcripts
(every line; bot lines carry the intent, handoff notices their reason, transitions write system
lines) and the handoffs' records (resolution, satisfaction). Nothing is counted twice: a report
is a fold over the records, so it agrees with the transcripts an agent reads.

- A conversation counts on a day when the customer wrote in it that day (a tap on the
  satisfaction question is not writing).
- It was contained that day when no person took part: no handoff opened that day and no
  message of the customer's went to the people (waiting or with an agent).
- Handoff rate by reason and by channel: handoffs per conversation that day; by intent: the
  share of the customer's messages the bot gave that intent that ended in a handoff (over the
  period and per day).
- First reply: from the handoff to the first agent line after it (a template counts).
- Resolution: the code an agent closed with, or "handed_back" (to the bot), or "open".
- Satisfaction: by the day of the handoff it rates (handoff/csat.py).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.messages import ConversationKey
from handoff import csat, keys
from handoff.store import Store, now_ms
from handoff.transcript import Entry, Role

MAX_DAYS = 366  # the longest period one report covers
MAX_CONVERSATIONS = 20_000  # read at most this many (the most recently active) per report
_BATCH = 100  # conversations read per pipeline round trip
CLOCK_MARGIN_MS = 5 * 60_000  # transcript lines read from this long before the period
NO_INTENT = "(none)"  # the bot had no intent to give (it was down, or the message was a file)
WITH_PEOPLE = ("waiting", "assigned")
# system line event -> the status it leaves the conversation in (handoff/status.py)
_AFTER = {"request": "waiting", "claim": "assigned", "transfer": "assigned",
          "hand_back": "bot", "close": "closed"}  # fmt: skip


class BadPeriod(ValueError):
    """Raised for a period that is not two dates in order, at most MAX_DAYS apart."""


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days, `first` to `last` inclusive, on the clock of `zone`."""

    first: date
    last: date
    zone: str

    @classmethod
    def parse(cls, first: str | None, last: str | None, zone: str, *, today: date) -> Period:
        """From ISO dates; the last 7 days (today included) by default, `last` defaults to
        today, `first` to 6 days before `last`."""
        try:
            end = date.fromisoformat(last) if last else today
            start = date.fromisoformat(first) if first else end - timedelta(days=6)
        except ValueError:
            raise BadPeriod("dates must look like 2026-03-31") from None
        if start > end:
            raise BadPeriod(f"the first day ({start}) is after the last ({end})")
        if (end - start).days + 1 > MAX_DAYS:
            raise BadPeriod(f"a report covers at most {MAX_DAYS} days")
        return cls(start, end, zone)

    @classmethod
    def last_days(cls, days: int, zone: str, *, now: int | None = None) -> Period:
        today = datetime.fromtimestamp((now or now_ms()) / 1000, ZoneInfo(zone)).date()
        return cls.parse(str(today - timedelta(days=days - 1)), str(today), zone, today=today)

    def _ms(self, day: date) -> int:
        return int(datetime.combine(day, time(), ZoneInfo(self.zone)).timestamp() * 1000)

    @property
    def since_ms(self) -> int:
        return self._ms(self.first)

    @property
    def until_ms(self) -> int:
        """The first millisecond after the period."""
        return self._ms(self.last + timedelta(days=1))

    def day_of(self, ms: int) -> str | None:
        """The ISO day of a moment, None outside the period."""
        if not self.since_ms <= ms < self.until_ms:
            return None
        return datetime.fromtimestamp(ms / 1000, ZoneInfo(self.zone)).date().isoformat()

    def days(self) -> list[str]:
        count = (self.last - self.first).days + 1
        return [(self.first + timedelta(days=n)).isoformat() for n in range(count)]


@dataclass(slots=True)
class HandoffFact:
    """One handoff opened in the period, as the report sees it."""

    handoff_id: str
    conversation: str
    at: int  # ms since epoch
    day: str
    reason: str
    channel: str
    first_reply_ms: int | None = None
    resolution: str = "open"
    csat_asked: bool = False
    csat: int | None = None


@dataclass(slots=True)
class Tally:
    """What the fold over the transcripts found, before it is summed up."""

    active: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    people: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    messages: Counter[str] = field(default_factory=Counter)
    intent_turns: Counter[str] = field(default_factory=Counter)
    intent_handed: Counter[str] = field(default_factory=Counter)
    intent_day_turns: Counter[tuple[str, str]] = field(default_factory=Counter)  # (day, intent)
    intent_day_handed: Counter[tuple[str, str]] = field(default_factory=Counter)
    handoffs: list[HandoffFact] = field(default_factory=list)


@dataclass(slots=True)
class _Turn:
    """A customer message the bot answered: on which day, its intent, whether it handed over."""

    day: str | None
    intent: str | None = None
    handed: bool = False

    def add_to(self, tally: Tally) -> None:
        if self.day is not None:
            intent = self.intent or NO_INTENT
            tally.intent_turns[intent] += 1
            tally.intent_handed[intent] += self.handed
            tally.intent_day_turns[self.day, intent] += 1
            tally.intent_day_handed[self.day, intent] += self.handed


def fold(
    tally: Tally,
    period: Period,
    conversation: str,
    entries: Sequence[Entry],
    records: dict[str, dict[str, Any]] | None = None,
    *,
    status: str = "bot",
) -> None:
    """Add one conversation's transcript and its handoffs' records to the tally. `status` is
    the conversation's status before the first of `entries` (see `status_at`)."""
    channel = ConversationKey.parse(conversation).channel
    awaiting: HandoffFact | None = None  # a handoff no agent has answered yet
    turn: _Turn | None = None  # the customer's latest message, while the bot answers it
    for e in entries:
        day = period.day_of(e.ts)
        if e.role is Role.SYSTEM:
            event = str(e.meta.get("event", ""))
            status = _AFTER.get(event, status)
            if event in ("hand_back", "close"):
                awaiting = None
            if event == "request" and day is not None:
                tally.people[day].add(conversation)
                hid = str(e.meta.get("handoff_id", ""))
                awaiting = HandoffFact(hid, conversation, e.ts, day,
                                       str(e.meta.get("reason", "")), channel)  # fmt: skip
                _enrich(awaiting, (records or {}).get(hid))
                tally.handoffs.append(awaiting)
        elif e.role is Role.CUSTOMER:
            if turn is not None:
                turn.add_to(tally)
            turn = None
            if csat.is_answer(e.payload):
                continue
            if day is not None:
                tally.active[day].add(conversation)
                tally.messages[day] += 1
                if status in WITH_PEOPLE:
                    tally.people[day].add(conversation)
            if status not in WITH_PEOPLE:
                turn = _Turn(day)
        elif e.role is Role.BOT and turn is not None:
            turn.intent = turn.intent or e.intent
            turn.handed = turn.handed or bool(e.meta.get("handoff"))
        elif e.role is Role.AGENT and awaiting is not None:
            awaiting.first_reply_ms = max(0, e.ts - awaiting.at)
            awaiting = None
    if turn is not None:
        turn.add_to(tally)


def status_at(records: dict[str, dict[str, Any]], ms: int) -> str:
    """The conversation's status at `ms`, from its handoffs' records (kept by every
    transition): with people while a handoff requested before then had not ended."""
    for record in records.values():
        at, ended = _ms(record.get("at")), _ms(record.get("ended_at"))
        if 0 < at < ms and not 0 < ended < ms:
            claimed = _ms(record.get("claimed_at"))
            return "assigned" if 0 < claimed < ms else "waiting"
    return "bot"


def _ms(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) else 0


def _enrich(fact: HandoffFact, record: dict[str, Any] | None) -> None:
    """The handoff's outcome and satisfaction, from its record (handoff/handoffs.py)."""
    if not record:
        return
    if record.get("outcome") == "closed":
        fact.resolution = str(record.get("resolution") or "other").split(":", 1)[0].strip()
    elif record.get("outcome") == "hand_back":
        fact.resolution = "handed_back"
    fact.csat_asked = bool(record.get("csat_asked_at"))
    score = record.get("csat")
    fact.csat = int(score) if isinstance(score, (int, float)) and 1 <= score <= 5 else None


async def collect(
    store: Store, period: Period, *, max_conversations: int = MAX_CONVERSATIONS
) -> tuple[Tally, int, bool]:
    """Fold the conversations active in the period; returns the tally, how many conversations
    were read and whether more were active than `max_conversations` (the rest left out).
    Only the lines from the period on are read; the status at its start comes from the
    handoffs' records."""
    async with store.guard():
        ids: list[str] = await store.redis.zrevrangebyscore(
            keys.conversations_by_activity(), "+inf", period.since_ms,
            start=0, num=max_conversations + 1,
        )  # fmt: skip
    truncated = len(ids) > max_conversations
    ids = ids[:max_conversations]
    tally = Tally()
    start_id = max(0, period.since_ms - CLOCK_MARGIN_MS)
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        async with store.guard():
            pipe = store.redis.pipeline(transaction=False)
            for cid in batch:
                # Stream ids are the Redis server's milliseconds; a margin covers a replica
                # whose clock stamped the lines' `ts` a little differently.
                pipe.xrange(keys.transcript(cid), min=str(start_id), max="+")
                pipe.hgetall(keys.handoff_history(cid))
            rows = await pipe.execute()
        for cid, lines, history in zip(batch, rows[::2], rows[1::2], strict=True):
            entries = [Entry.from_fields(entry_id, f) for entry_id, f in lines]
            records = _records(history)
            before = entries[0].ts if entries else period.since_ms
            fold(tally, period, cid, entries, records, status=status_at(records, before))
    return tally, len(ids), truncated


def _records(history: dict[str, str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for hid, raw in history.items():
        try:
            record = json.loads(raw)
        except ValueError:
            continue  # an unreadable record: the handoff still counts, without its outcome
        if isinstance(record, dict):
            found[hid] = record
    return found
