"""NLU accuracy benchmark: cross-validated intent scores and a held-out JSONL evaluation.

    .venv/bin/python -m bench.nlu [--folds 5] [--seed 7] [--repeats R] [--intents-only]
                                  [--jobs N] [--epochs N] [--config FILE.yml]
                                  [--no-cv] [--dataset FILE.jsonl] [--model PATH]

Cross-validation (on unless --no-cv): the project's NLU examples (every NLU file under
nlu_data/ and bot/data/, the folders `rasa train` reads) are split into stratified folds. Each
fold trains an NLU-only model in a temporary directory with the project's own bot/config.yml
pipeline (FallbackClassifier included) and predicts the held-out examples; regexes, synonyms
and lookup tables stay in every fold's training data. Prints per-intent precision, recall, F1,
support and how many examples fell back, then macro-F1 against the project's target, accuracy,
the commonest confusions and the total time. A prediction of `nlu_fallback` (the classifier
was not confident) is a miss for the example's intent, also for out_of_scope examples; the
`fell back` column shows how many misses were fallbacks, and separate lines how many
out_of_scope examples were refused either way and the macro-F1 with a fallback counted as
out_of_scope (the --dataset definition). Progress goes to stderr.
--repeats R draws the split R times (seeds 7, 8, ...; bench/crossval.py) and pools the
predictions, printing each repeat's macro-F1 too: one split's figure moves by about ±0.005
with the luck of the draw. --intents-only leaves out DIETClassifier, which in bot/config.yml
only extracts entities: the intents predicted are the same and a fold trains about four times
faster (most of what is left is the sentence encoder; refused if DIET classifies intents).
--epochs N overrides DIETClassifier's epochs for a quick, less accurate run. Folds train in
parallel, one process each (--jobs, default one per CPU core): TensorFlow keeps about one core
busy per fold, and each needs about 2 GB of memory. --config FILE.yml cross-validates another
pipeline on the same folds, to compare it with bot/config.yml before changing the project's.

--dataset FILE.jsonl: one {"text": ..., "intent": ...} per line, intents named in
bot/domain.yml. Evaluates the project's current model (trained into models/ first if the
inputs changed, as `make run` does) or the model given with --model. A gold intent of
out_of_scope means the bot should not claim to understand: predicting out_of_scope or
nlu_fallback counts as correctly refused. Prints in-scope accuracy (fallback counts as
wrong), out-of-scope recall, the in-scope fallback rate, macro-F1 (a fallback counted as
out_of_scope, so an in-scope message refused costs out_of_scope's precision), per-intent
figures and the commonest confusions. The whole file is checked first; any bad line
(invalid JSON, missing text or intent, an intent not in bot/domain.yml) stops the run with exit
code 2 before anything is evaluated. Blank lines are skipped.

Prints figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.crossval import Options, cross_validate
from bench.harness import ROOT, table
from bench.rasa_nlu import (
    FALLBACK,
    OUT_OF_SCOPE,
    REFUSALS,
    DatasetError,
    confusion_table,
    domain_intents,
    muted,
    parse_all,
    pct,
    quiet_rasa,
    refusal_macro_f1,
)
from bot.core.errors import TrainingFailed
from bot.ops.model import ModelInputs, ensure_model

__all__ = ["DatasetError", "Example", "main", "parse_args", "read_dataset", "refusal_macro_f1"]


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str


# --- held-out dataset -------------------------------------------------------------------------


def read_dataset(path: Path, intents: Sequence[str]) -> list[Example]:
    """Every line of a JSONL file as an Example; DatasetError listing every bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from exc
    known = set(intents)
    examples: list[Example] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{where}: expected a JSON object, got {type(record).__name__}")
            continue
        text, intent = record.get("text"), record.get("intent")
        if not isinstance(text, str) or not text.strip():
            problems.append(f'{where}: "text" is missing, empty or not a string')
        elif not isinstance(intent, str) or not intent:
            problems.append(f'{where}: "intent" is missing, empty or not a string')
        elif intent not in known:
            problems.append(f'{where}: unknown intent "{intent}" (not in bot/domain.yml)')
        else:
            examples.append(Example(text, intent))
    if problems:
        shown = problems[:20]
        if len(problems) > len(shown):
            shown.append(f"... and {len(problems) - len(shown)} more")
        raise DatasetError("\n".join([f"{len(problems)} bad line(s):", *shown]))
    if not examples:
        raise DatasetError(f"{path}: no examples")
    return examples


