"""Rasa pipeline component: whitespace tokens with an Indonesian root word as their lemma.

Customers write the same word many ways: "udh", "udah", "sdh", "sudah"; "pemasangan",
"dipasang", "pasangin", "masang". The word and character counts see each spelling as its own
feature, so a spelling that no training example uses is a word the model has never seen.
Here every token keeps its text and gets a lemma: the informal spelling mapped to the formal
word (the Colloquial Indonesian Lexicon, via indoNLP), then reduced to its root (Sastrawi,
the Nazief-Adriani stemmer). A CountVectorsFeaturizer with `use_lemma: true` counts the
roots; the others keep `use_lemma: false` and count what was written. English words pass
through unchanged (Sastrawi only strips affixes when the root is an Indonesian word).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from indoNLP.preprocessing import SLANG_DATA
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

_stemmer = StemmerFactory().create_stemmer()


@lru_cache(maxsize=65536)
def root(word: str) -> str:
    """The root of one written word: "udh" → "sudah", "pemasangannya" → "pasang"."""
    lowered = word.lower()
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
