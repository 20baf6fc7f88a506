"""Cross-validation of the project's NLU pipeline on its own examples (bench/nlu.py runs it).

The examples are split into stratified folds; each fold trains an NLU-only model in a temporary
directory and predicts its held-out examples. With repeats, the split is drawn again with the
next seeds and every example is predicted once per repeat: one split's macro-F1 moves by about
±0.005 with the luck of the draw, the pooled figure much less.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

from bench.harness import ROOT, table
from bench.rasa_nlu import (
    FALLBACK,
    OUT_OF_SCOPE,
    REFUSALS,
    TARGET_MACRO_F1,
    confusion_table,
    domain_intents,
    muted,
    parse_all,
    pct,
    progress,
    quiet_rasa,
    refusal_macro_f1,
    shown_path,
)
from bot.core.errors import TrainingFailed
from bot.ops.model import ModelInputs

if TYPE_CHECKING:
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData


@dataclass(frozen=True)
class Options:
    folds: int = 5
    seed: int = 7
    repeats: int = 1
    jobs: int = 1
    epochs: int | None = None
    intents_only: bool = False
    verbose: bool = False


@dataclass(frozen=True)  # no slots: frozen slotted dataclasses do not pickle on Python 3.10
class Fold:
    seed: int
    number: int
    config: Path
    folder: Path
    texts: list[str]
    trained_on: int


def load_project_nlu(inputs: ModelInputs) -> tuple[TrainingData, list[Path]]:
    """All NLU training data `rasa train` would read, merged as Rasa merges it."""
    from rasa.shared.nlu.training_data.loading import RASA_YAML, guess_format, load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    files = [
        p
        for p in inputs.files()
        if any(p.is_relative_to(folder) for folder in inputs.data)
        and guess_format(str(p)) == RASA_YAML
    ]
    return TrainingData().merge(*(load_data(str(p)) for p in files)), files


def nlu_config(
    config: Path, epochs: int | None, folder: Path, *, intents_only: bool = False
) -> tuple[Path, str]:
    """The config to train the folds with, and a line describing it for the header.

    `intents_only` leaves out DIETClassifier where it only extracts entities
    (`intent_classification: false`): the intents predicted are the same, and a fold trains
    in a fraction of the time. Refused when DIET classifies intents in `config`.
    """
    from rasa.shared.utils.io import read_yaml_file, write_yaml

    content = read_yaml_file(config)
    assert isinstance(content, dict)
    pipeline: list[dict[str, Any]] = content.get("pipeline") or []
    diet = [c for c in pipeline if c.get("name") == "DIETClassifier"]
    if intents_only:
        if any(c.get("intent_classification", True) for c in diet):
            sys.exit(f"--intents-only: DIETClassifier classifies intents in {config}")
        content["pipeline"] = [c for c in pipeline if c not in diet]
        shown = "DIETClassifier (entities only) left out: --intents-only"
    elif epochs is not None:
        if not diet:
            sys.exit(f"--epochs: {config} has no DIETClassifier to override")
        for component in diet:
            component["epochs"] = epochs
        shown = f"DIET epochs {epochs} (--epochs override; the project uses the config's)"
    else:
        epochs_shown = ", ".join(str(c.get("epochs", "default")) for c in diet)
        return config, f"DIET epochs {epochs_shown or 'none: no DIETClassifier'} (as configured)"
    target = folder / "config.yml"
    write_yaml(content, target, should_preserve_key_order=True)
    return target, shown


def run_fold(fold: Fold, verbose: bool) -> list[str]:
    """Train one fold's NLU model and predict its held-out texts (runs in its own process)."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    quiet_rasa(verbose)
    with muted(verbose):
        model = train_nlu(str(fold.config), str(fold.folder / "nlu.yml"), str(fold.folder), "model")
        if model is None:
            raise TrainingFailed(f"seed {fold.seed} fold {fold.number}: Rasa trained no model")
        trained = time.perf_counter()
        agent = Agent.load(model)
    loaded = time.perf_counter()
    predicted = parse_all(agent, fold.texts)
    progress(
        f"seed {fold.seed} fold {fold.number}: trained on {fold.trained_on} examples in "
        f"{trained - started:.1f}s, loaded in {loaded - trained:.1f}s, "
        f"predicted {len(fold.texts)} in {time.perf_counter() - loaded:.1f}s"
    )
    return predicted


