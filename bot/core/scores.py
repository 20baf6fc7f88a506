"""A model's scores on the held-out set, where they are kept, and how two models compare.

`loket evaluate` writes them (bot/ops/evaluation.py); the deploy gate reads them
(bot/gateway/deployer.py); the inbox shows them. One JSON file per model, named by the hash in
the model's file name, under `<data dir>/reports/<model id>/`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
CONFUSION_PNG = "confusion.png"


def model_id(model: Path | str) -> str:
    """The short name of a model archive: the input hash of `loket-<hash>.tar.gz`, else the
    file name without `.tar.gz`."""
    name = Path(model).name.removesuffix(".tar.gz")
    return name.removeprefix("loket-")


def reports_dir(data_dir: Path) -> Path:
    return data_dir / "reports"


def report_folder(data_dir: Path, model: Path | str) -> Path:
    return reports_dir(data_dir) / model_id(model)


@dataclass(frozen=True, slots=True)
class IntentScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Miss:
    """A held-out example the model got wrong."""

    text: str
    gold: str
    predicted: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Scores:
    """One model on one held-out set. A fallback (`nlu_fallback`) counts as `out_of_scope`:
    the bot declining to answer is right for an out-of-scope message, wrong for any other."""

    model: str  # model id
    dataset: str
    examples: int
    macro_f1: float
    accuracy: float
    intents: dict[str, IntentScore]
    misses: tuple[Miss, ...] = ()
    evaluated_at: int = 0  # ms since the epoch
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "dataset": self.dataset,
            "examples": self.examples,
            "macro_f1": self.macro_f1,
            "accuracy": self.accuracy,
            "intents": {
                name: {"precision": s.precision, "recall": s.recall, "f1": s.f1,
                       "support": s.support}
                for name, s in sorted(self.intents.items())
            },
            "misses": [
                {"text": m.text, "gold": m.gold, "predicted": m.predicted,
                 "confidence": m.confidence}
                for m in self.misses
            ],
            "evaluated_at": self.evaluated_at,
            "seconds": self.seconds,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scores:
        return cls(
            model=str(data["model"]),
            dataset=str(data["dataset"]),
            examples=int(data["examples"]),
            macro_f1=float(data["macro_f1"]),
            accuracy=float(data["accuracy"]),
            intents={
                name: IntentScore(float(s["precision"]), float(s["recall"]), float(s["f1"]),
                                  int(s["support"]))
                for name, s in data["intents"].items()
            },
            misses=tuple(
                Miss(str(m["text"]), str(m["gold"]), str(m["predicted"]), float(m["confidence"]))
                for m in data.get("misses", ())
            ),
            evaluated_at=int(data.get("evaluated_at", 0)),
            seconds=float(data.get("seconds", 0.0)),
        )  # fmt: skip


def read_scores(data_dir: Path, model: Path | str) -> Scores | None:
    """The model's saved scores, or None when it was never evaluated (or the file is bad)."""
    path = report_folder(data_dir, model) / REPORT_JSON
    try:
        return Scores.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def all_scores(data_dir: Path) -> list[Scores]:
    """Every saved report, newest first."""
    found = []
    folder = reports_dir(data_dir)
    if folder.is_dir():
        for child in folder.iterdir():
            scores = read_scores(data_dir, child.name)
            if scores is not None:
                found.append(scores)
    return sorted(found, key=lambda s: s.evaluated_at, reverse=True)


@dataclass(frozen=True, slots=True)
class Change:
    """One intent's F1 in two models."""

    intent: str
    before: float | None
    after: float | None

    @property
    def verdict(self) -> str:
        if self.before is None:
            return "new"
        if self.after is None:
            return "gone"
        delta = self.after - self.before
        return "better" if delta > 0.005 else "worse" if delta < -0.005 else "same"


@dataclass(frozen=True, slots=True)
class Comparison:
    candidate: Scores
    current: Scores
    changes: tuple[Change, ...] = field(default=())

    @property
    def delta(self) -> float:
        return self.candidate.macro_f1 - self.current.macro_f1

    def worse_beyond(self, tolerance: float) -> bool:
        """True when the candidate's macro-F1 is below the current one's by more than
        `tolerance`; a refusal is only fair on the same held-out set."""
        return self.delta < -tolerance - 1e-9


def compare(candidate: Scores, current: Scores) -> Comparison:
    names = sorted(set(candidate.intents) | set(current.intents))
    changes = tuple(
        Change(
            n,
            current.intents[n].f1 if n in current.intents else None,
            candidate.intents[n].f1 if n in candidate.intents else None,
        )
        for n in names
    )
    return Comparison(candidate, current, changes)
