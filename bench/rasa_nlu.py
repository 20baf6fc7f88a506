"""What the NLU benchmarks share: Rasa kept quiet, parsing texts, how a fallback is scored.

bench/nlu.py (held-out sets), bench/crossval.py (cross-validation) and bench/entities.py use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import logging
import os
import sys
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness import ROOT, table
from bot.ops.model import rasa_env

if TYPE_CHECKING:
    from rasa.core.agent import Agent

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
TARGET_MACRO_F1 = 0.95
REFUSALS = frozenset({OUT_OF_SCOPE, FALLBACK})
NOISY_LOGGERS = ("rasa", "tensorflow", "absl", "h5py", "matplotlib", "numexpr", "sanic")


class DatasetError(Exception):
    """Raised when a --dataset file cannot be read or has malformed lines."""


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


def parse_all(agent: Agent, texts: Sequence[str]) -> list[str]:
    """The intent Rasa predicts for each text, `nlu_fallback` included."""

    async def run() -> list[str]:
        names = []
        for text in texts:
            parsed = await agent.parse_message(text)
            names.append((parsed.get("intent") or {}).get("name") or "(none)")
        return names

    return asyncio.run(run())


def domain_intents(domain: Path) -> list[str]:
    """Intent names as listed in the domain file (not Rasa's built-in defaults)."""
    from rasa.shared.utils.io import read_yaml_file

    content = read_yaml_file(domain)
    assert isinstance(content, dict)
    entries = content.get("intents") or []
    return [e if isinstance(e, str) else next(iter(e)) for e in entries]


def refusal_macro_f1(pairs: Sequence[tuple[str, str]]) -> float:
    """Macro-F1 over the gold intents, where a fallback is the bot refusing: out_of_scope."""
    from sklearn.metrics import f1_score

    gold = [g for g, _ in pairs]
    predicted = [OUT_OF_SCOPE if p in REFUSALS else p for _, p in pairs]
    return float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro"))
