"""When two examples say the same thing: the same words once case, punctuation, numbers and
filler words are set aside ("cek tagihan dong" = "Cek tagihan!"), and which example is closest."""

from __future__ import annotations

import re

# Words that only soften or address ("kak", "dong", "please"): an example that differs from
# another only by them teaches the model nothing new.
FILLERS = frozenset(
    """
    kak ka kk kakak min mimin gan sis bro mas mbak mba pak bu bang dong donk deh dah ya yah
    yaa yaaa nih sih si tuh lah kah aja ajah nggih please pls plz thx thanks
    """.split()
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")


def exact_key(text: str) -> str:
    """The words without case or punctuation (or, for "???", the symbols): equal keys are the
    same example."""
    return " ".join(_WORD.findall(text.lower())) or " ".join(text.split())


def near_key(text: str) -> str:
    """The words that carry meaning: numbers made alike, fillers left out (unless nothing else
    is left: "ya kak" keeps its words)."""
    words = [_DIGITS.sub("0", w) for w in _WORD.findall(text.lower())]
    kept = [w for w in words if w not in FILLERS]
    return " ".join(kept or words)


def _grams(text: str) -> set[str]:
    padded = f" {exact_key(text)} "
    return {padded[i : i + 3] for i in range(max(1, len(padded) - 2))}


def closeness(a: str, b: str) -> float:
    """Jaccard overlap of character trigrams, 0 (nothing shared) to 1 (the same)."""
    ga, gb = _grams(a), _grams(b)
    return len(ga & gb) / len(ga | gb) if ga | gb else 0.0
