"""From "label 20 items" to "new model serving": the trainer's loop, timed, with the held-out
scores before and after.

    .venv/bin/python -m bench.retrain [--examples FILE.jsonl] [--workers N] [--dataset FILE]

1. Label: copies the project's training inputs (bot/config.yml, bot/domain.yml, bot/data/,
   nlu_data/) into a temporary folder and writes each labelled example (default
   bench/datasets/labelled20.jsonl: 20 messages of the kind `loket review` lists, labelled by
   hand, none taken from a held-out set) as one line under its intent in nlu_data/.
2. Train: the model of those inputs (`loket train`'s code, into the temporary folder).
3. Evaluate: the new model on the held-out set (bench/datasets/heldout.jsonl), as
   `loket evaluate` does; the current model too, for the "before" figure (not counted in the
   loop: a serving model has its report already).
4. Deploy: starts Loket's stack (embedded Redis, the action server, N Rasa workers serving the
   current model), puts the 20 messages in its Redis as misunderstood customer messages with
   the trainer's labels (review items, as the inbox's review page leaves them), and switches
   the stack to the new model through the gateway's deployer, one drained worker at a time (the
   score gate with tolerance 1.0: the figure is the switch's time). The deployer then reads the
   earlier misses again with the new model, as after every deploy (not counted in the loop).

Prints each stage's seconds and its share of the loop, the loop's total, the held-out macro-F1
and accuracy before and after, and how many of the labelled messages each model gives their
label (the current model's read before the switch). The baseline in the same run is the
current model's own figures. Figures, never pass/fail.

`--trained MODEL` skips training and deploys that model instead (a smoke run of the other
stages; the suite passes a small cached model).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.harness import ROOT, table
from bot.core.messages import ConversationKey
from bot.core.metrics import Metrics
from bot.core.settings import Settings
from bot.gateway.deployer import Deployer, DeployPolicy
from bot.gateway.model_tasks import ChildTasks
from bot.gateway.rasa_client import RasaClient
from bot.gateway.rasa_pool import RasaPool
from bot.gateway.recheck import recheck
from bot.ops import report
from bot.ops.evaluation import DEFAULT_DATASET, evaluate
from bot.ops.model import ModelInputs, ensure_model
from bot.ops.processes import free_port
from bot.ops.stack import Stack
from handoff import review_items
from handoff.deploys import Deploys, Recheck
from handoff.review_items import Item, ReviewFilter, ReviewItems
from handoff.store import Store
from handoff.transcript import Entry, Role, Transcript

LABELLED = ROOT / "bench" / "datasets" / "labelled20.jsonl"


def label(root: Path, examples: Path) -> int:
    """Copy the training inputs to `root` and add each example under its intent."""
    (root / "bot").mkdir(parents=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copy(ROOT / "bot" / name, root / "bot" / name)
    shutil.copytree(ROOT / "bot" / "data", root / "bot" / "data")
    shutil.copytree(ROOT / "nlu_data", root / "nlu_data")
    added = 0
    for line in examples.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        added += _insert(root / "nlu_data", item["intent"], item["text"])
    return added


def _insert(folder: Path, intent: str, text: str) -> int:
    """One line after the intent's last example, as the trainer view writes it."""
    for path in sorted(folder.glob("*.yml")):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        heads = [i for i, ln in enumerate(lines) if ln.strip() == f"- intent: {intent}"]
        if not heads:
            continue
        at = heads[0] + 2  # after "examples: |"
        while at < len(lines) and lines[at].startswith("      - "):
            at += 1
        lines.insert(at, f"      - {text}\n")
        path.write_text("".join(lines), encoding="utf-8")
        return 1
    raise SystemExit(f"no intent {intent!r} in {folder}")


@dataclass(frozen=True, slots=True)
class Outcome:
    seconds: float  # the switch
    before: Recheck  # the labelled misses read by the serving model
    after: Recheck  # and by the deployed one


async def as_misses(store: Store, examples: list[dict[str, str]]) -> list[Item]:
    """Each example as a customer message the bot fell back on, labelled by a trainer."""
    transcript, review = Transcript(store), ReviewItems(store)
    for n, example in enumerate(examples):
        key = ConversationKey("webchat", f"retrain{n}")
        await transcript.append(key, [Entry(Role.CUSTOMER, example["text"])])
        await transcript.append(key, [Entry(Role.BOT, "Maaf?", intent="nlu_fallback",
                                            confidence=0.3)])  # fmt: skip
        await review.scan_conversation(key)
    items = await review.items(ReviewFilter(status=""))
    labels = {e["text"]: e["intent"] for e in examples}
    for item in items:
        await review.decide(
            [item], status=review_items.LABELLED, by="bench", intent=labels[item.text]
        )
    return await review.items(ReviewFilter(status=""))


