"""The analytics fold and report over hand-built transcripts: days on the service's clock,
containment, handoff rates by reason, channel and intent, first replies, resolutions, CSAT,
and the CSV tables."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handoff import csat
from handoff.analytics import BadPeriod, Period, Tally, fold, status_at
from handoff.report import TABLES, Report
from handoff.transcript import Entry, Role

ZONE = "Asia/Jakarta"
PERIOD = Period(date(2026, 11, 30), date(2026, 12, 2), ZONE)


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> int:
    """ms of a Jakarta wall-clock time in 2026."""
    moment = datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(ZONE))
    return int(moment.timestamp() * 1000)


def customer(ts: int, text: str = "halo", payload: str | None = None) -> Entry:
    return Entry(Role.CUSTOMER, text, ts=ts, payload=payload)


def bot(ts: int, intent: str | None, confidence: float = 0.9, **meta: Any) -> Entry:
    return Entry(Role.BOT, "…", ts=ts, intent=intent, confidence=confidence, meta=meta)


def system(ts: int, event: str, **meta: Any) -> Entry:
    return Entry(Role.SYSTEM, event, ts=ts, meta={"event": event, **meta})


def agent(ts: int) -> Entry:
    return Entry(Role.AGENT, "Baik, saya cek", ts=ts, meta={"agent": "ana"})


def handed_over(
    ts: int, hid: str, reason: str = "asked_for_human", intent: str = "human"
) -> list[Entry]:
    """A customer message the bot answered with a handoff."""
    return [
        customer(ts, "mau bicara dengan petugas"),
        system(ts + 1, "request", reason=reason, handoff_id=hid),
        bot(ts + 2, intent, handoff=reason),
    ]


def report_of(conversations: dict[str, list[Entry]], records: Any = None) -> Report:
    tally = Tally()
    for cid, entries in conversations.items():
        fold(tally, PERIOD, cid, entries, (records or {}).get(cid))
    return Report.build(PERIOD, tally, read=len(conversations), now=1)


def test_a_conversation_the_bot_handles_alone_is_contained() -> None:
    r = report_of({
        "webchat:a": [customer(at(1, 9)), bot(at(1, 9) + 1, "greet"),
                      customer(at(1, 10)), bot(at(1, 10) + 1, "buy_token")],
    })  # fmt: skip
    day = {d["day"]: d for d in r.days}["2026-12-01"]
    assert (day["conversations"], day["contained"], day["containment"]) == (1, 1, 1.0)
    assert (day["handoffs"], day["handoff_rate"], day["messages"]) == (0, 0.0, 2)
    assert r.totals["containment"] == 1.0
    assert {i["intent"]: (i["messages"], i["handoffs"]) for i in r.by_intent} == {
        "greet": (1, 0), "buy_token": (1, 0),
    }  # fmt: skip


def test_a_handoff_counts_by_reason_channel_and_intent_and_is_not_contained() -> None:
    r = report_of({
        "webchat:a": [customer(at(1, 9)), bot(at(1, 9) + 1, "greet"),
                      *handed_over(at(1, 9, 5), "h1")],
        "telegram:b": [customer(at(1, 11)), bot(at(1, 11) + 1, "buy_token")],
        "telegram:c": [*handed_over(at(1, 12), "h2", "not_understood", "nlu_fallback")],
    })  # fmt: skip
    day = {d["day"]: d for d in r.days}["2026-12-01"]
    assert (day["conversations"], day["contained"], day["handoffs"]) == (3, 1, 2)
    assert day["handoff_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert day["by_reason"] == {"asked_for_human": 1, "not_understood": 1}
    assert day["by_channel"] == {
        "telegram": {"conversations": 2, "handoffs": 1},
        "webchat": {"conversations": 1, "handoffs": 1},
    }
    assert {x["reason"]: x["handoffs"] for x in r.by_reason} == {
        "asked_for_human": 1, "not_understood": 1,
    }  # fmt: skip
    channels = {c["channel"]: c for c in r.by_channel}
    assert (channels["telegram"]["conversations"], channels["telegram"]["handoffs"]) == (2, 1)
    assert channels["telegram"]["containment"] == 0.5
    assert (channels["webchat"]["conversations"], channels["webchat"]["contained"]) == (1, 0)
    intents = {i["intent"]: (i["messages"], i["handoffs"]) for i in r.by_intent}
    assert intents == {"greet": (1, 0), "human": (1, 1), "buy_token": (1, 0),
                       "nlu_fallback": (1, 1)}  # fmt: skip
    assert r.by_intent[0]["handoffs"] == 1  # the intents that end in handoffs come first


def test_the_handoff_rate_per_intent_is_kept_per_day() -> None:
    r = report_of({
        "webchat:a": [*handed_over(at(1, 9), "h1", "not_understood", "nlu_fallback")],
        "webchat:b": [customer(at(1, 10)), bot(at(1, 10) + 1, "nlu_fallback")],
        "webchat:c": [customer(at(2, 9)), bot(at(2, 9) + 1, "nlu_fallback"),
                      customer(at(2, 10)), bot(at(2, 10) + 1, "buy_token")],
    })  # fmt: skip
    days = {d["day"]: d["by_intent"] for d in r.days}
    assert days["2026-11-30"] == {}
    assert days["2026-12-01"] == {"nlu_fallback": {"messages": 2, "handoffs": 1, "rate": 0.5}}
    assert days["2026-12-02"] == {
        "nlu_fallback": {"messages": 1, "handoffs": 0, "rate": 0.0},
        "buy_token": {"messages": 1, "handoffs": 0, "rate": 0.0},
    }
    header, rows = r.table("intents_daily")
    assert header == ["day", "intent", "customer_messages", "handoffs", "handoff_rate_pct"]
    assert rows == [["2026-12-01", "nlu_fallback", 2, 1, 50.0],
                    ["2026-12-02", "buy_token", 1, 0, 0.0],
                    ["2026-12-02", "nlu_fallback", 1, 0, 0.0]]  # fmt: skip


def test_days_follow_the_service_clock_and_the_period() -> None:
    # 23:30 on 30 Nov in Jakarta is 16:30 UTC; 00:30 on 3 Dec is outside the period.
    r = report_of({
        "webchat:a": [customer(at(30, 23, 30, month=11)), bot(at(30, 23, 31, month=11), "greet")],
        "webchat:b": [customer(at(3, 0, 30)), bot(at(3, 0, 31), "greet")],
        "webchat:c": [customer(at(29, 12, month=11)), customer(at(2, 8))],
    })  # fmt: skip
    per_day = {d["day"]: d["conversations"] for d in r.days}
    assert per_day == {"2026-11-30": 1, "2026-12-01": 0, "2026-12-02": 1}
    assert r.totals["distinct_conversations"] == 2


def test_messages_while_people_own_it_are_not_contained_on_a_later_day() -> None:
    # Handed over on day 1; the customer writes on day 2 while still waiting.
    r = report_of({
        "webchat:a": [*handed_over(at(1, 19), "h1"), customer(at(2, 8)),
                      system(at(2, 9), "claim", agent="ana"), agent(at(2, 9, 1))],
    })  # fmt: skip
    days = {d["day"]: d for d in r.days}
    assert (days["2026-12-02"]["conversations"], days["2026-12-02"]["contained"]) == (1, 0)
    assert days["2026-12-02"]["handoffs"] == 0  # the handoff counts on its own day
    # the first reply came 14 h 01 min after the handoff, on the handoff's day
    assert days["2026-12-01"]["first_reply_median_s"] == 14 * 3600 + 60 - 0


def test_first_reply_resolution_and_satisfaction_come_from_the_handoffs() -> None:
    t0 = at(1, 9)
    records = {
        "webchat:a": {"h1": {"outcome": "closed", "resolution": "solved: token dikirim",
                             "csat_asked_at": t0 + 9000, "csat": 4}},
        "webchat:b": {"h2": {"outcome": "hand_back"}},
        "webchat:c": {"h3": {"outcome": "closed", "resolution": "spam"}},
    }  # fmt: skip
    r = report_of({
        "webchat:a": [*handed_over(t0, "h1"), system(t0 + 60_000, "claim", agent="ana"),
                      agent(t0 + 120_000), agent(t0 + 180_000), system(t0 + 200_000, "close"),
                      bot(t0 + 200_001, None, csat="h1"),
                      customer(t0 + 250_000, "4", payload=csat.payload("h1", 4))],
        "webchat:b": [*handed_over(t0, "h2"), agent(t0 + 30_000),
                      system(t0 + 40_000, "hand_back")],
        "webchat:c": [*handed_over(t0, "h3"), system(t0 + 40_000, "close")],
    }, records)  # fmt: skip
    fr = r.first_reply
    assert (fr["handoffs"], fr["replied"], fr["median_s"], fr["p90_s"]) == (3, 2, 30, 120)
    assert {x["resolution"]: x["handoffs"] for x in r.resolutions} == {
        "solved": 1, "handed_back": 1, "spam": 1,
    }  # fmt: skip
    assert r.csat == {"asked": 1, "answered": 1, "response_rate": 1.0, "average": 4.0,
                      "scores": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}  # fmt: skip
    # the tap on the question is not a customer message, nor a turn for the intents
    assert r.totals["messages"] == 3
    assert sum(i["messages"] for i in r.by_intent) == 3


def test_an_empty_period_has_no_rates() -> None:
    r = report_of({})
    assert [d["conversations"] for d in r.days] == [0, 0, 0]
    assert r.totals["containment"] is None and r.first_reply["median_s"] is None
    assert r.csat["average"] is None
    for table in TABLES:
        header, _ = r.table(table)
        assert r.csv(table).startswith(",".join(header))


def test_csv_tables_are_spreadsheet_safe() -> None:
    r = report_of({"webchat:a": [customer(at(1, 9)), bot(at(1, 9) + 1, "=HYPERLINK(1)"),
                                 *handed_over(at(1, 10), "h1")]})  # fmt: skip
    rows = list(csv.reader(io.StringIO(r.csv("intents"))))
    assert rows[0] == ["intent", "customer_messages", "handoffs", "handoff_rate_pct"]
    assert ["'=HYPERLINK(1)", "1", "0", "0.0"] in rows
    daily = list(csv.DictReader(io.StringIO(r.csv("daily"))))
    assert [d["day"] for d in daily] == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert daily[1]["handoffs_asked_for_human"] == "1"
    assert (daily[1]["conversations_webchat"], daily[1]["handoffs_webchat"]) == ("1", "1")
    assert daily[0]["conversations_webchat"] == "0"
    assert daily[1]["containment_pct"] == "0.0" and daily[0]["containment_pct"] == ""
    with pytest.raises(ValueError, match="choose one of"):
        r.table("nope")


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [("2026-12-05", "2026-12-01", "after"), ("2026-13-01", None, "like"),
     ("2025-01-01", "2026-12-01", "at most")],
)  # fmt: skip
def test_bad_periods_are_refused_with_a_reason(first: str, last: str | None, message: str) -> None:
    with pytest.raises(BadPeriod, match=message):
        Period.parse(first, last, ZONE, today=date(2026, 12, 3))


def test_the_default_period_is_the_last_seven_days() -> None:
    p = Period.parse(None, None, ZONE, today=date(2026, 12, 3))
    assert (p.first, p.last, len(p.days())) == (date(2026, 11, 27), date(2026, 12, 3), 7)
    assert p.day_of(p.since_ms) == "2026-11-27" and p.day_of(p.until_ms) is None


def test_the_status_before_the_period_comes_from_the_handoff_records() -> None:
    records = {
        "old": {"at": at(20, 9, month=11), "ended_at": at(20, 10, month=11)},
        "open": {"at": at(30, 9, month=11), "claimed_at": at(1, 8)},
    }
    assert status_at(records, at(30, 8, month=11)) == "bot"
    assert status_at(records, at(30, 12, month=11)) == "waiting"
    assert status_at(records, at(2, 0)) == "assigned"
    assert status_at({}, at(2, 0)) == "bot"
    # Folded from there, a message while with the agent is not contained.
    tally = Tally()
    fold(tally, PERIOD, "telegram:9", [customer(at(2, 9))], status="assigned")
    assert tally.people["2026-12-02"] == {"telegram:9"}
