"""Whole conversations as customers type them, each with an outcome a program checks.

    .venv/bin/python -m bench.conversations [--conversations FILE] [--only ID ...]
                                            [--concurrency 4] [--show failed|all|none]

Every conversation of bench/datasets/conversations.jsonl is played through a whole running
Loket (its own Redis, sandbox provider, action server, Rasa and gateway) over the web chat,
one turn after the other, stopping at a handoff. A line is
{"id", "turns": [...], and any of: "mentions": [...], "absent": [...], "tickets": N,
"orders": N, "handoff": REASON, "by_turn": N, "buttons_at": [turn, ...]}, meaning: every
`mentions` text appears in some bot reply (case-insensitive), no `absent` text does; exactly
`tickets` complaint tickets and `orders` token orders were created (default 0; each one
checked in the sandbox's Redis); handed over with REASON by turn N (without "handoff": never
handed over); the bot's answer to each `buttons_at` turn offers buttons; and no dead end.

A dead end is a bot turn without buttons made only of the fixed "cannot help" sentences
(`utter_default`, `utter_out_of_scope`, `utter_please_rephrase`, read from bot/domain.yml), or
a turn the bot left unanswered without handing over. A conversation succeeds when all its
checks pass. Prints task success, dead-end replies, duplicate side effects (tickets and
orders beyond the expected), handoff rate, mean turns, bot texts sent more than twice in one
conversation, and every failed check. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench.harness import ROOT, WebChat, running, table
from bench.rasa_nlu import pct, shown_path
from bot.core.messages import ConversationKey
from bot.sandbox import keys as sandbox_keys
from handoff.handoffs import Handoffs
from handoff.store import Store

DATASET = ROOT / "bench" / "datasets" / "conversations.jsonl"
DEAD_END_RESPONSES = ("utter_default", "utter_out_of_scope", "utter_please_rephrase")
# The answers that announce a side effect; what they name before the reference is matched.
CREATED = {"ticket": "utter_complaint_opened", "order": "utter_payment_instructions"}
REFERENCE = {"ticket": re.compile(r"TKT[0-9]{6}"), "order": re.compile(r"TRX[0-9A-Z]{6,}")}
FIELDS = {"id", "turns", "mentions", "absent", "tickets", "orders", "handoff", "by_turn",
          "buttons_at", "note"}  # fmt: skip


class DatasetError(Exception):
    """Raised when the conversations file has a malformed line."""


@dataclass(frozen=True, slots=True)
class Script:
    """One conversation as written, with its expected outcome."""

    id: str
    turns: tuple[str, ...]
    mentions: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    tickets: int = 0
    orders: int = 0
    handoff: str | None = None
    by_turn: int | None = None
    buttons_at: tuple[int, ...] = ()


@dataclass
class BotTurn:
    texts: list[str]
    buttons: int


@dataclass
class Played:
    script: Script
    turns: list[BotTurn] = field(default_factory=list)
    reason: str | None = None
    handoff_turn: int | None = None
    tickets: set[str] = field(default_factory=set)
    orders: set[str] = field(default_factory=set)
    dead_ends: list[int] = field(default_factory=list)  # 1-based turns
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def read_scripts(path: Path) -> list[Script]:
    """Every line of the conversations file; DatasetError naming each bad line."""
    scripts: list[Script] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            row: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON: {exc.msg}")
            continue
        if not isinstance(row, dict):
            problems.append(f"{where}: expected a JSON object")
            continue
        unknown = set(row) - FIELDS
        turns = row.get("turns")
        if unknown:
            problems.append(f"{where}: unknown field(s) {sorted(unknown)}")
        elif not isinstance(row.get("id"), str) or row["id"] in seen:
            problems.append(f'{where}: "id" missing, not a string or repeated')
        elif (
            not isinstance(turns, list)
            or not turns
            or not all(isinstance(t, str) and t.strip() for t in turns)
        ):
            problems.append(f'{where}: "turns" must be a non-empty list of texts')
        elif ("handoff" in row) != ("by_turn" in row):
            problems.append(f'{where}: "handoff" and "by_turn" go together')
        else:
            seen.add(row["id"])
            scripts.append(
                Script(
                    id=row["id"],
                    turns=tuple(turns),
                    mentions=tuple(row.get("mentions", ())),
                    absent=tuple(row.get("absent", ())),
                    tickets=int(row.get("tickets", 0)),
                    orders=int(row.get("orders", 0)),
                    handoff=row.get("handoff"),
                    by_turn=row.get("by_turn"),
                    buttons_at=tuple(row.get("buttons_at", ())),
                )
            )
    if problems:
        raise DatasetError("\n".join([f"{len(problems)} bad line(s):", *problems[:20]]))
    if not scripts:
        raise DatasetError(f"{path}: no conversations")
    return scripts


def _texts(domain: Path, names: Iterable[str]) -> list[str]:
    responses = (yaml.safe_load(domain.read_text(encoding="utf-8")) or {}).get("responses", {})
    return [
        variant["text"].strip()
        for name in names
        for variant in responses.get(name, ())
        if isinstance(variant, dict) and isinstance(variant.get("text"), str)
    ]


def dead_end_texts(domain: Path) -> frozenset[str]:
    """The fixed "cannot help" sentences, in every language the domain has them."""
    return frozenset(_texts(domain, DEAD_END_RESPONSES))


def creation_patterns(domain: Path) -> dict[str, re.Pattern[str]]:
    """For tickets and orders: a pattern finding the reference in the answer that created it
    ("Laporan Anda tercatat dengan nomor TKT123456", "Pesanan TRX... sudah dibuat")."""
    found = {}
    for kind, response in CREATED.items():
        slot = "{ticket_id}" if kind == "ticket" else "{ref}"
        heads = [t.split(slot)[0] for t in _texts(domain, [response]) if slot in t]
        alternatives = "|".join(re.escape(h) for h in heads)
        found[kind] = re.compile(f"(?:{alternatives})({REFERENCE[kind].pattern})")
    return found


def is_dead_end(turn: BotTurn, handed_over: bool, fixed: frozenset[str]) -> bool:
    if turn.buttons:
        return False
    if not turn.texts:
        return not handed_over
    return all(text.strip() in fixed for text in turn.texts)


def repeated_texts(played: Played, limit: int = 2) -> Counter[str]:
    """Bot texts sent to the conversation more than `limit` times."""
    sent = Counter(text for turn in played.turns for text in turn.texts)
    return Counter({text: n for text, n in sent.items() if n > limit})


def check(played: Played, fixed: frozenset[str]) -> None:
    """Fill in the dead ends and the failed checks of a played conversation."""
    s = played.script
    said = "\n".join(text for turn in played.turns for text in turn.texts).casefold()
    for i, turn in enumerate(played.turns, start=1):
        last = i == len(played.turns)
        if is_dead_end(turn, last and played.reason is not None, fixed):
            played.dead_ends.append(i)
    fails = played.failures
    fails += [f"dead end at turn {i}" for i in played.dead_ends]
    fails += [f"never said {m!r}" for m in s.mentions if m.casefold() not in said]
    fails += [f"said {a!r}" for a in s.absent if a.casefold() in said]
    if len(played.tickets) != s.tickets:
        fails.append(f"{len(played.tickets)} ticket(s) filed, expected {s.tickets}")
    if len(played.orders) != s.orders:
        fails.append(f"{len(played.orders)} order(s) created, expected {s.orders}")
    if s.handoff is None and played.reason is not None:
        fails.append(f"handed over ({played.reason}) at turn {played.handoff_turn}")
    if s.handoff is not None:
        if played.reason != s.handoff:
            fails.append(f"handoff {played.reason or 'none'}, expected {s.handoff}")
        elif played.handoff_turn and s.by_turn and played.handoff_turn > s.by_turn:
            fails.append(f"handed over at turn {played.handoff_turn}, expected by {s.by_turn}")
    for i in s.buttons_at:
        if i <= len(played.turns) and not played.turns[i - 1].buttons:
            fails.append(f"no buttons at turn {i}")


def created(texts: Iterable[str], pattern: re.Pattern[str]) -> set[str]:
    """The references the bot announced creating in these replies."""
    return {m for text in texts for m in pattern.findall(text)}


class Player:
    def __init__(self, session: aiohttp.ClientSession, base: str, store: Store) -> None:
        self.creations = creation_patterns(ROOT / "bot" / "domain.yml")
        self.chat = WebChat(session, base)
        self.store = store
        self.handoffs = Handoffs(store)

    async def play(self, script: Script, run: str) -> Played:
        played = Played(script)
        chat_id = f"{run}-{script.id}"[:64]
        key = ConversationKey("webchat", chat_id)
        for i, text in enumerate(script.turns, start=1):
            status, body = await self.chat.post(chat_id, text)
            if status != 200:
                played.failures.append(f"turn {i}: HTTP {status} {body}")
                break
            replies = body.get("replies", [])
            played.turns.append(
                BotTurn(
                    [r.get("text") or "" for r in replies],
                    sum(len(r.get("buttons") or ()) for r in replies),
                )
            )
            handoff = await self.handoffs.get(key)
            if handoff is not None:
                played.reason, played.handoff_turn = handoff.reason, i
                break
        texts = [t for turn in played.turns for t in turn.texts]
        tickets = created(texts, self.creations["ticket"])
        orders = created(texts, self.creations["order"])
        played.tickets = await self._existing(tickets, sandbox_keys.ticket)
        played.orders = await self._existing(orders, sandbox_keys.transaction)
        return played

    async def _existing(self, refs: set[str], key: Any) -> set[str]:
        """The references that really exist in the sandbox provider's records."""
        return {ref for ref in refs if await self.store.redis.exists(key(ref))}


