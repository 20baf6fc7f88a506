"""Entity benchmark: the free-text entities (area, amount) a trained model extracts.

    .venv/bin/python -m bench.entities [--dataset FILE.jsonl] [--model PATH] [--verbose]

--dataset (default bench/datasets/entities_heldout.jsonl): one JSON object per line,
{"text": ..., "entities": {"area": "Cibubur"}} — the entity values the message contains, `{}`
when it names none. Messages are written as phones type them (a capital first letter), because
a model that takes every capitalised word for a place files outage reports for "Tolong".
Evaluates the project's current model (trained into models/ first if its inputs changed, as
`make run` does) or the one given with --model.

A predicted value is right when it is the expected one, ignoring case, or covers it (the
extractor took "Jalan Merdeka" for "Merdeka" or the other way round, at least half of it).
Prints, per entity: precision, recall, F1, the messages with a value where none was expected,
then every mistake. Bad lines stop the run with exit code 2 before anything is evaluated.
Prints figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.harness import ROOT
from bench.rasa_nlu import DatasetError, muted, quiet_rasa
from bot.core.errors import TrainingFailed
from bot.ops.model import ModelInputs, ensure_model

DEFAULT_DATASET = ROOT / "bench" / "datasets" / "entities_heldout.jsonl"
ENTITIES = ("area", "amount")  # the ones DIET extracts; the numbers come from regexes


@dataclass(frozen=True)
class Example:
    text: str
    expected: dict[str, str]


def read_dataset(path: Path) -> list[Example]:
    """Every line checked before anything runs; the first bad one is named with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: not JSON ({exc.msg})") from None
        text, expected = (row.get("text"), row.get("entities")) if isinstance(row, dict) else (0, 0)
        if not isinstance(text, str) or not text.strip():
            raise DatasetError(f'{path}:{number}: needs a non-empty "text"')
        if not isinstance(expected, dict) or not all(
            k in ENTITIES and isinstance(v, str) and v.strip() for k, v in expected.items()
        ):
            raise DatasetError(
                f'{path}:{number}: "entities" must map {" or ".join(ENTITIES)} to a value'
            )
        examples.append(Example(text, expected))
    if not examples:
        raise DatasetError(f"{path}: no examples")
    return examples


def matches(predicted: str, expected: str) -> bool:
    p, e = predicted.strip().lower(), expected.strip().lower()
    if p == e or e in p:
        return True
    return p in e and len(p) * 2 >= len(e)


def extract(model: Path, texts: Sequence[str], verbose: bool) -> list[dict[str, list[str]]]:
    """Per text, the values of each entity the model extracts (one per span)."""
    from rasa.core.agent import Agent

    with muted(verbose):
        agent = Agent.load(str(model))

    async def run() -> list[dict[str, list[str]]]:
        found = []
        for text in texts:
            parsed = await agent.parse_message(text)
            spans: dict[str, dict[tuple[int, int], str]] = {name: {} for name in ENTITIES}
            for e in parsed.get("entities") or []:
                if e.get("entity") in spans:
                    spans[e["entity"]][(e.get("start", 0), e.get("end", 0))] = str(e["value"])
            found.append({name: list(values.values()) for name, values in spans.items()})
        return found

    return asyncio.run(run())


def report(examples: list[Example], predicted: list[dict[str, list[str]]]) -> None:
    mistakes = []
    print(f"{'entity':8s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'expected':>8s} "
          f"{'found':>6s}  value where none expected")  # fmt: skip
    for name in ENTITIES:
        tp = fp = fn = spurious = without = 0
        for ex, got in zip(examples, predicted, strict=True):
            want = ex.expected.get(name)
            values = got[name]
            right = [v for v in values if want is not None and matches(v, want)]
            tp += bool(right)
            fn += want is not None and not right
            fp += len(values) - len(right)
            if want is None:
                without += 1
                spurious += bool(values)
            if values != right or (want is not None and not right):
                mistakes.append(f"  {name:6s} {ex.text!r}: expected {want!r}, got {values}")
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"{name:8s} {precision:9.3f} {recall:7.3f} {f1:6.3f} {tp + fn:8d} {tp + fp:6d}  "
              f"{spurious} of {without} messages")  # fmt: skip
    print(f"\nmistakes ({len(mistakes)}):")
    print("\n".join(mistakes) if mistakes else "  none")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.entities",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dataset", metavar="FILE.jsonl", type=Path, default=DEFAULT_DATASET)
    parser.add_argument(
        "--model", metavar="PATH", type=Path,
        help="model archive (default: the project's current model in models/)",
    )  # fmt: skip
    parser.add_argument("--verbose", action="store_true", help="show Rasa's own output")
    args = parser.parse_args(argv)
    if args.model is not None and not args.model.is_file():
        parser.error(f"--model {args.model}: no such file")
    quiet_rasa(args.verbose)
    try:
        examples = read_dataset(args.dataset)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        model = args.model or ensure_model(ModelInputs(ROOT), ROOT / "models", quiet=True)
    except TrainingFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    started = time.perf_counter()
    predicted = extract(model, [ex.text for ex in examples], args.verbose)
    print(f"{args.dataset.relative_to(ROOT) if args.dataset.is_relative_to(ROOT) else args.dataset}"
          f": {len(examples)} messages, model {model.name}, "
          f"{time.perf_counter() - started:.0f} s\n")  # fmt: skip
    report(examples, predicted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
