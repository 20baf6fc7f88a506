"""The evaluation sets stay unseen: none of their sentences may be in the training data."""

from __future__ import annotations

import re

from bench.conversations import DATASET, read_scripts
from bench.xsid import DATA, FILES, read_conll
from bot.core.settings import PROJECT_ROOT


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _training_examples() -> set[str]:
    examples = set()
    for path in [
        *(PROJECT_ROOT / "nlu_data").glob("*.yml"),
        *(PROJECT_ROOT / "bot" / "data").glob("*.yml"),
    ]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.lstrip().startswith("- "):
                # "[14234567890](meter_number)" -> "14234567890"
                example = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.lstrip()[2:])
                examples.add(_normal(example))
    return examples


def test_no_xsid_sentence_is_in_the_training_data() -> None:
    xsid = {_normal(u.text) for name in FILES for u in read_conll(DATA / name)}
    assert len(xsid) > 600  # 800 utterances, some said alike
    assert not xsid & _training_examples()


def test_no_benchmark_conversation_line_is_in_the_training_data() -> None:
    # One- and two-word lines ("iya", "50rb") are the vocabulary itself; longer ones are the
    # customers' own sentences, written apart from the training data.
    lines = {_normal(t) for s in read_scripts(DATASET) for t in s.turns if len(t.split()) >= 3}
    assert len(lines) > 80
    assert not lines & _training_examples()