def summary(played: Sequence[Played]) -> str:
    n = len(played)
    ok = sum(p.ok for p in played)
    turns = [len(p.turns) for p in played]
    dead = sum(len(p.dead_ends) for p in played)
    extra_tickets = sum(max(0, len(p.tickets) - p.script.tickets) for p in played)
    extra_orders = sum(max(0, len(p.orders) - p.script.orders) for p in played)
    handed = [p for p in played if p.reason]
    unwanted = sum(1 for p in handed if p.script.handoff is None)
    repeats = sum(sum(repeated_texts(p).values()) for p in played)
    rows = [
        ["task success (target >= 90%)", pct(ok, n)],
        ["dead-end replies (target 0)", f"{dead} in {sum(turns)} bot turns"],
        ["duplicate tickets (target 0)", str(extra_tickets)],
        ["duplicate orders", str(extra_orders)],
        ["handoff rate", pct(len(handed), n)],
        ["  handed over where none was expected", str(unwanted)],
        ["mean turns played", f"{statistics.mean(turns):.2f}"],
        ["bot texts sent more than twice to one conversation", str(repeats)],
    ]
    return table(["measure", "value"], rows)


async def play_all(scripts: list[Script], concurrency: int) -> tuple[list[Played], float]:
    fixed = dead_end_texts(ROOT / "bot" / "domain.yml")
    run = f"conv{int(time.time()) % 100000}"
    with running() as loket:
        store = Store.from_url(loket.settings.redis_url or "")
        try:
            async with aiohttp.ClientSession() as session:
                player = Player(session, loket.gateway_url, store)
                gate = asyncio.Semaphore(concurrency)

                async def one(script: Script) -> Played:
                    async with gate:
                        return await player.play(script, run)

                started = time.perf_counter()
                played = await asyncio.gather(*(one(s) for s in scripts))
                elapsed = time.perf_counter() - started
        finally:
            await store.close()
    for p in played:
        check(p, fixed)
    return list(played), elapsed


