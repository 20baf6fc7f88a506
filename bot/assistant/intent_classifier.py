"""Rasa pipeline component: a calibrated linear intent classifier.

Features: TF-IDF of the words (1-2-grams), of character n-grams (2-5, within words), of the
words' Indonesian roots (the tokens' lemmas, indonesian.py), and the message's dense sentence
features (the pretrained sentence encoder, sentence_features.py). Classifier: a linear SVM whose
scores are calibrated into probabilities by internal cross-validation, so a confidence of 0.4
means about that: FallbackClassifier's threshold works on a scale that means something, and the
agent's view of "what the bot made of it" is honest.

Why not DIET for intents (it still extracts the free-text entities): on this data DIET
cross-validated at macro-F1 0.912 and fell to 0.902 with the encoder's vector added, where
this classifier reaches more with the same inputs (docs/benchmarks.md). DIET has millions of
weights to fit from 4,800 short sentences; a linear model over good features has what it
needs and nothing to overfit with.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.assistant.indonesian import unelongate

log = logging.getLogger(__name__)

FILE = "linear_intent_classifier.skops"
# What the saved file may contain when it is read back (skops refuses anything else).
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")


def _vectorizers(config: dict[str, Any]) -> list[TfidfVectorizer]:
    words = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, config["word_max_ngram"]),
        token_pattern=r"\S+",
        sublinear_tf=True,
    )
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(config["char_min_ngram"], config["char_max_ngram"]),
        sublinear_tf=True,
    )
    roots = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", sublinear_tf=True)
    return [words, chars, roots]


def _dense(message: Message, width: int) -> np.ndarray[Any, Any]:
    """The message's dense sentence features, zeros where it has none (an empty text)."""
    sentence = message.get_dense_features(TEXT)[1]
    if sentence is None or sentence.features.shape[-1] != width:
        return np.zeros(width, dtype=np.float32)
    return np.asarray(sentence.features, dtype=np.float32).reshape(-1)


def _dense_width(messages: list[Message]) -> int:
    """How many dense sentence features the training examples have (0: no dense featurizer)."""
    widths = set()
    for message in messages:
        sentence = message.get_dense_features(TEXT)[1]
        widths.add(0 if sentence is None else int(sentence.features.shape[-1]))
    if len(widths) > 1:
        raise ValueError(f"LinearIntentClassifier: examples differ in dense features {widths}")
    return widths.pop() if widths else 0


def _inputs(message: Message) -> tuple[str, str, str]:
    """The text the word and character vectorizers read — the tokens (the tokenizer dropped
    the punctuation around words and the emoji: "mati!!!" is "mati"), stretched letters
    written once ("tolonggg" is "tolong"), and "?" once when the message asks ("bot?" is not
    "bot") — and the roots (the tokens' lemmas)."""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    words = " ".join(unelongate(token.text) for token in tokens)
    if "?" in (message.get(TEXT) or ""):
        words += " ?"
    return words, words, " ".join(token.lemma for token in tokens)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Intent and ranking from a calibrated linear SVM over sparse and dense features."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "skops"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 0.5,  # the SVM's regularisation: smaller is smoother
            "calibration_folds": 5,
            "word_max_ngram": 2,
            "char_min_ngram": 2,
            "char_max_ngram": 5,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        fitted: tuple[list[TfidfVectorizer], CalibratedClassifierCV, int] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._fitted = fitted

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        merged = {**cls.get_default_config(), **config}
        if not merged["C"] > 0:
            raise ValueError(f"LinearIntentClassifier: C must be > 0, got {merged['C']!r}")
        if int(merged["calibration_folds"]) < 2:
            raise ValueError("LinearIntentClassifier: calibration_folds must be >= 2")
        if not 1 <= merged["char_min_ngram"] <= merged["char_max_ngram"]:
            raise ValueError("LinearIntentClassifier: need 1 <= char_min_ngram <= char_max_ngram")

    @staticmethod
    def _matrix(
        vectorizers: list[TfidfVectorizer], dense_width: int, messages: list[Message], *, fit: bool
    ) -> csr_matrix:
        columns = list(zip(*(_inputs(m) for m in messages), strict=True))
        parts = [
            v.fit_transform(col) if fit else v.transform(col)
            for v, col in zip(vectorizers, columns, strict=True)
        ]
        if dense_width:
            parts.append(csr_matrix(np.vstack([_dense(m, dense_width) for m in messages])))
        return hstack(parts).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        labels = sorted({e.get(INTENT) for e in examples})
        if len(labels) < 2:
            log.warning("LinearIntentClassifier: fewer than two intents, nothing to train")
            return self._resource
        vectorizers = _vectorizers(self.config)
        dense_width = _dense_width(examples)
        X = self._matrix(vectorizers, dense_width, examples, fit=True)
        y = np.array([e.get(INTENT) for e in examples])
        smallest = min(int((y == label).sum()) for label in labels)
        folds = max(2, min(int(self.config["calibration_folds"]), smallest))
        classifier = CalibratedClassifierCV(LinearSVC(C=float(self.config["C"])), cv=folds)
        classifier.fit(X, y)
        self._fitted = (vectorizers, classifier, dense_width)
        self.persist()
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        if self._fitted is None or not messages:
            return messages
        vectorizers, classifier, dense_width = self._fitted
        X = self._matrix(vectorizers, dense_width, messages, fit=False)
        probabilities = classifier.predict_proba(X)
        names = classifier.classes_
        for message, row in zip(messages, probabilities, strict=True):
            order = np.argsort(-row)[: self.config["ranking_length"]]
            ranking = [{"name": str(names[i]), "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as folder:
            sio.dump(self._fitted, folder / FILE)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as folder:
                path = folder / FILE
                types = sio.get_untrusted_types(file=path)
                foreign = [t for t in types if not t.startswith(TRUSTED_PREFIXES)]
                if foreign:
                    raise ValueError(f"unexpected types in {FILE}: {foreign}")
                fitted = sio.load(path, trusted=types)
        except ValueError as e:
            log.warning("LinearIntentClassifier: no trained classifier to load (%s)", e)
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, fitted=tuple(fitted))