def write_folds(
    data: TrainingData, examples: list[Message], options: Options, config: Path, tmp: Path
) -> tuple[list[Fold], list[list[str]]]:
    """Every repeat's folds written as training files, and each repeat's gold intents in the
    order its folds predict them."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    intents = [ex.get("intent") for ex in examples]
    folds: list[Fold] = []
    gold: list[list[str]] = []
    for seed in range(options.seed, options.seed + options.repeats):
        splitter = StratifiedKFold(n_splits=options.folds, shuffle=True, random_state=seed)
        gold.append([])
        for i, (train_index, test_index) in enumerate(splitter.split(examples, intents), start=1):
            train = TrainingData(
                training_examples=[examples[j] for j in train_index],
                entity_synonyms=data.entity_synonyms,
                regex_features=data.regex_features,
                lookup_tables=data.lookup_tables,
                responses=data.responses,
            )
            folder = tmp / f"seed{seed}-fold{i}"
            folder.mkdir()
            RasaYAMLWriter().dump(folder / "nlu.yml", train)
            test = [examples[j] for j in test_index]
            gold[-1] += [ex.get("intent") for ex in test]
            texts = [ex.get("text") for ex in test]
            folds.append(Fold(seed, i, config, folder, texts, len(train_index)))
    return folds, gold


def cross_validate(config: Path, options: Options, inputs: ModelInputs) -> None:
    started = time.perf_counter()
    # Read once: the folds stay consistent even if someone edits nlu_data/ meanwhile.
    data, files = load_project_nlu(inputs)
    examples = data.intent_examples
    counts = Counter(ex.get("intent") for ex in examples)
    if len(counts) < 2 or max(counts.values()) < options.folds:
        sys.exit(f"cross-validation needs >= 2 intents and one with >= {options.folds} examples")

    # No training cache: fold models are thrown away and must not fill the project's .rasa/.
    with (
        tempfile.TemporaryDirectory(prefix="loket-nlu-cv-") as tmp,
        mock.patch.dict(os.environ, {"RASA_MAX_CACHE_SIZE": "0"}),
    ):
        fold_config, config_note = nlu_config(
            config, options.epochs, Path(tmp), intents_only=options.intents_only
        )
        folds, gold = write_folds(data, examples, options, fold_config, Path(tmp))
        progress(f"{len(folds)} folds, {options.jobs} at a time (--jobs)")
        # One fresh process per fold (maxtasksperchild=1): TensorFlow keeps about one core busy,
        # and each fold's memory goes back when it ends. Leaving the block early (an error,
        # Ctrl-C, SIGTERM) terminates the workers, so no training outlives the benchmark.
        # The results are the same for any --jobs.
        spawn = multiprocessing.get_context("spawn")
        with spawn.Pool(options.jobs, maxtasksperchild=1) as pool:
            answers = pool.starmap(run_fold, [(fold, options.verbose) for fold in folds])

    predicted: list[list[str]] = [[] for _ in gold]
    for fold, answer in zip(folds, answers, strict=True):
        predicted[fold.seed - options.seed] += answer
    relative = ", ".join(str(p.relative_to(ROOT)) for p in files)
    seeds = ", ".join(str(options.seed + r) for r in range(options.repeats))
    print(
        f"\nCross-validation: {options.folds} stratified folds (seed{'s' * (options.repeats > 1)} "
        f"{seeds}) over {len(examples)} examples, {len(counts)} intents, from {relative}"
    )
    print(f"pipeline {shown_path(config)}, {config_note}")
    report(gold, predicted, counts, inputs, options.folds)
    print(f"\ntotal time {time.perf_counter() - started:.0f}s")


def macro_f1(gold: list[str], predicted: list[str], labels: list[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0))


def report(
    gold: list[list[str]],
    predicted: list[list[str]],
    counts: Counter[str],
    inputs: ModelInputs,
    folds: int,
) -> None:
    """The scores of every repeat pooled (each example once per repeat), and each repeat's
    macro-F1 when there are several."""
    from sklearn.metrics import precision_recall_fscore_support

    labels = sorted(counts)
    pairs = [pair for g, p in zip(gold, predicted, strict=True) for pair in zip(g, p, strict=True)]
    pooled_gold = [g for g, _ in pairs]
    pooled_predicted = [p for _, p in pairs]
    precision, recall, f1, support = precision_recall_fscore_support(
        pooled_gold, pooled_predicted, labels=labels, zero_division=0
    )
    fell_back = Counter(g for g, p in pairs if p == FALLBACK)
    rows = [
        [name, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", str(s), str(fell_back[name])]
        for name, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    ]
    repeats = len(gold)
    print(f"{FALLBACK} predictions count as misses; `fell back` = misses that were fallbacks")
    if repeats > 1:
        print(f"{repeats} repeats pooled: support counts each example once per repeat")
    print()
    print(table(["intent", "precision", "recall", "f1", "support", "fell back"], rows))
    print()
    print(f"macro-F1   {sum(f1) / len(f1):.3f}   (target >= {TARGET_MACRO_F1:.2f})")
    if repeats > 1:
        each = [macro_f1(g, p, labels) for g, p in zip(gold, predicted, strict=True)]
        shown = ", ".join(f"{score:.3f}" for score in each)
        print(f"per repeat {shown}   (lowest {min(each):.3f}, highest {max(each):.3f})")
    hits = sum(g == p for g, p in pairs)
    print(f"accuracy   {hits / len(pairs):.3f}   ({hits}/{len(pairs)})")
    print(f"fell back  {pct(sum(fell_back.values()), len(pairs))}")
    if OUT_OF_SCOPE in counts:
        print(
            f"macro-F1 with a fallback counted as {OUT_OF_SCOPE} (as --dataset counts it): "
            f"{refusal_macro_f1(pairs):.3f}"
        )
        oos = [p for g, p in pairs if g == OUT_OF_SCOPE]
        refused = sum(p in REFUSALS for p in oos)
        print(
            f"{OUT_OF_SCOPE} refused ({OUT_OF_SCOPE} or {FALLBACK}, not in the F1): "
            f"{pct(refused, len(oos))}"
        )
    few = sorted(name for name, n in counts.items() if n < folds)
    if few:
        print(f"note: fewer examples than folds, so some folds test them unseen: {', '.join(few)}")
    unknown = sorted(set(labels) - set(domain_intents(inputs.domain)))
    if unknown:
        print(f"note: intents in the data but not in bot/domain.yml: {', '.join(unknown)}")
    confusions = Counter((g, p) for g, p in pairs if g != p and p != FALLBACK)
    print("\nCommonest confusions (other than fallbacks)")
    print(confusion_table(confusions))
