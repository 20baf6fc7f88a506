"""Sentence encoders compared: the English all-MiniLM-L6-v2 (the baseline, the pipeline's encoder
before) against the multilingual multilingual-e5-small (the pipeline's encoder,
bot/assistant/e5_features.py), everything else in the pipeline the same as bot/config.yml.

    .venv/bin/python -m bench.encoders [--folds 5] [--repeats 3] [--seed 7] [--jobs N]
                                       [--limit N] [--verbose]

For each encoder, in the same run and on the same data:
- cross-validation on the same stratified folds as `python -m bench.nlu --intents-only`
  (seeds 7, 8, ... with --repeats): pooled macro-F1 and accuracy, and how many out_of_scope
  examples were refused;
- a model trained on all the project's examples, then scored on the held-out set
  (bench/datasets/heldout.jsonl, as `bench.nlu --dataset` scores it) and on the xSID
  Indonesian out-of-domain probe (bench/datasets/xsid/, as `bench.xsid` counts it);
- the encoder alone: milliseconds to embed one message, as the bot does per turn.
DIETClassifier is left out of every model (it only extracts entities: the intents are the same).
Prints one table, the MiniLM figures as the baseline and E5's beside them. --limit N keeps N
examples per intent and the first N*10 held-out and xSID messages: a quick run that checks the
benchmark still works, not figures. Progress goes to stderr. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from bench.crossval import (
    Fold,
    Options,
    load_project_nlu,
    macro_f1,
    nlu_config,
    run_fold,
    write_folds,
)
from bench.harness import ROOT, table
from bench.nlu import read_dataset
from bench.rasa_nlu import (
    OUT_OF_SCOPE,
    REFUSALS,
    domain_intents,
    progress,
    quiet_rasa,
    refusal_macro_f1,
)
from bench.xsid import FILES, REQUESTS, read_conll
from bot.ops.model import ModelInputs

HELDOUT = ROOT / "bench" / "datasets" / "heldout.jsonl"
XSID = ROOT / "bench" / "datasets" / "xsid"
# Each encoder's featurizer, the baseline first; bot/config.yml names one of them.
ENCODERS = {
    "all-MiniLM-L6-v2": "bot.assistant.sentence_features.SentenceEncoderFeaturizer",
    "multilingual-e5-small": "bot.assistant.e5_features.E5Featurizer",
}
SPEED_TEXTS = 200


@dataclass(frozen=True)
class Figures:
    cv_macro_f1: float
    cv_per_repeat: list[float]
    cv_accuracy: float
    cv_oos_refused: float
    heldout_macro_f1: float
    heldout_accuracy: float
    heldout_oos_refused: float
    xsid_refused: float
    xsid_request_share: float
    xsid_request_intent: str
    ms_per_message: float


def pipeline_with(featurizer: str, folder: Path) -> Path:
    """bot/config.yml with `featurizer` in place of its sentence encoder (either of ENCODERS)."""
    from rasa.shared.utils.io import read_yaml_file, write_yaml

    content = read_yaml_file(ModelInputs(ROOT).config)
    assert isinstance(content, dict)
    pipeline: list[dict[str, Any]] = content["pipeline"]
    found = [i for i, c in enumerate(pipeline) if c.get("name") in ENCODERS.values()]
    if len(found) != 1:
        sys.exit(f"bot/config.yml: expected one of {', '.join(ENCODERS.values())}, "
                 f"found {len(found)}")  # fmt: skip
    pipeline[found[0]] = {"name": featurizer}
    target = folder / "pipeline.yml"
    write_yaml(content, target, should_preserve_key_order=True)
    return target


def share(hits: int, whole: int) -> float:
    return hits / whole if whole else 0.0


def limited(examples: list[Any], per_intent: int | None) -> list[Any]:
    if per_intent is None:
        return examples
    seen: Counter[str] = Counter()
    kept = []
    for ex in examples:
        intent = ex.get("intent")
        if seen[intent] < per_intent:
            seen[intent] += 1
            kept.append(ex)
    return kept


CvFigures = tuple[float, list[float], float, float]


def cv_figures(gold: list[list[str]], predicted: list[list[str]]) -> CvFigures:
    labels = sorted({g for repeat in gold for g in repeat})
    pooled_gold = [g for repeat in gold for g in repeat]
    pooled_predicted = [p for repeat in predicted for p in repeat]
    each = [macro_f1(g, p, labels) for g, p in zip(gold, predicted, strict=True)]
    pairs = list(zip(pooled_gold, pooled_predicted, strict=True))
    oos = [p for g, p in pairs if g == OUT_OF_SCOPE]
    return (
        macro_f1(pooled_gold, pooled_predicted, labels),
        each,
        share(sum(g == p for g, p in pairs), len(pairs)),
        share(sum(p in REFUSALS for p in oos), len(oos)),
    )


def encode_speed(name: str, texts: Sequence[str]) -> float:
    """Milliseconds to embed one message, one at a time as a turn does (after a warm-up)."""
    if name == "multilingual-e5-small":
        from bot.assistant.e5 import encoder

        encode = encoder().encode
    else:
        from bot.assistant.encoder import SentenceEncoder, ensure_weights

        encode = SentenceEncoder(ensure_weights()).encode
    encode(list(texts[:5]))
    started = time.perf_counter()
    for text in texts:
        encode([text])
    return (time.perf_counter() - started) * 1000 / len(texts)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.encoders",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="splits drawn (default 3)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the first split (default 7)")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1,
        help="trainings at the same time, one process each (default: one per core)",
    )  # fmt: skip
    parser.add_argument("--limit", type=int, help="N examples per intent: a quick check only")
    parser.add_argument("--verbose", action="store_true", help="show Rasa's own output")
    args = parser.parse_args(argv)
    if args.folds < 2 or args.repeats < 1 or args.jobs < 1:
        parser.error("--folds must be >= 2, --repeats and --jobs >= 1")
    if args.limit is not None and args.limit < args.folds:
        parser.error("--limit must be at least --folds")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    quiet_rasa(args.verbose)
    inputs = ModelInputs(ROOT)
    heldout = read_dataset(HELDOUT, domain_intents(inputs.domain))
    xsid = [u for name in FILES for u in read_conll(XSID / name)]
    if args.limit is not None:
        heldout, xsid = heldout[: args.limit * 10], xsid[: args.limit * 10]
    probe = [ex.text for ex in heldout] + [u.text for u in xsid]

    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data, _ = load_project_nlu(inputs)
    examples = limited(data.intent_examples, args.limit)
    options = Options(folds=args.folds, seed=args.seed, repeats=args.repeats, jobs=args.jobs,
                      intents_only=True, verbose=args.verbose)  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="loket-encoders-") as tmp,
        mock.patch.dict(os.environ, {"RASA_MAX_CACHE_SIZE": "0"}),
    ):
        plan: dict[str, tuple[list[Fold], list[list[str]], Fold]] = {}
        for name, featurizer in ENCODERS.items():
            folder = Path(tmp) / name
            folder.mkdir()
            config = pipeline_with(featurizer, folder)
            fold_config, _ = nlu_config(config, None, folder, intents_only=True)
            folds, gold = write_folds(data, examples, options, fold_config, folder)
            whole = folder / "all"
            whole.mkdir()
            everything = TrainingData(
                training_examples=examples, entity_synonyms=data.entity_synonyms,
                regex_features=data.regex_features, lookup_tables=data.lookup_tables,
                responses=data.responses,
            )  # fmt: skip
            RasaYAMLWriter().dump(whole / "nlu.yml", everything)
            plan[name] = (folds, gold, Fold(0, 0, fold_config, whole, probe, len(examples)))
        tasks = [(f, args.verbose) for folds, _, full in plan.values() for f in [*folds, full]]
        progress(f"{len(tasks)} trainings ({len(ENCODERS)} encoders × ({args.folds} folds × "
                 f"{args.repeats} repeats + 1 on everything)), {args.jobs} at a time")  # fmt: skip
        spawn = multiprocessing.get_context("spawn")
        with spawn.Pool(args.jobs, maxtasksperchild=1) as pool:
            answers = iter(pool.starmap(run_fold, tasks))

    results: dict[str, Figures] = {}
    for name, (folds, gold, _full) in plan.items():
        predicted: list[list[str]] = [[] for _ in gold]
        for fold in folds:
            predicted[fold.seed - args.seed] += next(answers)
        on_probe = next(answers)
        cv, each, accuracy, cv_oos = cv_figures(gold, predicted)
        pairs = [(ex.intent, p) for ex, p in zip(heldout, on_probe, strict=False)]
        in_scope = [(g, p) for g, p in pairs if g != OUT_OF_SCOPE]
        oos = [p for g, p in pairs if g == OUT_OF_SCOPE]
        on_xsid = on_probe[len(heldout) :]
        taken = Counter(p for p in on_xsid if p in REQUESTS)
        worst, worst_n = taken.most_common(1)[0] if taken else ("-", 0)
        progress(f"{name}: timing the encoder on {SPEED_TEXTS} messages")
        results[name] = Figures(
            cv, each, accuracy, cv_oos,
            refusal_macro_f1(pairs), share(sum(g == p for g, p in in_scope), len(in_scope)),
            share(sum(p in REFUSALS for p in oos), len(oos)),
            share(sum(p in REFUSALS for p in on_xsid), len(on_xsid)),
            share(worst_n, len(on_xsid)), worst,
            encode_speed(name, probe[:SPEED_TEXTS]),
        )  # fmt: skip
    print(report(results, args, len(examples), len(heldout), len(xsid)))
    print(f"\ntotal time {time.perf_counter() - started:.0f}s")
    return 0


def report(results: dict[str, Figures], args: argparse.Namespace, n_examples: int,
           n_heldout: int, n_xsid: int) -> str:  # fmt: skip
    base, other = (results[name] for name in ENCODERS)
    names = list(ENCODERS)

    def row(label: str, a: float, b: float, fmt: str, higher_better: bool = True) -> list[str]:
        ratio = f"{b / a:.3f}×" if a else "-"
        better = (b > a) if higher_better else (b < a)
        verdict = "same" if f"{a:{fmt}}" == f"{b:{fmt}}" else ("better" if better else "worse")
        return [label, f"{a:{fmt}}", f"{b:{fmt}}", ratio, verdict]

    rows = [
        row(f"CV macro-F1 ({args.folds} folds × {args.repeats})", base.cv_macro_f1,
            other.cv_macro_f1, ".3f"),
        row("CV accuracy", base.cv_accuracy, other.cv_accuracy, ".3f"),
        row("CV out_of_scope refused", base.cv_oos_refused, other.cv_oos_refused, ".1%"),
        row(f"held-out macro-F1 ({n_heldout})", base.heldout_macro_f1, other.heldout_macro_f1,
            ".3f"),
        row("held-out in-scope accuracy", base.heldout_accuracy, other.heldout_accuracy, ".3f"),
        row("held-out out-of-scope refused", base.heldout_oos_refused,
            other.heldout_oos_refused, ".1%"),
        row(f"xSID refused ({n_xsid}, target >= 95%)", base.xsid_refused, other.xsid_refused,
            ".1%"),
        row("xSID largest request intent (<= 1%)", base.xsid_request_share,
            other.xsid_request_share, ".1%", higher_better=False),
        row("encoder ms per message", base.ms_per_message, other.ms_per_message, ".1f",
            higher_better=False),
    ]  # fmt: skip
    lines = [
        f"Sentence encoders: {n_examples} training examples"
        + (f" (--limit {args.limit}: a quick check, not figures)" if args.limit else ""),
        table(["measure", names[0], names[1], "ratio", "e5 is"], rows),
        f"CV macro-F1 per repeat: {names[0]} "
        + ", ".join(f"{x:.3f}" for x in base.cv_per_repeat)
        + f"; {names[1]} "
        + ", ".join(f"{x:.3f}" for x in other.cv_per_repeat),
        f"xSID request intent taken most: {names[0]} {base.xsid_request_intent}, "
        f"{names[1]} {other.xsid_request_intent}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
