"""bench/encoders.py's parts: each compared pipeline differs from the project's in the encoder
only."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
from rasa.shared.utils.io import read_yaml_file

from bot.core.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def encoders() -> ModuleType:
    return importlib.import_module("bench.encoders")


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "multilingual-e5-small"])
def test_the_compared_pipeline_changes_the_encoder_and_nothing_else(
    encoders: ModuleType, tmp_path: Path, name: str
) -> None:
    project = read_yaml_file(PROJECT_ROOT / "bot" / "config.yml")
    featurizer = encoders.ENCODERS[name]
    compared = read_yaml_file(encoders.pipeline_with(featurizer, tmp_path))
    assert isinstance(project, dict) and isinstance(compared, dict)
    changed = [
        (a["name"], b["name"])
        for a, b in zip(project["pipeline"], compared["pipeline"], strict=True)
        if a != b
    ]
    used = [c["name"] for c in project["pipeline"] if c["name"] in encoders.ENCODERS.values()]
    assert len(used) == 1
    assert changed == ([] if used == [featurizer] else [(used[0], featurizer)])
    assert {k: v for k, v in project.items() if k != "pipeline"} == {
        k: v for k, v in compared.items() if k != "pipeline"
    }


def test_a_limited_run_keeps_that_many_examples_per_intent(encoders: ModuleType) -> None:
    rows = [{"intent": i} for i in "aabbbbc"]
    assert encoders.limited(rows, 2) == [{"intent": i} for i in "aabbc"]
    assert encoders.limited(rows, None) == rows
