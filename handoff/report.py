"""The analytics report: the tally of handoff/analytics.py summed up per day and per reason,
channel, intent and resolution, with first-reply times and satisfaction; as JSON for the
inbox's page and as CSV tables for a spreadsheet.

Rates are fractions (0.25) in JSON and percentages in CSV; times are seconds.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.core.messages import ConversationKey
from handoff.analytics import MAX_CONVERSATIONS, HandoffFact, Period, Tally, collect
from handoff.csat import SCORES
from handoff.store import Store, now_ms

TABLES = ("daily", "reasons", "channels", "intents", "intents_daily", "resolutions", "csat")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percentile(values: list[int], q: float) -> int | None:
    """Nearest-rank percentile (q in 0..1) of milliseconds, as whole seconds."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return round(ordered[rank - 1] / 1000)


def _replies(facts: Iterable[HandoffFact]) -> dict[str, Any]:
    facts = list(facts)
    waits = [f.first_reply_ms for f in facts if f.first_reply_ms is not None]
    return {
        "handoffs": len(facts),
        "replied": len(waits),
        "median_s": _percentile(waits, 0.5),
        "p90_s": _percentile(waits, 0.9),
        "average_s": round(sum(waits) / len(waits) / 1000) if waits else None,
    }


def _satisfaction(facts: Iterable[HandoffFact]) -> dict[str, Any]:
    facts = list(facts)
    scores = [f.csat for f in facts if f.csat is not None]
    asked = sum(1 for f in facts if f.csat_asked)
    return {
        "asked": asked,
        "answered": len(scores),
        "response_rate": _rate(len(scores), asked),
        "average": round(sum(scores) / len(scores), 2) if scores else None,
        "scores": {str(s): scores.count(s) for s in SCORES},
    }


def _channel(conversation: str) -> str:
    return ConversationKey.parse(conversation).channel


def _per_channel(active: set[str], facts: list[HandoffFact]) -> dict[str, dict[str, int]]:
    """One day's conversations and handoffs per channel."""
    conversations = Counter(_channel(c) for c in active)
    handoffs = Counter(f.channel for f in facts)
    return {
        ch: {"conversations": conversations[ch], "handoffs": handoffs[ch]}
        for ch in sorted(set(conversations) | set(handoffs))
    }


