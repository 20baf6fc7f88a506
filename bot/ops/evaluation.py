"""Scoring a model on the held-out set: the model parses each message, Loket scores and keeps it.

The held-out set (`bench/datasets/heldout.jsonl` unless told otherwise) is written
independently of the training data and never copied into `nlu_data/`. A prediction of
`nlu_fallback` (the bot declined) counts as `out_of_scope`, as in `bench.nlu`: right for an
out-of-scope message, wrong for any other. The model is loaded in a child process
(bot/assistant/scoring.py), like every Rasa part Loket drives, so TensorFlow never loads into
the `loket` command itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.errors import EvaluationFailed
from bot.core.scores import IntentScore, Miss, Scores, model_id
from bot.core.settings import PROJECT_ROOT
from bot.ops.model import rasa_env

DEFAULT_DATASET = PROJECT_ROOT / "bench" / "datasets" / "heldout.jsonl"
FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
MAX_EXAMPLES = 50_000


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str


def domain_intents(domain: Path) -> set[str]:
    content = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
    entries = content.get("intents") or []
    return {e if isinstance(e, str) else next(iter(e)) for e in entries}


def read_heldout(path: Path, intents: set[str]) -> list[Example]:
    """Every line of a `{"text", "intent"}` JSONL file; EvaluationFailed naming each bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationFailed(f"cannot read the held-out set {path}: {exc}") from exc
    examples: list[Example] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg})")
            continue
        text = record.get("text") if isinstance(record, dict) else None
        intent = record.get("intent") if isinstance(record, dict) else None
        if not isinstance(text, str) or not text.strip():
            problems.append(f'{where}: "text" is missing or empty')
        elif not isinstance(intent, str) or intent not in intents:
            problems.append(f'{where}: "intent" {intent!r} is not an intent of bot/domain.yml')
        else:
            examples.append(Example(" ".join(text.split()), intent))
    if problems:
        more = f"\n... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise EvaluationFailed(
            f"{len(problems)} bad line(s) in the held-out set:\n" + "\n".join(problems[:10]) + more
        )
    if not examples:
        raise EvaluationFailed(f"the held-out set {path} holds no examples")
    if len(examples) > MAX_EXAMPLES:
        raise EvaluationFailed(f"the held-out set has {len(examples)} examples; at most "
                               f"{MAX_EXAMPLES} are scored")  # fmt: skip
    return examples


@dataclass(frozen=True, slots=True)
class Prediction:
    text: str
    gold: str
    predicted: str
    confidence: float


def predict(
    model: Path, examples: Sequence[Example], log: Path, *, root: Path = PROJECT_ROOT
) -> list[Prediction]:
    """Parse every example with the model, as the bot would, in a child process
    (bot/assistant/scoring.py); its output goes to `log`."""
    with tempfile.TemporaryDirectory(prefix="loket-eval-") as tmp:
        source, target = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        source.write_text(
            "".join(json.dumps({"text": e.text, "intent": e.intent}, ensure_ascii=False) + "\n"
                    for e in examples),
            encoding="utf-8",
        )  # fmt: skip
        cmd = [sys.executable, "-m", "bot.assistant.scoring", str(model), str(source), str(target)]
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w", encoding="utf-8") as output:
            result = subprocess.run(
                cmd, cwd=root, env=rasa_env(), stdout=output, stderr=subprocess.STDOUT,
                check=False,
            )  # fmt: skip
        if result.returncode != 0 or not target.exists():
            raise EvaluationFailed(
                f"{model.name} could not be loaded or scored (exit code {result.returncode}); "
                f"the output is in {log}"
            )
        found = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    predictions = [
        Prediction(str(item["text"]), str(item["intent"]), str(item["predicted"]),
                   float(item["confidence"]))
        for item in found
    ]  # fmt: skip
    if len(predictions) != len(examples):
        raise EvaluationFailed(f"{len(predictions)} of {len(examples)} examples were scored; "
                               f"see {log}")  # fmt: skip
    return predictions


def refused_as_out_of_scope(name: str) -> str:
    return OUT_OF_SCOPE if name == FALLBACK else name


def score(
    model: Path | str, dataset: Path | str, predictions: Sequence[Prediction], seconds: float
) -> Scores:
    """Per-intent precision, recall and F1 and their macro mean over the gold intents."""
    from sklearn.metrics import precision_recall_fscore_support

    gold = [p.gold for p in predictions]
    predicted = [refused_as_out_of_scope(p.predicted) for p in predictions]
    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    intents = {
        name: IntentScore(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
        for i, name in enumerate(labels)
    }
    misses = tuple(
        Miss(p.text, p.gold, p.predicted, p.confidence)
        for p, shown in zip(predictions, predicted, strict=True)
        if shown != p.gold
    )
    right = sum(g == p for g, p in zip(gold, predicted, strict=True))
    return Scores(
        model=model_id(model),
        dataset=str(dataset),
        examples=len(predictions),
        macro_f1=float(sum(s.f1 for s in intents.values()) / len(intents)),
        accuracy=right / len(predictions),
        intents=intents,
        misses=misses,
        evaluated_at=int(time.time() * 1000),
        seconds=round(seconds, 1),
    )


def evaluate(
    model: Path,
    dataset: Path,
    log: Path,
    *,
    root: Path = PROJECT_ROOT,
    progress: Callable[[str], None] = print,
) -> tuple[Scores, list[Prediction]]:
    """Score `model` on `dataset`; EvaluationFailed with the reason if it cannot be."""
    if not model.is_file():
        raise EvaluationFailed(f"no model at {model}")
    examples = read_heldout(dataset, domain_intents(root / "bot" / "domain.yml"))
    progress(f"==> scoring {model.name} on {len(examples)} held-out examples ({dataset.name}); "
             "loading the model takes a minute")  # fmt: skip
    started = time.perf_counter()
    predictions = predict(model, examples, log, root=root)
    return score(model, dataset, predictions, time.perf_counter() - started), predictions
