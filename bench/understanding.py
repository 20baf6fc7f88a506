"""Understanding and handoff: precision/recall per signal, CLINC150, a simulation.

    .venv/bin/python -m bench.understanding [--conversations FILE] [--simulate 200]
                                            [--clinc full|small|none] [--clinc-data FOLDER]
                                            [--epochs N] [--seed 7] [--no-conversations]

1. Held-out conversations (bench/datasets/handoff_conversations.jsonl: {"id", "expect",
   "turns"}, `expect` a handoff reason or null) are played through a whole running Loket (its
   own Redis, sandbox, Rasa, gateway). After each turn the conversation's handoff record is
   read; a conversation stops at its first handoff. Prints precision and recall per signal.
   The `backend_failure` conversations run last, with the sandbox provider stopped.
2. CLINC150 (../shared/eval/clinc150, Larson et al. 2019): the project's own NLU pipeline and
   fallback settings (bot/config.yml) are trained on the train split with `oos` as an intent
   (the paper's oos-train protocol; our FallbackClassifier adds a threshold on top), and
   evaluated on the test split: in-scope accuracy (an out-of-scope or fallback prediction
   counts as wrong) and out-of-scope recall (predicted oos or fallback), beside the paper's
   reference figures. Skipped, saying so, when the data is not there (--clinc-data FOLDER
   names another place).
3. A simulation of N conversations (seeded) mixing real requests with misunderstandings:
   counts the bot repeating a message verbatim (target 0) and the turns until handoff.

Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.crossval import nlu_config
from bench.harness import ROOT, WebChat, running, table
from bench.rasa_nlu import muted, parse_all, quiet_rasa, shown_path
from bot.core.messages import ConversationKey
from bot.core.reasons import Reason
from handoff.handoffs import Handoffs
from handoff.store import Store

CLINC = ROOT.parent / "shared" / "eval" / "clinc150"
# Every handoff reason but bot_unavailable, which needs Rasa down (no conversation here does).
SIGNALS = tuple(r.value for r in Reason if r is not Reason.BOT_UNAVAILABLE)
REFERENCE = [  # paper Table 2, "Full": in-scope accuracy / OOS recall, oos-train | oos-threshold
    ("FastText", "89.0 / 9.7", "88.6 / 28.3"),
    ("SVM", "91.0 / 14.5", "88.2 / 18.0"),
    ("CNN", "91.2 / 18.9", "90.9 / 30.9"),
    ("DialogFlow", "91.7 / 14.0", "90.8 / 26.7"),
    ("Rasa (2019, spaCy + sklearn)", "91.5 / 45.3", "90.9 / 31.2"),
    ("MLP (USE embeddings)", "93.5 / 47.4", "93.4 / 49.1"),
    ("BERT (large)", "96.9 / 40.3", "96.2 / 52.3"),
]

# The simulation's material: requests the bot handles, and messages it cannot.
REQUESTS = [
    ["mau beli token 50rb", "14234567890"], ["cek tagihan 532100556677"], ["halo"],
    ["cek transaksi TRXDEMO0001"], ["gmn cara pasang baru"], ["how do I buy a token"],
    ["listrik mati dr td pagi"], ["bisa bantu apa aja"], ["status laporan TKT240117"],
]  # fmt: skip
MISUNDERSTOOD = [
    "asdkjh qwe", "zzzz xxx", "resep nasi goreng dong", "cuaca besok gimana", "tell me a joke",
    "xyzzy plugh", "blablabla", "jkjkjk qwerty", "pinjam uang dong", "jadwal bola malam ini",
    "hmm entahlah", "book me a flight", "wkwkwk", "ngurus sim gimana", "lorem ipsum dolor",
    "beli hp dimana ya", "siapa presiden", "harga bensin berapa", "qwe rty uio", "lagu apa bagus",
]  # fmt: skip


@dataclass
class Played:
    """One conversation as it went: bot texts per turn, and the handoff if any."""

    expect: str | None
    bot_turns: list[list[str]] = field(default_factory=list)
    reason: str | None = None
    handoff_turn: int | None = None  # 1-based
    first_miss_turn: int | None = None


class Player:
    def __init__(self, session: aiohttp.ClientSession, base: str, store: Store) -> None:
        self.chat = WebChat(session, base)
        self.handoffs = Handoffs(store)

    async def play(self, chat_id: str, turns: list[str], expect: str | None = None) -> Played:
        played = Played(expect)
        key = ConversationKey("webchat", chat_id)
        for i, text in enumerate(turns, start=1):
            status, body = await self.chat.post(chat_id, text)
            if status != 200:
                raise RuntimeError(f"{chat_id} turn {i}: {status} {body}")
            played.bot_turns.append([r["text"] for r in body["replies"]])
            if played.first_miss_turn is None and text in MISUNDERSTOOD:
                played.first_miss_turn = i
            handoff = await self.handoffs.get(key)
            if handoff is not None:
                played.reason, played.handoff_turn = handoff.reason, i
                break
        return played


async def gather_limited(jobs: list[Any], limit: int = 8) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def run(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(run(j) for j in jobs))


def signal_table(played: list[Played]) -> str:
    rows = []
    for signal in SIGNALS:
        tp = sum(1 for p in played if p.expect == signal and p.reason == signal)
        fp = sum(1 for p in played if p.expect != signal and p.reason == signal)
        fn = sum(1 for p in played if p.expect == signal and p.reason != signal)
        precision = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
        recall = f"{tp / (tp + fn):.2f}" if tp + fn else "-"
        rows.append([signal, str(tp + fn), str(tp + fp), str(tp), precision, recall])
    calm = [p for p in played if p.expect is None]
    kept = sum(1 for p in calm if p.reason is None)
    rows.append(["(no handoff expected)", str(len(calm)), "-", str(kept), "-",
                 f"{kept / len(calm):.2f}" if calm else "-"])  # fmt: skip
    return table(["signal", "expected", "handed over", "correct", "precision", "recall"], rows)


def repeats(played: Played) -> list[str]:
    """Bot messages that repeat, word for word, one the bot sent the turn before."""
    found = []
    for before, after in zip(played.bot_turns, played.bot_turns[1:], strict=False):
        found += [text for text in after if text in before]
    return found


async def held_out_and_simulation(args: argparse.Namespace) -> None:
    rows = [json.loads(line) for line in args.conversations.read_text().splitlines() if line]
    with running() as loket:
        store = Store.from_url(loket.settings.redis_url or "")
        async with aiohttp.ClientSession() as session:
            player = Player(session, loket.gateway_url, store)
            started = time.perf_counter()
            normal = [r for r in rows if r["expect"] != "backend_failure"]
            backend = [r for r in rows if r["expect"] == "backend_failure"]
            played = await gather_limited(
                [player.play(r["id"], r["turns"], r["expect"]) for r in normal]
            )
            sandbox = loket.stack.child("sandbox provider")
            if sandbox is not None:
                sandbox.stop()  # the utility's system goes down
            played += await gather_limited(
                [player.play(r["id"], r["turns"], r["expect"]) for r in backend]
            )
            if sandbox is not None:
                sandbox.start(timeout=60)
            source = shown_path(args.conversations)
            elapsed = time.perf_counter() - started
            print(f"\n1. Held-out conversations: {len(played)} from {source} ({elapsed:.0f}s)")
            print(signal_table(played))
            wrong = [(p.expect, p.reason) for p in played if p.expect != p.reason]
            if wrong:
                print("mismatches (expected -> got): " + ", ".join(
                    f"{e} -> {g} x{n}" for (e, g), n in Counter(wrong).most_common()))  # fmt: skip

            if args.simulate:
                await simulate(args, player)
        await store.close()


async def simulate(args: argparse.Namespace, player: Player) -> None:
    rng = random.Random(args.seed)
    scripts = []
    for n in range(args.simulate):
        turns = list(rng.choice(REQUESTS)) if rng.random() < 0.7 else []
        for _ in range(rng.randint(2, 4)):
            turns.append(rng.choice(MISUNDERSTOOD))
            if rng.random() < 0.25:
                turns.extend(rng.choice(REQUESTS))
        scripts.append((f"sim{n:04d}", turns[:8]))
    started = time.perf_counter()
    played: list[Played] = await gather_limited([player.play(c, t) for c, t in scripts])
    handed = [p for p in played if p.handoff_turn]
    until = [p.handoff_turn - p.first_miss_turn + 1 for p in handed
             if p.handoff_turn and p.first_miss_turn]  # fmt: skip
    turns = sum(len(p.bot_turns) for p in played)
    print(f"\n3. Simulation: {len(played)} conversations with misunderstandings "
          f"(seed {args.seed}), {turns} turns, {time.perf_counter() - started:.0f}s")  # fmt: skip
    repeated = [text for p in played for text in repeats(p)]
    rows = [
        ["bot repeated a message verbatim (target 0)", str(len(repeated))],
        ["conversations handed over", f"{len(handed)} / {len(played)}"],
        ["turns from first misunderstanding to handoff: mean",
         f"{statistics.mean(until):.2f}" if until else "-"],
        ["  median / max", f"{statistics.median(until):.0f} / {max(until)}" if until else "-"],
    ]  # fmt: skip
    rows += [[f"  reason {r}", str(n)] for r, n in Counter(p.reason for p in handed).most_common()]
    print(table(["measure", "value"], rows))
    for text, n in Counter(repeated).most_common(5):
        print(f"  repeated x{n}: {text[:110]!r}")


def clinc(args: argparse.Namespace) -> None:
    quiet_rasa(args.verbose)
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data = json.loads(clinc_file(args).read_text())

    def label(name: str) -> str:
        return "out_of_scope" if name == "oos" else name

    train = [Message.build(text=t, intent=label(i)) for t, i in data["train"] + data["oos_train"]]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="loket-clinc-") as tmp:
        folder = Path(tmp)
        config, epochs_note = nlu_config(ROOT / "bot" / "config.yml", args.epochs, folder)
        RasaYAMLWriter().dump(folder / "nlu.yml", TrainingData(training_examples=train))
        print(f"\n2. CLINC150 ({args.clinc}): training on {len(train)} examples, {epochs_note}...",
              file=sys.stderr)  # fmt: skip
        with muted(args.verbose):
            model = train_nlu(str(config), str(folder / "nlu.yml"), str(folder), "clinc")
            assert model is not None, "Rasa trained no model"
            agent = Agent.load(model)
        trained = time.perf_counter()
        in_scope = data["test"]
        oos = data["oos_test"]
        got_in = parse_all(agent, [t for t, _ in in_scope])
        got_oos = parse_all(agent, [t for t, _ in oos])
    refused = {"out_of_scope", "nlu_fallback"}
    accuracy = sum(g == i for g, (_, i) in zip(got_in, in_scope, strict=True)) / len(in_scope)
    recall = sum(g in refused for g in got_oos) / len(oos)
    fallback_in = sum(g == "nlu_fallback" for g in got_in) / len(in_scope)
    print(f"\n2. CLINC150 '{args.clinc}': trained {trained - started:.0f}s, "
          f"tested on {len(in_scope)} in-scope + {len(oos)} out-of-scope queries")  # fmt: skip
    rows = [
        [
            "Loket (bot/config.yml: DIET + FallbackClassifier 0.55)",
            f"{accuracy * 100:.1f} / {recall * 100:.1f}",
            "(same run: oos intent + threshold)",
        ]
    ]
    rows += [list(r) for r in REFERENCE]  # fmt: skip
    print(table(["classifier", "oos-train", "oos-threshold"], rows))
    print(f"(in-scope accuracy / OOS recall, %; Loket's in-scope fallback rate "
          f"{fallback_in * 100:.1f}%; reference rows: paper Table 2, Full)")  # fmt: skip


def clinc_file(args: argparse.Namespace) -> Path:
    return args.clinc_data / f"data_{args.clinc}.json"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.understanding",
        description=__doc__.split("\n")[0],
    )
    parser.add_argument(
        "--conversations",
        type=Path,
        default=ROOT / "bench" / "datasets" / "handoff_conversations.jsonl",
    )
    parser.add_argument("--no-conversations", action="store_true", help="skip parts 1 and 3")
    parser.add_argument("--simulate", type=int, default=200, help="0 to skip")
    parser.add_argument("--clinc", choices=["full", "small", "none"], default="full")
    parser.add_argument(
        "--clinc-data",
        metavar="FOLDER",
        type=Path,
        default=CLINC,
        help=f"the CLINC150 data_*.json files (default {shown_path(CLINC)}); "
        "part 2 is skipped when they are not there",
    )
    parser.add_argument("--epochs", type=int, default=None, help="override DIET's epochs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    args.conversations = args.conversations.resolve()
    # Said before minutes of conversations, and again where part 2's figures would be.
    missing = args.clinc != "none" and not clinc_file(args).is_file()
    if missing:
        print(f"CLINC150: no {clinc_file(args)}; part 2 will be skipped", file=sys.stderr)
    if not args.no_conversations:
        asyncio.run(held_out_and_simulation(args))
    if missing:
        print(
            f"\n2. CLINC150 '{args.clinc}': skipped, no {clinc_file(args)} "
            "(get the dataset of Larson et al. 2019 there, or pass --clinc-data or --clinc none)"
        )
    elif args.clinc != "none":
        clinc(args)


if __name__ == "__main__":
    main()
