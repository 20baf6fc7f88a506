"""bench/encoders.py's parts: the compared pipeline differs from the project's in the encoder
only, and the multilingual encoder under evaluation embeds as the pipeline expects."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from rasa.shared.utils.io import read_yaml_file

from bot.core.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def encoders() -> ModuleType:
    return importlib.import_module("bench.encoders")


def test_the_compared_pipeline_changes_the_encoder_and_nothing_else(
    encoders: ModuleType, tmp_path: Path
) -> None:
    project = read_yaml_file(PROJECT_ROOT / "bot" / "config.yml")
    compared = read_yaml_file(encoders.pipeline_with("bench.e5_features.E5Featurizer", tmp_path))
    assert isinstance(project, dict) and isinstance(compared, dict)
    changed = [
        (a["name"], b["name"])
        for a, b in zip(project["pipeline"], compared["pipeline"], strict=True)
        if a != b
    ]
    assert changed == [(encoders.PROJECT_FEATURIZER, "bench.e5_features.E5Featurizer")]
    assert {k: v for k, v in project.items() if k != "pipeline"} == {
        k: v for k, v in compared.items() if k != "pipeline"
    }


def test_the_multilingual_encoder_places_indonesian_by_meaning() -> None:
    from bench.e5_features import encoder

    texts = ["mau beli token listrik 50 ribu", "saya ingin isi pulsa listrik",
             "besok hujan nggak di bandung"]  # fmt: skip
    vectors = encoder().encode(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    similar = float(vectors[0] @ vectors[1])
    assert similar > float(vectors[0] @ vectors[2]) and similar > float(vectors[1] @ vectors[2])
    assert encoder().encode(texts[:1]).shape == (1, 384)


def test_a_limited_run_keeps_that_many_examples_per_intent(encoders: ModuleType) -> None:
    rows = [{"intent": i} for i in "aabbbbc"]
    assert encoders.limited(rows, 2) == [{"intent": i} for i in "aabbc"]
    assert encoders.limited(rows, None) == rows
