"""`loket review`: the customer messages the bot did not understand, as training material.

Reads the transcripts in Redis (nothing is changed): every message the bot classified as
`nlu_fallback` or `out_of_scope` or that led to a "not understood" handoff, and the messages
just before a frustrated customer's complaint or a loop. Same text, one row, commonest first.
`--export FILE.jsonl` writes them with an empty "intent" for a trainer to fill in. Then, per
deployed model, how many of the messages misunderstood before it that model understands.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

from bot.core.errors import LoketError
from bot.core.settings import Settings
from bot.ops.commands.handoffs import with_store
from handoff.deploys import Deploy, Deploys
from handoff.review import Row, collect
from handoff.store import Store

DAY_MS = 24 * 3600 * 1000
DEPLOYS_SHOWN = 5


def _shorten(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _guess(row: Row) -> str:
    if row.guess is None:
        return "-"
    confidence = row.lowest_confidence
    return row.guess + (f" {confidence:.2f}" if confidence is not None else "")


def print_rows(rows: list[Row], limit: int) -> None:
    shown = rows[:limit]
    header = f"{'times':>5}  {'message':<48}  {'bot guessed':<22}  {'why':<28}  last seen"
    print(header)
    print("-" * len(header))
    for row in shown:
        seen = datetime.fromtimestamp(row.last_seen / 1000).strftime("%d-%m %H:%M")
        print(
            f"{row.times:>5}  {_shorten(row.text, 48):<48}  {_shorten(_guess(row), 22):<22}  "
            f"{_shorten(', '.join(row.reasons), 28):<28}  {seen}"
        )
    more = len(rows) - len(shown)
    hidden = f", {more} not shown (--limit)" if more else ""
    print(f"\n{len(rows)} misunderstood message(s){hidden}")


def print_rechecks(history: list[Deploy]) -> None:
    """Per deployed model, how many of the messages misunderstood before it it understands."""
    rechecked = [(d, d.recheck) for d in history if d.recheck is not None]
    if rechecked:
        print("\nearlier misses read again by each deployed model, newest first:")
    for d, recheck in rechecked:
        when = datetime.fromtimestamp(d.at / 1000).strftime("%d-%m %H:%M")
        print(f"  {when}  {d.kind:<8} {d.model:<18} {recheck.summary()}")


def export(rows: list[Row], path: Path) -> None:
    try:
        with path.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row.as_json(), ensure_ascii=False) + "\n")
    except OSError as exc:
        raise LoketError(f"cannot write {path}: {exc.strerror or exc}") from exc
    print(
        f'wrote {len(rows)} line(s) to {path}: fill in each "intent" (or delete the line), then '
        "add them to nlu_data/ or evaluate with bench/nlu.py --dataset",
        file=sys.stderr,
    )


def run(settings: Settings, args: argparse.Namespace) -> None:
    since = int(time.time() * 1000) - int(args.days * DAY_MS)

    async def work(store: Store) -> None:
        rows = await collect(store, since_ms=since)
        if args.export is not None:
            export(rows, args.export)
        else:
            print_rows(rows, args.limit)
            print_rechecks(await Deploys(store).history(DEPLOYS_SHOWN))

    with_store(settings, work)


def _days(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _limit(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    review = sub.add_parser(
        "review",
        help="messages the bot did not understand, commonest first (training material)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    review.add_argument(
        "--days", type=_days, default=7.0, help="look back this many days (default 7)"
    )
    review.add_argument("--limit", type=_limit, default=50, help="rows to print (default 50)")
    review.add_argument(
        "--export",
        metavar="FILE.jsonl",
        type=Path,
        help='write every row as {"text", "intent": "", "guess", ...} for labelling',
    )
    return review
