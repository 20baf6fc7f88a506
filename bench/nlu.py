"""NLU accuracy benchmark: cross-validated intent scores and a held-out JSONL evaluation.

    .venv/bin/python bench/nlu.py [--folds 5] [--jobs N] [--epochs N] [--config FILE.yml]
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
import asyncio
import contextlib
import importlib
import io
import json
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import table  # noqa: E402

from bot.errors import TrainingFailed  # noqa: E402
from bot.training import ModelInputs, ensure_model, rasa_env  # noqa: E402

if TYPE_CHECKING:
    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.training_data import TrainingData

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
TARGET_MACRO_F1 = 0.95
REFUSALS = frozenset({OUT_OF_SCOPE, FALLBACK})
NOISY_LOGGERS = ("rasa", "tensorflow", "absl", "h5py", "matplotlib", "numexpr", "sanic")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str


class DatasetError(Exception):
    """Raised when a --dataset file cannot be read or has malformed lines."""


# --- output -----------------------------------------------------------------------------------


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def shown_path(path: Path) -> str:
    """A path relative to the project when it is inside it."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%} ({part}/{whole})" if whole else "- (0/0)"


def confusion_table(pairs: Counter[tuple[str, str]], limit: int = 10) -> str:
    worst = pairs.most_common(limit)
    if not worst:
        return "none"
    return table(["gold", "predicted", "count"], [[g, p, str(n)] for (g, p), n in worst])


@contextlib.contextmanager
def muted(verbose: bool) -> Iterator[None]:
    """Hold back Rasa's prints and progress bars; show them only if the block fails."""
    if verbose:
        yield
        return
    held = io.StringIO()
    try:
        with contextlib.redirect_stdout(held), contextlib.redirect_stderr(held):
            yield
    except Exception:
        sys.stderr.write(held.getvalue())
        raise


def quiet_rasa(verbose: bool) -> None:
    """Quiet TensorFlow and Rasa, so the tables stay readable; --verbose keeps their output."""
    os.environ.update(rasa_env())
    # Importing TensorFlow and Rasa prints deprecation warnings whatever the filters say.
    with muted(verbose):
        importlib.import_module("rasa.core.agent")
        importlib.import_module("rasa.model_training")
    from rasa.utils.log_utils import configure_structlog

    level = logging.INFO if verbose else logging.ERROR
    # Rasa's structlog setup logs to stdout unless the root logger already has a handler.
    logging.basicConfig(stream=sys.stderr, level=level, format="%(levelname)s %(name)s %(message)s")
    configure_structlog(level)
    if verbose:
        return
    warnings.filterwarnings("ignore")
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


# --- Rasa -------------------------------------------------------------------------------------


def parse_all(agent: Agent, texts: Sequence[str]) -> list[str]:
    """The intent Rasa predicts for each text, `nlu_fallback` included."""

    async def run() -> list[str]:
        names = []
        for text in texts:
            parsed = await agent.parse_message(text)
            names.append((parsed.get("intent") or {}).get("name") or "(none)")
        return names

    return asyncio.run(run())


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


def nlu_config(config: Path, epochs: int | None, folder: Path) -> tuple[Path, str]:
    """The config to train with, and a description of DIET's epochs for the header."""
    from rasa.shared.utils.io import read_yaml_file, write_yaml

    content = read_yaml_file(config)
    assert isinstance(content, dict)
    diet = [c for c in content.get("pipeline") or [] if c.get("name") == "DIETClassifier"]
    if epochs is None:
        shown = ", ".join(str(c.get("epochs", "default")) for c in diet) or "no DIETClassifier"
        return config, f"DIET epochs {shown} (as configured)"
    if not diet:
        sys.exit(f"--epochs: {config} has no DIETClassifier to override")
    for component in diet:
        component["epochs"] = epochs
    target = folder / "config.yml"
    write_yaml(content, target, should_preserve_key_order=True)
    return target, f"DIET epochs {epochs} (--epochs override; the project uses the config's)"


def domain_intents(domain: Path) -> list[str]:
    """Intent names as listed in the domain file (not Rasa's built-in defaults)."""
    from rasa.shared.utils.io import read_yaml_file

    content = read_yaml_file(domain)
    assert isinstance(content, dict)
    entries = content.get("intents") or []
    return [e if isinstance(e, str) else next(iter(e)) for e in entries]


# --- cross-validation -------------------------------------------------------------------------


@dataclass(frozen=True)  # no slots: frozen slotted dataclasses do not pickle on Python 3.10
class Fold:
    number: int
    config: Path
    folder: Path
    texts: list[str]
    trained_on: int


