"""`loket report`: conversations, containment, handoffs by reason, channel and intent, time to
first agent reply, resolutions and satisfaction, per day, from the records in Redis.

Days are on the service's clock (LOKET_TIMEZONE). Without dates: the last 7 days, today
included. `--csv FILE` writes one table (`--table`, default daily) for a spreadsheet; `-` is
standard output. Definitions: docs/analytics.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.core.errors import LoketError
from bot.core.settings import Settings
from bot.ops.commands.handoffs import with_store
from handoff.analytics import BadPeriod, Period
from handoff.report import TABLES, Report, build
from handoff.store import Store

INTENTS_SHOWN = 15  # the intents with most handoffs, in the printed report


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _secs(value: int | None) -> str:
    if value is None:
        return "-"
    minutes, seconds = divmod(int(value), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


def _print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(
        zip(header, widths, strict=True)))  # fmt: skip
    print(line)
    print("-" * len(line))
    if not rows:
        print("(nothing in this period)")
    for row in cells[1:]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))))  # fmt: skip


def print_report(report: Report) -> None:
    t = report.totals
    p = report.period
    print(f"Loket report {p.first} to {p.last} ({p.zone}), {report.conversations_read} "
          "conversation(s) read")  # fmt: skip
    if report.truncated:
        print("note: more conversations were active than one report reads; only the most "
              "recent were counted (choose a shorter period)")  # fmt: skip
    fr, c = report.first_reply, report.csat
    print(f"\nconversations      {t['conversations']} ({t['distinct_conversations']} different, "
          f"{t['messages']} customer messages)")  # fmt: skip
    print(f"handled by the bot {t['contained']} ({_pct(t['containment'])} containment)")
    print(f"handoffs           {t['handoffs']} ({_pct(t['handoff_rate'])} of conversations)")
    print(f"first agent reply  median {_secs(fr['median_s'])}, 90% within {_secs(fr['p90_s'])}"
          f" ({fr['replied']} of {fr['handoffs']} handoffs answered)")  # fmt: skip
    average = "-" if c["average"] is None else f"{c['average']:.2f}/5"
    print(f"satisfaction       {average} ({c['answered']} of {c['asked']} asked answered)")
    _print_table(
        "per day",
        ["day", "conversations", "bot alone", "handoffs", "rate", "first reply", "csat"],
        [[d["day"], d["conversations"], _pct(d["containment"]), d["handoffs"],
          _pct(d["handoff_rate"]), _secs(d["first_reply_median_s"]),
          "-" if d["csat_average"] is None else f"{d['csat_average']:.2f}"]
         for d in report.days],
    )  # fmt: skip
    reasons = [[r["reason"], r["handoffs"], _pct(r["rate"])] for r in report.by_reason]
    _print_table("handoffs by reason", ["reason", "handoffs", "rate"], reasons)
    _print_table(
        "by channel", ["channel", "conversations", "bot alone", "handoffs", "rate"],
        [[x["channel"], x["conversations"], _pct(x["containment"]), x["handoffs"],
          _pct(x["rate"])] for x in report.by_channel],
    )  # fmt: skip
    shown = report.by_intent[:INTENTS_SHOWN]
    more = len(report.by_intent) - len(shown)
    _print_table(
        "handoffs by the bot's intent" + (f" (top {INTENTS_SHOWN}, {more} more in --csv)"
                                          if more else ""),
        ["intent", "messages", "handoffs", "rate"],
        [[i["intent"], i["messages"], i["handoffs"], _pct(i["rate"])] for i in shown],
    )  # fmt: skip
    _print_table("resolutions", ["resolution", "handoffs"],
                 [[r["resolution"], r["handoffs"]] for r in report.resolutions])  # fmt: skip
    _print_table("satisfaction answers", ["score", "answers"],
                 [[s, c["scores"][s]] for s in ("5", "4", "3", "2", "1")])  # fmt: skip


def write_csv(report: Report, table: str, target: str) -> None:
    text = report.csv(table)
    if target == "-":
        sys.stdout.write(text)
        return
    try:
        Path(target).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        raise LoketError(f"cannot write {target}: {exc.strerror or exc}") from exc
    rows = text.count("\r\n") - 1
    print(f"wrote the {table} table ({rows} row(s)) to {target}", file=sys.stderr)


def period_of(settings: Settings, args: argparse.Namespace) -> Period:
    if args.days is not None and (args.first or args.last):
        raise LoketError("give either --days or --from/--to, not both")
    try:
        if args.days is not None:
            return Period.last_days(args.days, settings.timezone)
        today = Period.last_days(1, settings.timezone).last
        return Period.parse(args.first, args.last, settings.timezone, today=today)
    except BadPeriod as exc:
        raise LoketError(str(exc)) from None


def run(settings: Settings, args: argparse.Namespace) -> None:
    period = period_of(settings, args)

    async def work(store: Store) -> None:
        report = await build(store, period)
        if args.csv is not None:
            write_csv(report, args.table, args.csv)
        else:
            print_report(report)

    with_store(settings, work)


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of days, got {text}") from None
    if not 1 <= value <= 366:
        raise argparse.ArgumentTypeError(f"must be 1 to 366, got {text}")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    report = sub.add_parser(
        "report",
        help="conversations, containment, handoffs, first replies and satisfaction per day",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("--days", type=_days, help="the last N days, today included (default 7)")
    report.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="the first day")
    report.add_argument(
        "--to", dest="last", metavar="YYYY-MM-DD", help="the last day (default today)"
    )
    report.add_argument("--csv", metavar="FILE", help="write one table as CSV (- for stdout)")
    report.add_argument("--table", choices=TABLES, default="daily",
                        help="the table --csv writes (default daily)")  # fmt: skip
    return report