def show(played: Sequence[Played], which: str) -> None:
    for p in played:
        if which == "none" or (which == "failed" and p.ok):
            continue
        mark = "ok  " if p.ok else "FAIL"
        print(f"\n{mark} {p.script.id}: {'; '.join(p.failures) or 'all checks passed'}")
        for i, (said, turn) in enumerate(zip(p.script.turns, p.turns, strict=False), start=1):
            print(f"  {i}> {said}")
            for text in turn.texts:
                print(f"     < {text[:150]}")
            if turn.buttons:
                print(f"     < [{turn.buttons} button(s)]")
        if p.reason:
            print(f"  handed over: {p.reason} at turn {p.handoff_turn}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.conversations", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--conversations", type=Path, default=DATASET)
    parser.add_argument("--only", nargs="+", metavar="ID", help="play only these conversations")
    parser.add_argument("--concurrency", type=int, default=4, help="conversations at once")
    parser.add_argument("--show", choices=["failed", "all", "none"], default="failed",
                        help="print the transcripts of these conversations")  # fmt: skip
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        scripts = read_scripts(args.conversations)
    except (OSError, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.only:
        missing = set(args.only) - {s.id for s in scripts}
        if missing:
            print(f"error: no conversation {sorted(missing)}", file=sys.stderr)
            return 2
        scripts = [s for s in scripts if s.id in args.only]
    played, elapsed = asyncio.run(play_all(scripts, args.concurrency))
    show(played, args.show)
    print(f"\n{len(played)} conversations from {shown_path(args.conversations)}, "
          f"{sum(len(p.turns) for p in played)} turns, {elapsed:.0f}s")  # fmt: skip
    print(summary(played))
    failed = Counter(f.split(" ")[0] if f.startswith("dead") else f.split(",")[0]
                     for p in played for f in p.failures)  # fmt: skip
    if failed:
        print("\ncommonest failed checks: " + ", ".join(f"{k} x{n}" for k, n in
                                                       failed.most_common(6)))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
