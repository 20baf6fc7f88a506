"""`loket train`, `loket evaluate`, `loket deploy` and `loket models`: the trainer's loop from
training data to the model the bot serves.

Training and scoring run here, as child processes. A deploy or rollback is queued in Redis and
carried out by the running gateway, which owns the Rasa workers (one at a time, drained, so no
message in flight is lost, repeated or reordered); this command follows its progress.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import time
from datetime import datetime
from pathlib import Path

from bot.core.errors import LoketError
from bot.core.scores import (
    CONFUSION_PNG,
    REPORT_HTML,
    Scores,
    all_scores,
    compare,
    model_id,
    read_scores,
    report_folder,
)
from bot.core.settings import PROJECT_ROOT, Settings
from bot.ops import report
from bot.ops.commands.handoffs import with_store
from bot.ops.evaluation import DEFAULT_DATASET, evaluate
from bot.ops.model import ModelInputs, ensure_model, model_path
from handoff.deploys import Deploy, Deploys, Job
from handoff.store import Store

PICKUP_TIMEOUT_S = 30.0  # a queued deploy nobody takes up in this long is cancelled
POLL_S = 0.5


def _by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def resolve(settings: Settings, model: str | None) -> Path:
    """A model by path, file name or id; by default the one trained from the current data."""
    if model is None:
        path = model_path(ModelInputs(PROJECT_ROOT), settings.models_dir)
        if not path.is_file():
            raise LoketError(f"the current training data's model {path.name} is not trained "
                             "yet; run `loket train` first")  # fmt: skip
        return path
    for path in (Path(model), settings.models_dir / model,
                 settings.models_dir / f"loket-{model}.tar.gz"):  # fmt: skip
        if path.is_file() and path.name.endswith(".tar.gz"):
            return path.resolve()
    raise LoketError(f"no model {model!r}: give a path, a file name or an id from `loket models`")


# --- train ----------------------------------------------------------------------------------


def cmd_train(settings: Settings, args: argparse.Namespace) -> None:
    started = time.monotonic()
    print("==> checking the training data's hash against models/", flush=True)
    path = ensure_model(ModelInputs(PROJECT_ROOT), settings.models_dir, force=args.force)
    took = time.monotonic() - started
    print(f"==> model ready: {path} ({took:.0f} s); next: `loket evaluate`, then "
          "`loket deploy`", flush=True)  # fmt: skip


# --- evaluate -------------------------------------------------------------------------------


def _previous(settings: Settings, scores: Scores, against: str | None) -> Scores | None:
    if against is not None:
        found = read_scores(settings.data_dir, model_id(against))
        if found is None:
            raise LoketError(f"model {against!r} has no report; run `loket evaluate --model "
                             f"{against}` first")  # fmt: skip
        return found
    return next(
        (s for s in all_scores(settings.data_dir)
         if s.model != scores.model and s.dataset == scores.dataset),
        None,
    )  # fmt: skip


def print_scores(scores: Scores, previous: Scores | None, misses: int) -> None:
    comparison = compare(scores, previous) if previous else None
    changes = {c.intent: c for c in comparison.changes} if comparison else {}
    header = (f"{'intent':<20} {'precision':>9} {'recall':>7} {'F1':>6} {'n':>4}  "
              f"{'before':>6}  change")  # fmt: skip
    print(header)
    print("-" * len(header))
    for name, s in sorted(scores.intents.items()):
        c = changes.get(name)
        before = f"{c.before:.3f}" if c and c.before is not None else "-"
        print(f"{name:<20} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} {s.support:>4}  "
              f"{before:>6}  {c.verdict if c else '-'}")  # fmt: skip
    print(f"\nmacro-F1 {scores.macro_f1:.3f}, accuracy {scores.accuracy:.1%} on "
          f"{scores.examples} held-out examples ({scores.seconds:.0f} s)")  # fmt: skip
    if comparison:
        print(f"against model {comparison.current.model}: macro-F1 "
              f"{comparison.current.macro_f1:.3f} -> {scores.macro_f1:.3f} "
              f"({comparison.delta:+.3f})")  # fmt: skip
    else:
        print("no earlier report on this held-out set to compare with")
    if scores.misses:
        print(f"\nmisclassified ({len(scores.misses)}):")
        for m in scores.misses[:misses]:
            print(f"  {m.gold:<18} -> {m.predicted:<18} {m.confidence:.2f}  {m.text}")
        if len(scores.misses) > misses:
            print(f"  ... {len(scores.misses) - misses} more in the HTML report")


def cmd_evaluate(settings: Settings, args: argparse.Namespace) -> None:
    model = resolve(settings, args.model)
    folder = report_folder(settings.data_dir, model)
    scores, predictions = evaluate(model, args.dataset, folder / "rasa-test.log")
    previous = _previous(settings, scores, args.against)
    comparison = compare(scores, previous) if previous else None
    saved = report.save(settings.data_dir, scores, predictions, comparison)
    print_scores(scores, previous, args.misses)
    print(f"\nreport: {saved / REPORT_HTML}\nconfusion matrix: {saved / CONFUSION_PNG}")


# --- deploy and models ----------------------------------------------------------------------


async def follow(deploys: Deploys, job: Job) -> Job:
    """Print the job's progress until it ends; cancel it if no gateway takes it up."""
    shown = 0
    queued_at = time.monotonic()
    while True:
        current = await deploys.job(job.id)
        if current is None:
            raise LoketError(f"the {job.kind} job {job.id} disappeared from Redis")
        for line in current.steps[shown:]:
            print(f"  {line}", flush=True)
        shown = len(current.steps)
        if current.status in ("done", "failed"):
            return current
        waited = time.monotonic() - queued_at
        if (
            current.status == "queued"
            and waited > PICKUP_TIMEOUT_S
            and await deploys.cancel(job.id)
        ):
            raise LoketError(
                f"no running gateway took the {job.kind} up in {PICKUP_TIMEOUT_S:.0f} s; "
                "the gateway (`loket run`) carries deploys out, and must be running"
            )
        await asyncio.sleep(POLL_S)


