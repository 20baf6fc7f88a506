"""Out-of-domain probe: public Indonesian messages no utility bot should claim to understand.

    .venv/bin/python -m bench.xsid [--data FOLDER] [--model PATH] [--examples 3] [--verbose]

Every utterance of the xSID 0.7 Indonesian test and validation files (bench/datasets/xsid/,
CC BY-SA 4.0, van der Goot et al., NAACL 2021: alarms, reminders, weather, music, restaurants,
films — 800 messages) is parsed by the current model (trained first if its inputs changed).
Prints the refused rate (out_of_scope or nlu_fallback), which of Loket's intents took the rest,
and the request intents (buy, check, report, new connection) that would start a task for
nobody. Targets: refused >= 95%, no request intent above 1%. Figures, never pass/fail.
Evaluation only: no sentence of it may enter the training data.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.harness import ROOT, table
from bench.rasa_nlu import REFUSALS, muted, parse_all, pct, quiet_rasa, shown_path
from bot.core.errors import TrainingFailed
from bot.ops.model import ModelInputs, ensure_model

DATA = ROOT / "bench" / "datasets" / "xsid"
FILES = ("id.test.conll", "id.valid.conll")
# Intents that start a task (a form, a lookup, a ticket, an order): taking an alarm or a song
# for one of them costs the customer most.
REQUESTS = (
    "buy_token", "check_transaction", "check_bill", "report_outage", "check_complaint",
    "new_connection",
)  # fmt: skip
TARGET_REFUSED = 0.95
TARGET_REQUEST_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class Utterance:
    text: str
    source_intent: str  # xSID's own label, e.g. "weather/find"
    file: str


def read_conll(path: Path) -> list[Utterance]:
    """The `# text =` and `# intent =` of every utterance of an xSID CoNLL file."""
    found: list[Utterance] = []
    text: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# text ="):
            text = line.removeprefix("# text =").strip()
        elif line.startswith("# intent =") and text:
            found.append(Utterance(text, line.removeprefix("# intent =").strip(), path.name))
            text = None
    if not found:
        raise ValueError(f"{path}: no '# text =' / '# intent =' pairs")
    return found


def _row(name: str, predicted: Sequence[str]) -> list[str]:
    return [name, str(len(predicted)), pct(sum(p in REFUSALS for p in predicted), len(predicted))]


def report(utterances: Sequence[Utterance], predicted: Sequence[str], examples: int) -> str:
    """The probe's tables, as printed."""
    n = len(utterances)
    refused = sum(p in REFUSALS for p in predicted)
    lines = [f"refused (out_of_scope or nlu_fallback): {pct(refused, n)}   target >= 95%"]
    by_file: dict[str, list[str]] = defaultdict(list)
    for u, p in zip(utterances, predicted, strict=True):
        by_file[u.file].append(p)
    lines.append(
        table(["file", "messages", "refused"], [_row(f, ps) for f, ps in sorted(by_file.items())])
    )
    taken = Counter(p for p in predicted if p not in REFUSALS)
    rows = []
    for intent, count in taken.most_common():
        share = count / n
        flag = "REQUEST > 1%" if intent in REQUESTS and share > TARGET_REQUEST_SHARE else ""
        rows.append([intent, str(count), f"{share:.1%}", flag])
    lines.append("\nintents that took the rest:")
    lines.append(table(["intent", "messages", "share", ""], rows) if rows else "none")
    worst = max((taken[r] / n for r in REQUESTS), default=0.0)
    lines.append(f"largest request intent share: {worst:.1%}   target <= 1% each")
    domain: dict[str, list[str]] = defaultdict(list)
    for u, p in zip(utterances, predicted, strict=True):
        domain[u.source_intent.split("/")[0]].append(p)
    lines.append("\nby xSID domain:")
    rows = []
    for name, ps in sorted(domain.items()):
        other = Counter(p for p in ps if p not in REFUSALS).most_common(1)
        rows.append([*_row(name, ps), f"{other[0][0]} ({other[0][1]})" if other else "-"])
    lines.append(table(["xSID domain", "messages", "refused", "commonest other intent"], rows))
    if examples:
        lines.append("\nexamples taken for an intent of ours:")
        shown: Counter[str] = Counter()
        for u, p in zip(utterances, predicted, strict=True):
            if p not in REFUSALS and shown[p] < examples:
                shown[p] += 1
                lines.append(f"  {p:<18} {u.text[:90]}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.xsid", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DATA, help="the folder of the .conll files")
    parser.add_argument("--model", type=Path, default=None, help="a model .tar.gz to evaluate")
    parser.add_argument("--examples", type=int, default=3, help="examples shown per intent")
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        utterances = [u for name in FILES for u in read_conll(args.data / name)]
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    quiet_rasa(args.verbose)
    from rasa.core.agent import Agent

    try:
        model = args.model or ensure_model(ModelInputs(ROOT), ROOT / "models", quiet=True)
    except TrainingFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with muted(args.verbose):
        agent = Agent.load(str(model))
    predicted = parse_all(agent, [u.text for u in utterances])
    print(f"xSID Indonesian out-of-domain probe: {len(utterances)} messages from "
          f"{shown_path(args.data)}, model {Path(model).name}")  # fmt: skip
    print(report(utterances, predicted, args.examples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