def run_fold(fold: Fold, verbose: bool) -> list[str]:
    """Train one fold's NLU model and predict its held-out texts (runs in its own process)."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    quiet_rasa(verbose)
    with muted(verbose):
        model = train_nlu(str(fold.config), str(fold.folder / "nlu.yml"), str(fold.folder), "model")
        if model is None:
            raise TrainingFailed(f"fold {fold.number}: Rasa trained no model")
        trained = time.perf_counter()
        agent = Agent.load(model)
    loaded = time.perf_counter()
    predicted = parse_all(agent, fold.texts)
    progress(
        f"fold {fold.number}: trained on {fold.trained_on} examples in "
        f"{trained - started:.1f}s, loaded in {loaded - trained:.1f}s, "
        f"predicted {len(fold.texts)} in {time.perf_counter() - loaded:.1f}s"
    )
    return predicted


def cross_validate(args: argparse.Namespace, inputs: ModelInputs) -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support
    from sklearn.model_selection import StratifiedKFold

    started = time.perf_counter()
    # Read once: the folds stay consistent even if someone edits nlu_data/ meanwhile.
    data, files = load_project_nlu(inputs)
    examples = data.intent_examples
    intents = [ex.get("intent") for ex in examples]
    counts = Counter(intents)
    labels = sorted(counts)
    if len(labels) < 2 or max(counts.values()) < args.folds:
        sys.exit(f"cross-validation needs >= 2 intents and one with >= {args.folds} examples")

    splitter = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    gold: list[str] = []
    predicted: list[str] = []
    # No training cache: fold models are thrown away and must not fill the project's .rasa/.
    with (
        tempfile.TemporaryDirectory(prefix="loket-nlu-cv-") as tmp,
        mock.patch.dict(os.environ, {"RASA_MAX_CACHE_SIZE": "0"}),
    ):
        config, epochs_note = nlu_config(args.config, args.epochs, Path(tmp))
        folds = []
        for i, (train_index, test_index) in enumerate(splitter.split(examples, intents), start=1):
            train = TrainingData(
                training_examples=[examples[j] for j in train_index],
                entity_synonyms=data.entity_synonyms,
                regex_features=data.regex_features,
                lookup_tables=data.lookup_tables,
                responses=data.responses,
            )
            folder = Path(tmp) / f"fold{i}"
            folder.mkdir()
            RasaYAMLWriter().dump(folder / "nlu.yml", train)
            test = [examples[j] for j in test_index]
            gold += [ex.get("intent") for ex in test]
            folds.append(Fold(i, config, folder, [ex.get("text") for ex in test], len(train_index)))
        progress(f"{args.folds} folds, {args.jobs} at a time (--jobs)")
        # One fresh process per fold (maxtasksperchild=1): TensorFlow keeps about one core busy,
        # and each fold's memory goes back when it ends. Leaving the block early (an error,
        # Ctrl-C, SIGTERM) terminates the workers, so no training outlives the benchmark.
        # The results are the same for any --jobs.
        spawn = multiprocessing.get_context("spawn")
        with spawn.Pool(args.jobs, maxtasksperchild=1) as pool:
            for answer in pool.starmap(run_fold, [(fold, args.verbose) for fold in folds]):
                predicted += answer

    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    pairs = list(zip(gold, predicted, strict=True))
    fell_back = Counter(g for g, p in pairs if p == FALLBACK)
    rows = [
        [name, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", str(s), str(fell_back[name])]
        for name, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
    ]
    macro_f1 = sum(f1) / len(f1)
    accuracy = accuracy_score(gold, predicted)
    confusions = Counter((g, p) for g, p in pairs if g != p and p != FALLBACK)
    relative = ", ".join(str(p.relative_to(ROOT)) for p in files)

    print(
        f"\nCross-validation: {args.folds} stratified folds (seed {args.seed}) over "
        f"{len(examples)} examples, {len(labels)} intents, from {relative}"
    )
    print(f"pipeline {shown_path(args.config)}, {epochs_note}")
    print(f"{FALLBACK} predictions count as misses; `fell back` = misses that were fallbacks\n")
    print(table(["intent", "precision", "recall", "f1", "support", "fell back"], rows))
    print()
    print(f"macro-F1   {macro_f1:.3f}   (target >= {TARGET_MACRO_F1:.2f})")
    hits = sum(g == p for g, p in pairs)
    print(f"accuracy   {accuracy:.3f}   ({hits}/{len(gold)})")
    print(f"fell back  {pct(sum(fell_back.values()), len(gold))}")
    if OUT_OF_SCOPE in counts:
        print(
            f"macro-F1 with a fallback counted as {OUT_OF_SCOPE} (as --dataset counts it): "
            f"{refusal_macro_f1(pairs):.3f}"
        )
        refused = sum(p in REFUSALS for g, p in pairs if g == OUT_OF_SCOPE)
        print(
            f"{OUT_OF_SCOPE} refused ({OUT_OF_SCOPE} or {FALLBACK}, not in the F1): "
            f"{pct(refused, counts[OUT_OF_SCOPE])}"
        )
    few = sorted(name for name, n in counts.items() if n < args.folds)
    if few:
        print(f"note: fewer examples than folds, so some folds test them unseen: {', '.join(few)}")
    unknown = sorted(set(labels) - set(domain_intents(inputs.domain)))
    if unknown:
        print(f"note: intents in the data but not in bot/domain.yml: {', '.join(unknown)}")
    print("\nCommonest confusions (other than fallbacks)")
    print(confusion_table(confusions))
    print(f"\ntotal time {time.perf_counter() - started:.0f}s")


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


def refusal_macro_f1(pairs: Sequence[tuple[str, str]]) -> float:
    """Macro-F1 over the gold intents, where a fallback is the bot refusing: out_of_scope."""
    from sklearn.metrics import f1_score

    gold = [g for g, _ in pairs]
    predicted = [OUT_OF_SCOPE if p in REFUSALS else p for _, p in pairs]
    return float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro"))


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
    if args.jobs is None:
        args.jobs = min(args.folds, os.cpu_count() or 1)
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
            cross_validate(args, inputs)
        if examples is not None:
            model = args.model or ensure_model(inputs, ROOT / "models", quiet=not args.verbose)
            evaluate_dataset(examples, args.dataset, model, args.verbose)
    except TrainingFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
