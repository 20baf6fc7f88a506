"""Write a {"text", "intent"} dataset again as phones and impatient customers type it.

    .venv/bin/python -m bench.typed_variants [DATASET.jsonl] [--out FOLDER]

For each line of DATASET (default bench/datasets/heldout.jsonl) writes four files into FOLDER
(default var/typed/), the same messages with:
  capitalised  the first letter upper-case, as phone keyboards do ("Listrik mati dari pagi")
  shouting     "!!!" at the end, other end punctuation removed ("listrik mati dari pagi!!!")
  emoji        " 🙏" at the end
  stretched    the longest word's last letter written three more times ("listrik mati dari
               pagiiii"; words ending in a digit are left alone)
Then evaluate each with `python -m bench.nlu --no-cv --dataset FOLDER/NAME.jsonl` and compare
with the plain set: the bot should understand them all alike.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.harness import ROOT
from bench.nlu import read_dataset
from bench.rasa_nlu import DatasetError, domain_intents
from bot.ops.model import ModelInputs


def stretched(text: str) -> str:
    words = text.split()
    if not words:
        return text
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    if words[longest][-1].isalpha():
        words[longest] += words[longest][-1] * 3
    return " ".join(words)


VARIANTS: dict[str, Callable[[str], str]] = {
    "capitalised": lambda t: t[:1].upper() + t[1:],
    "shouting": lambda t: t.rstrip("?.!") + "!!!",
    "emoji": lambda t: t + " 🙏",
    "stretched": stretched,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.typed_variants",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "dataset", nargs="?", type=Path, default=ROOT / "bench" / "datasets" / "heldout.jsonl"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "typed")
    args = parser.parse_args(argv)
    try:
        rows = read_dataset(args.dataset, domain_intents(ModelInputs(ROOT).domain))
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for name, change in VARIANTS.items():
        target = args.out / f"{name}.jsonl"
        with target.open("w", encoding="utf-8") as out:
            for row in rows:
                line = {"text": change(row.text), "intent": row.intent}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        print(f"{target}: {len(rows)} messages, e.g. {change(rows[0].text)!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