def _per_intent(tally: Tally, day: str) -> dict[str, dict[str, Any]]:
    """One day's customer messages per intent of the bot, those that ended in a handoff and
    the rate, the intents with most handoffs first."""
    turns = {i: n for (d, i), n in tally.intent_day_turns.items() if d == day}
    handed = {i: tally.intent_day_handed[day, i] for i in turns}
    return {
        i: {"messages": n, "handoffs": handed[i], "rate": _rate(handed[i], n)}
        for i, n in sorted(turns.items(), key=lambda kv: (-handed[kv[0]], -kv[1], kv[0]))
    }


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    generated_at: int
    conversations_read: int
    truncated: bool  # more conversations were active than one report reads
    days: list[dict[str, Any]]
    totals: dict[str, Any]
    by_reason: list[dict[str, Any]]
    by_channel: list[dict[str, Any]]
    by_intent: list[dict[str, Any]]
    first_reply: dict[str, Any]
    resolutions: list[dict[str, Any]]
    csat: dict[str, Any]

    @classmethod
    def build(
        cls, period: Period, tally: Tally, *, read: int = 0, truncated: bool = False, now: int = 0
    ) -> Report:
        per_day: dict[str, list[HandoffFact]] = defaultdict(list)
        for fact in tally.handoffs:
            per_day[fact.day].append(fact)
        days = []
        handed_total = 0
        for day in period.days():
            active, people = tally.active.get(day, set()), tally.people.get(day, set())
            facts = per_day.get(day, [])
            handed = len({f.conversation for f in facts})
            handed_total += handed
            days.append({
                "day": day, "conversations": len(active), "contained": len(active - people),
                "containment": _rate(len(active - people), len(active)),
                "handoffs": len(facts), "handoff_rate": _rate(handed, len(active)),
                "messages": tally.messages.get(day, 0),
                "by_reason": dict(Counter(f.reason for f in facts)),
                "by_channel": _per_channel(active, facts),
                "by_intent": _per_intent(tally, day),
                "first_reply_median_s": _replies(facts)["median_s"],
                "csat_answers": sum(1 for f in facts if f.csat is not None),
                "csat_average": _satisfaction(facts)["average"],
            })  # fmt: skip
        conversations = sum(d["conversations"] for d in days)
        contained = sum(d["contained"] for d in days)
        handoffs = tally.handoffs
        totals = {
            "conversations": conversations,
            "distinct_conversations": len(set().union(*tally.active.values())),
            "contained": contained,
            "containment": _rate(contained, conversations),
            "handoffs": len(handoffs),
            "handoff_rate": _rate(handed_total, conversations),
            "messages": sum(tally.messages.values()),
        }  # fmt: skip
        reasons = Counter(f.reason for f in handoffs)
        by_reason = [
            {"reason": r, "handoffs": n, "rate": _rate(n, conversations)}
            for r, n in reasons.most_common()
        ]
        by_channel = []
        channel_days: Counter[str] = Counter()
        channel_contained: Counter[str] = Counter()
        for day, active in tally.active.items():
            people = tally.people.get(day, set())
            for cid in active:
                channel_days[_channel(cid)] += 1
                channel_contained[_channel(cid)] += cid not in people
        channel_handoffs = Counter(f.channel for f in handoffs)
        for ch in sorted(set(channel_days) | set(channel_handoffs)):
            n = channel_days[ch]
            by_channel.append({
                "channel": ch, "conversations": n, "contained": channel_contained[ch],
                "containment": _rate(channel_contained[ch], n),
                "handoffs": channel_handoffs[ch], "rate": _rate(channel_handoffs[ch], n),
            })  # fmt: skip
        by_intent = [
            {"intent": intent, "messages": turns, "handoffs": tally.intent_handed[intent],
             "rate": _rate(tally.intent_handed[intent], turns)}
            for intent, turns in sorted(
                tally.intent_turns.items(), key=lambda kv: (-tally.intent_handed[kv[0]], -kv[1])
            )
        ]  # fmt: skip
        resolutions = [
            {"resolution": code, "handoffs": n}
            for code, n in Counter(f.resolution for f in handoffs).most_common()
        ]
        return cls(
            period=period, generated_at=now or now_ms(), conversations_read=read,
            truncated=truncated, days=days, totals=totals, by_reason=by_reason,
            by_channel=by_channel, by_intent=by_intent, first_reply=_replies(handoffs),
            resolutions=resolutions, csat=_satisfaction(handoffs),
        )  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {"from": self.period.first.isoformat(), "to": self.period.last.isoformat(),
                       "timezone": self.period.zone},
            "generated_at": self.generated_at, "conversations_read": self.conversations_read,
            "truncated": self.truncated, "days": self.days, "totals": self.totals,
            "by_reason": self.by_reason, "by_channel": self.by_channel,
            "by_intent": self.by_intent, "first_reply": self.first_reply,
            "resolutions": self.resolutions, "csat": self.csat,
        }  # fmt: skip

    def table(self, name: str) -> tuple[list[str], list[list[Any]]]:
        """One of TABLES as a header and rows: what CSV export and `loket report` print."""
        if name == "daily":
            reasons = sorted({r for d in self.days for r in d["by_reason"]})
            channels = sorted({c for d in self.days for c in d["by_channel"]})
            header = ["day", "conversations", "contained", "containment_pct", "handoffs",
                      "handoff_rate_pct", "customer_messages", "first_reply_median_s",
                      "csat_answers", "csat_average",
                      *(f"handoffs_{r}" for r in reasons),
                      *(f"{m}_{c}" for c in channels
                        for m in ("conversations", "handoffs"))]  # fmt: skip
            rows = [[d["day"], d["conversations"], d["contained"], _pct(d["containment"]),
                     d["handoffs"], _pct(d["handoff_rate"]), d["messages"],
                     _blank(d["first_reply_median_s"]), d["csat_answers"],
                     _blank(d["csat_average"]), *(d["by_reason"].get(r, 0) for r in reasons),
                     *(d["by_channel"].get(c, {}).get(m, 0)
                       for c in channels for m in ("conversations", "handoffs"))]
                    for d in self.days]  # fmt: skip
            return header, rows
        if name == "reasons":
            return ["reason", "handoffs", "rate_pct"], [
                [r["reason"], r["handoffs"], _pct(r["rate"])] for r in self.by_reason
            ]
        if name == "channels":
            return ["channel", "conversations", "contained", "containment_pct", "handoffs",
                    "handoff_rate_pct"], [
                [c["channel"], c["conversations"], c["contained"], _pct(c["containment"]),
                 c["handoffs"], _pct(c["rate"])] for c in self.by_channel
            ]  # fmt: skip
        if name == "intents":
            return ["intent", "customer_messages", "handoffs", "handoff_rate_pct"], [
                [i["intent"], i["messages"], i["handoffs"], _pct(i["rate"])] for i in self.by_intent
            ]
        if name == "intents_daily":
            return ["day", "intent", "customer_messages", "handoffs", "handoff_rate_pct"], [
                [d["day"], intent, i["messages"], i["handoffs"], _pct(i["rate"])]
                for d in self.days for intent, i in d["by_intent"].items()
            ]  # fmt: skip
        if name == "resolutions":
            return ["resolution", "handoffs"], [
                [r["resolution"], r["handoffs"]] for r in self.resolutions
            ]
        if name == "csat":
            c = self.csat
            return ["asked", "answered", "response_rate_pct", "average",
                    *(f"score_{s}" for s in SCORES)], [
                [c["asked"], c["answered"], _pct(c["response_rate"]), _blank(c["average"]),
                 *(c["scores"][str(s)] for s in SCORES)]
            ]  # fmt: skip
        raise ValueError(f"no table {name!r}: choose one of {', '.join(TABLES)}")

    def csv(self, name: str) -> str:
        header, rows = self.table(name)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([[_cell(v) for v in row] for row in rows])
        return out.getvalue()


def _pct(rate: float | None) -> float | str:
    return "" if rate is None else round(rate * 100, 1)


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (names and codes come from outside)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


async def build(
    store: Store, period: Period, *, max_conversations: int = MAX_CONVERSATIONS
) -> Report:
    """The report of a period, from the records in Redis."""
    tally, read, truncated = await collect(store, period, max_conversations=max_conversations)
    return Report.build(period, tally, read=read, truncated=truncated)