async def deploy(settings: Settings, model: Path, examples: list[dict[str, str]]) -> Outcome:
    store = Store.from_url(settings.redis_url or "")
    async with aiohttp.ClientSession() as session:
        deploys = Deploys(store)
        clients = [RasaClient(session, u, settings.rasa_token, 30) for u in settings.rasa_urls]
        pool = RasaPool(clients, Metrics(), gate=deploys)
        deployer = Deployer(pool, deploys, settings.data_dir, model.parent,
                            DeployPolicy(tolerance=1.0, drain_timeout=35),
                            ChildTasks(settings.data_dir, model.parent),
                            ReviewItems(store))  # fmt: skip
        await deployer.reconcile(at_start=True)
        before = await recheck(await as_misses(store, examples), pool.parse)

        async def progress(line: str) -> None:
            print(f"    {line}", file=sys.stderr, flush=True)

        started = time.perf_counter()
        switched = await deployer.deploy(str(model), "bench", progress)
        took = time.perf_counter() - started
    await store.close()
    if switched.recheck is None:
        raise SystemExit("the deployer did not read the earlier misses again")
    return Outcome(took, before, switched.recheck)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.retrain",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--examples", type=Path, default=LABELLED,
                        help="labelled {text, intent} JSONL (default: 20 of them)")  # fmt: skip
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET, help="held-out set")
    parser.add_argument("--workers", type=int, default=2, help="Rasa workers (default 2)")
    parser.add_argument("--trained", type=Path, metavar="MODEL",
                        help="deploy this model instead of training one (smoke runs)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.trained is not None and not args.trained.is_file():
        parser.error(f"--trained: no model file {args.trained}")
    examples = [json.loads(line) for line in args.examples.read_text("utf-8").splitlines()
                if line.strip()]  # fmt: skip
    current = ensure_model(ModelInputs(ROOT), ROOT / "models", quiet=True)
    with tempfile.TemporaryDirectory(prefix="loket-retrain-") as tmp:
        work = Path(tmp)
        data_dir = work / "var"
        stages: list[tuple[str, float]] = []

        def timed(name: str, started: float) -> None:
            stages.append((name, time.perf_counter() - started))
            print(f"==> {name}: {stages[-1][1]:.0f} s", file=sys.stderr, flush=True)

        started = time.perf_counter()
        added = label(work / "project", args.examples)
        timed(f"label {added} examples", started)
        started = time.perf_counter()
        if args.trained is None:
            new = ensure_model(ModelInputs(work / "project"), work / "models", quiet=True)
            timed("train", started)
        else:
            new = work / "models" / args.trained.name
            new.parent.mkdir()
            shutil.copy(args.trained, new)
            timed(f"train (skipped: {args.trained.name} given)", started)
        started = time.perf_counter()
        after, predictions = evaluate(new, args.dataset, work / "new.log", root=ROOT)
        report.save(data_dir, after, predictions, None)
        timed("evaluate the new model", started)
        before, predictions = evaluate(current, args.dataset, work / "current.log", root=ROOT)
        report.save(data_dir, before, predictions, None)
        base = Settings(data_dir=data_dir, rasa_workers=args.workers, rasa_port=0,
                        actions_port=0, provider_port=0, rasa_token="bench-token",
                        port=free_port())  # fmt: skip
        stack = Stack(base, current)
        print("==> starting the stack (not counted)", file=sys.stderr, flush=True)
        settings = stack.start()
        try:
            outcome = asyncio.run(deploy(settings, new, examples))
            stages.append((f"deploy to {args.workers} Rasa worker(s)", outcome.seconds))
        finally:
            stack.stop()
    total = sum(s for _, s in stages)
    print(table(["stage", "seconds", "share"],
                [[n, f"{s:.0f}", f"{s / total:.0%}"] for n, s in stages]
                + [["label -> new model serving", f"{total:.0f}", "100%"]]))  # fmt: skip
    print()
    print(table(["held-out set", "macro-F1", "accuracy", "misclassified"], [
        ["before (current model)", f"{before.macro_f1:.3f}", f"{before.accuracy:.1%}",
         str(len(before.misses))],
        [f"after (+{added} examples)", f"{after.macro_f1:.3f}", f"{after.accuracy:.1%}",
         str(len(after.misses))],
        ["after / before", f"{after.macro_f1 / before.macro_f1:.3f}", "", ""],
    ]))  # fmt: skip
    print()
    print(table(["the labelled misses", "given their label", "share"], [
        ["before (current model)", f"{outcome.before.labelled_right} of {outcome.before.labelled}",
         f"{outcome.before.labelled_right / max(1, outcome.before.labelled):.0%}"],
        ["after (deployed model)", f"{outcome.after.labelled_right} of {outcome.after.labelled}",
         f"{outcome.after.labelled_right / max(1, outcome.after.labelled):.0%}"],
    ]))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