def evaluate_dataset(examples: list[Example], path: Path, model: Path, verbose: bool) -> None:
    from rasa.core.agent import Agent

    started = time.perf_counter()
    with muted(verbose):
        agent = Agent.load(str(model))
    loaded = time.perf_counter() - started
    predicted = parse_all(agent, [ex.text for ex in examples])
    parsed = time.perf_counter() - started - loaded

    pairs = [(ex.intent, p) for ex, p in zip(examples, predicted, strict=True)]
    in_scope = [(g, p) for g, p in pairs if g != OUT_OF_SCOPE]
    oos = [(g, p) for g, p in pairs if g == OUT_OF_SCOPE]

    def correct(gold: str, pred: str) -> bool:
        return pred == gold or (gold == OUT_OF_SCOPE and pred in REFUSALS)

    rows = []
    for name in sorted({g for g, _ in pairs}):
        mine = [p for g, p in pairs if g == name]
        right = sum(correct(name, p) for p in mine)
        fallbacks = sum(p == FALLBACK for p in mine)
        rows.append([name, str(len(mine)), str(right), f"{right / len(mine):.2f}", str(fallbacks)])
    confusions = Counter((g, p) for g, p in pairs if not correct(g, p))

    print(f"\nHeld-out set {path} on model {model}")
    n_in = len(in_scope)
    measures = [
        ["in-scope accuracy", pct(sum(g == p for g, p in in_scope), n_in)],
        ["out-of-scope recall", pct(sum(p in REFUSALS for _, p in oos), len(oos))],
        ["in-scope fallback rate", pct(sum(p == FALLBACK for _, p in in_scope), n_in)],
        [
            "in-scope refused as out_of_scope",
            pct(sum(p == OUT_OF_SCOPE for _, p in in_scope), n_in),
        ],
        ["macro-F1 (a refusal counts as out_of_scope)", f"{refusal_macro_f1(pairs):.3f}"],
    ]
    print(f"{n_in} in-scope and {len(oos)} out-of-scope examples\n")
    print(table(["measure", "value"], measures))
    print(f"\n(out_of_scope: `correct` = refused as {OUT_OF_SCOPE} or {FALLBACK})")
    print(table(["gold intent", "n", "correct", "recall", "fell back"], rows))
    print("\nWorst confusions (gold -> predicted)")
    print(confusion_table(confusions))
    print(f"\nmodel load {loaded:.1f}s, {len(examples)} parses in {parsed:.1f}s")


# --- command line -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.nlu",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--folds", metavar="K", type=int, default=5, help="cross-validation folds, >= 2 (default 5)"
    )
    parser.add_argument("--no-cv", dest="cv", action="store_false", help="skip cross-validation")
    parser.add_argument(
        "--epochs",
        metavar="N",
        type=int,
        help="override DIETClassifier epochs in the cross-validation (default: the config's)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE.yml",
        type=Path,
        default=ModelInputs(ROOT).config,
        help="pipeline to cross-validate (default: the project's bot/config.yml)",
    )
    parser.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        help="folds trained at the same time, one process each, about 2 GB of memory each "
        "(default: one per CPU core, at most the number of folds)",
    )
    parser.add_argument(
        "--seed", metavar="N", type=int, default=7, help="seed for the fold split (default 7)"
    )
    parser.add_argument(
        "--repeats",
        metavar="R",
        type=int,
        default=1,
        help="draw the split R times (seeds N, N+1, ...) and pool the predictions (default 1)",
    )
    parser.add_argument(
        "--intents-only",
        action="store_true",
        help="leave out DIETClassifier where it only extracts entities: the same intents, "
        "about four times faster",
    )
    parser.add_argument(
        "--dataset",
        metavar="FILE.jsonl",
        type=Path,
        help='JSONL file of {"text", "intent"} to evaluate a model on',
    )
    parser.add_argument(
        "--model",
        metavar="PATH",
        type=Path,
        help="model archive for --dataset (default: the project's current model in models/)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="show Rasa's and TensorFlow's own output"
    )
    args = parser.parse_args(argv)
    if args.folds < 2:
        parser.error("--folds must be >= 2")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.intents_only and args.epochs is not None:
        parser.error("--epochs has nothing to change with --intents-only (DIET is left out)")
    if args.jobs is None:
        args.jobs = min(args.folds * args.repeats, os.cpu_count() or 1)
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be >= 1")
    if not args.cv and args.dataset is None:
        parser.error("nothing to do: --no-cv without --dataset")
    if args.model is not None and args.dataset is None:
        parser.error("--model is only used with --dataset")
    if not args.config.is_file():
        parser.error(f"--config {args.config}: no such file")
    if args.model is not None and not args.model.is_file():
        parser.error(f"--model {args.model}: no such file")
    return args


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C does, so the cross-validation's workers are terminated."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    stop_on_sigterm()
    inputs = ModelInputs(ROOT)
    quiet_rasa(args.verbose)

    # Check the dataset before minutes of training, so a typo never costs a run.
    examples = None
    if args.dataset is not None:
        try:
            examples = read_dataset(args.dataset, domain_intents(inputs.domain))
        except DatasetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    try:
        if args.cv:
            options = Options(
                folds=args.folds,
                seed=args.seed,
                repeats=args.repeats,
                jobs=args.jobs,
                epochs=args.epochs,
                intents_only=args.intents_only,
                verbose=args.verbose,
            )
            cross_validate(args.config, options, inputs)
        if examples is not None:
            model = args.model or ensure_model(inputs, ROOT / "models", quiet=not args.verbose)
            evaluate_dataset(examples, args.dataset, model, args.verbose)
    except TrainingFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