def cmd_deploy(settings: Settings, args: argparse.Namespace) -> None:
    kind = "rollback" if args.rollback else "deploy"
    model = ""
    if not args.rollback:
        path = resolve(settings, args.model)
        model = str(path)
        if read_scores(settings.data_dir, path) is None:
            log = report_folder(settings.data_dir, path) / "rasa-test.log"
            scores, predictions = evaluate(path, DEFAULT_DATASET, log)
            report.save(settings.data_dir, scores, predictions, None)
            print(f"==> {scores.model}: held-out macro-F1 {scores.macro_f1:.3f}")

    async def work(store: Store) -> None:
        deploys = Deploys(store)
        job = await deploys.queue(kind, args.by or _by(), model)
        print(f"==> {kind} queued (job {job.id}); the gateway switches one Rasa worker at a "
              "time", flush=True)  # fmt: skip
        done = await follow(deploys, job)
        if done.status == "failed":
            raise LoketError(f"{kind} refused: {done.error}")
        r = done.result
        print(f"==> {kind} done: model {r.get('model')} serves ({r.get('model_file')}); "
              f"recorded as {r.get('id')}")  # fmt: skip

    with_store(settings, work)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def cmd_models(settings: Settings, args: argparse.Namespace) -> None:
    """The trained models (no Redis needed), then the recorded deploys (if Redis answers)."""
    current_inputs = model_id(model_path(ModelInputs(PROJECT_ROOT), settings.models_dir))
    files = sorted(settings.models_dir.glob("loket-*.tar.gz"), key=lambda p: p.stat().st_mtime,
                   reverse=True)  # fmt: skip
    history: list[Deploy] = []
    unreachable = ""

    async def work(store: Store) -> None:
        history.extend(await Deploys(store).history(args.history))

    try:
        with_store(settings, work)
    except LoketError as exc:
        unreachable = str(exc)
    serving = history[0].model if history else None
    print(f"{'model':<20} {'trained':<16} {'MB':>5} {'macro-F1':>8}  notes")
    for path in files:
        mid = model_id(path)
        scores = read_scores(settings.data_dir, path)
        marks = (("serving", mid == serving), ("current training data", mid == current_inputs))
        notes = [name for name, on in marks if on]
        f1 = f"{scores.macro_f1:.3f}" if scores else "-"
        print(f"{mid:<20} {_when(int(path.stat().st_mtime * 1000)):<16} "
              f"{path.stat().st_size / 1e6:>5.0f} {f1:>8}  {', '.join(notes)}")  # fmt: skip
    print("\ndeploys, newest first:")
    if unreachable:
        print(f"  not known here: {unreachable}")
    elif not history:
        print("  none recorded")
    for d in history:
        f1 = f"{d.macro_f1:.3f}" if d.macro_f1 is not None else "-"
        print(f"  {_when(d.at)}  {d.kind:<8} {d.model:<18} macro-F1 {f1:<6} by {d.by}")
        if d.recheck:
            print(f"  {'':16}  {d.recheck.summary()}")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    train = sub.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true", help="train even if the model is current")
    train.set_defaults(models=cmd_train)
    ev = sub.add_parser(
        "evaluate",
        help="score a model on the held-out set: per-intent precision/recall/F1, confusion "
        "matrix PNG, HTML report, comparison with the previous model",
    )
    ev.add_argument("--model", help="path, file name or id (default: the current data's model)")
    ev.add_argument("--dataset", type=Path, default=DEFAULT_DATASET,
                    help='{"text", "intent"} JSONL held-out set (default: '
                    "bench/datasets/heldout.jsonl)")  # fmt: skip
    ev.add_argument("--against", metavar="MODEL", help="compare with this model's report "
                    "(default: the latest other report on the same set)")  # fmt: skip
    ev.add_argument("--misses", type=int, default=30, help="misclassified examples to print")
    ev.set_defaults(models=cmd_evaluate)
    deploy = sub.add_parser(
        "deploy",
        help="switch the running Rasa workers to a model (refused if it scores worse than the "
        "serving one beyond LOKET_DEPLOY_TOLERANCE), or --rollback",
    )
    deploy.add_argument("model", nargs="?", help="path, file name or id (default: the current "
                        "data's model)")  # fmt: skip
    deploy.add_argument("--rollback", action="store_true",
                        help="go back to the model served before the current one")  # fmt: skip
    deploy.add_argument("--by", help="who deploys, for the record (default: your user name)")
    deploy.set_defaults(models=cmd_deploy)
    models = sub.add_parser("models", help="trained models, their scores and the deploys")
    models.add_argument("--history", type=int, default=10, help="deploys to list (default 10)")
    models.set_defaults(models=cmd_models)


def run(settings: Settings, args: argparse.Namespace) -> None:
    if args.command == "deploy" and args.rollback and args.model:
        raise LoketError("give either a model or --rollback, not both")
    args.models(settings, args)
