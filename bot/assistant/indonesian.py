"""Rasa pipeline component: whitespace tokens with an Indonesian root word as their lemma.

Customers write the same word many ways: "udh", "udah", "sdh", "sudah"; "pemasangan",
"dipasang", "pasangin", "masang". The word and character counts see each spelling as its own
feature, so a spelling that no training example uses is a word the model has never seen.
Here every token keeps its text and gets a lemma: the informal spelling mapped to the formal
word (the Colloquial Indonesian Lexicon, via indoNLP), then reduced to its root (Sastrawi,
the Nazief-Adriani stemmer). English words pass through unchanged (Sastrawi only strips
affixes when the root is an Indonesian word).

Chat also stretches words: "tolonggg", "makasihhh", "kakkk", "sorryyy". `unelongate` writes a
letter repeated three times or more once — or twice when that makes a known word with a double
letter ("maaaaf" → "maaf", "gooood" → "good") — before the root is looked up; the intent
classifier reads the words that way too.

Sastrawi's own dictionary is a list: every affix the stemmer tries on a word it has not seen
(a meter number, a reference, a typo — most messages have one) scans its 30 000 words, which
took 40 % of a Rasa worker's CPU under load (bench/scale.py). Here the same words are a set, and
the factory's unbounded per-word cache is left out (`root` keeps a bounded one).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from indoNLP.preprocessing import SLANG_DATA
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from Sastrawi.Dictionary.ArrayDictionary import ArrayDictionary
from Sastrawi.Stemmer.Stemmer import Stemmer
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory


class WordSet(ArrayDictionary):  # type: ignore[misc]
    """Sastrawi's dictionary, looked up in a set instead of a list: the same answers."""

    def __init__(self, words: list[str]) -> None:
        self.words = frozenset(w for w in words if w and w.strip())

    def contains(self, word: str) -> bool:
        return word in self.words

    def count(self) -> int:
        return len(self.words)

    def add(self, word: str) -> None:
        raise TypeError("the stemmer's dictionary is fixed")


_factory = StemmerFactory()
_stemmer = Stemmer(WordSet(_factory.get_words()))
_RUN = re.compile(r"([a-z])\1{2,}")
_DOUBLE = re.compile(r"([a-z])\1")
_ENGLISH = Path(__file__).with_name("wordlists") / "english_double_letters.txt"


@lru_cache(maxsize=1)
def _double_letter_words() -> frozenset[str]:
    """Formal words written with a double letter: Indonesian (Sastrawi's dictionary, the
    lexicon's formal forms) and common English ones."""
    english = (
        line for line in _ENGLISH.read_text(encoding="utf-8").splitlines() if line[:1] != "#"
    )
    words = [*_factory.get_words(), *SLANG_DATA.values(), *english]
    return frozenset(w for w in words if _DOUBLE.search(w))


@lru_cache(maxsize=65536)
def unelongate(word: str) -> str:
    """`word` lowercased, a letter written three times or more written once ("tolonggg" →
    "tolong"), or twice when that is a known word ("maaaaf" → "maaf", "allll" → "all")."""
    lowered = word.lower()
    if not _RUN.search(lowered):
        return lowered
    twice = _RUN.sub(r"\1\1", lowered)
    return twice if twice in _double_letter_words() else _RUN.sub(r"\1", lowered)


@lru_cache(maxsize=65536)
def root(word: str) -> str:
    """The root of one written word: "udh" → "sudah", "pemasangannya" → "pasang",
    "tolonggg" → "tolong"."""
    lowered = unelongate(word)
    formal = SLANG_DATA.get(lowered, lowered)
    return _stemmer.stem(formal) or lowered


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class IndonesianTokenizer(WhitespaceTokenizer):
    """Rasa's WhitespaceTokenizer, with `root(word)` as every token's lemma."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IndonesianTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = root(token.text)
        return tokens
