"""bench/entities.py: its dataset checks and how it scores a value, without a model."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return importlib.import_module("bench.entities")


def test_the_shipped_dataset_is_valid(bench: ModuleType) -> None:
    examples = bench.read_dataset(bench.DEFAULT_DATASET)
    assert len(examples) >= 50
    assert any(not ex.expected for ex in examples)  # messages without any entity are scored too


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("{not json", "not JSON"),
        (json.dumps({"entities": {}}), '"text"'),
        (json.dumps({"text": "halo"}), '"entities" must map area or amount'),
        (json.dumps({"text": "halo", "entities": {"meter_number": "1"}}), "must map"),
        (json.dumps({"text": "halo", "entities": {"area": " "}}), "must map"),
        (json.dumps(["halo"]), '"text"'),
    ],
)
def test_a_bad_line_is_named_with_its_number(
    bench: ModuleType, tmp_path: Path, line: str, complaint: str
) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps({"text": "ok", "entities": {}}) + "\n\n" + line + "\n")
    with pytest.raises(bench.DatasetError, match=rf"set\.jsonl:3: .*{complaint}"):
        bench.read_dataset(path)


@pytest.mark.parametrize(
    ("predicted", "expected", "right"),
    [
        ("Cibubur", "cibubur", True),
        ("Kecamatan Lowokwaru", "Lowokwaru", True),  # covers it
        ("Griya Asri", "Perumahan Griya Asri", True),  # half of it or more
        ("Gede", "Pondok Gede", False),  # less than half
        ("Tolong", "Cibubur", False),
    ],
)
def test_a_value_is_right_when_it_is_or_covers_the_expected_one(
    bench: ModuleType, predicted: str, expected: str, right: bool
) -> None:
    assert bench.matches(predicted, expected) is right
