"""bench/typed_variants.py writes the variants it promises, and refuses a bad dataset."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def typed() -> ModuleType:
    return importlib.import_module("bench.typed_variants")


def test_each_variant_is_written_with_the_intent_kept(typed: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "set.jsonl"
    source.write_text(json.dumps({"text": "listrik mati dari pagi?", "intent": "report_outage"}))
    assert typed.main([str(source), "--out", str(tmp_path / "out")]) == 0
    written = {
        p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "out").iterdir()
    }
    assert {k: v["text"] for k, v in written.items()} == {
        "capitalised": "Listrik mati dari pagi?",
        "shouting": "listrik mati dari pagi!!!",
        "emoji": "listrik mati dari pagi? 🙏",
        "stretched": "listrikkkk mati dari pagi?",
    }
    assert {v["intent"] for v in written.values()} == {"report_outage"}
    assert typed.stretched("token 50rb") == "tokennnn 50rb"
    assert typed.stretched("TKT123456") == "TKT123456"  # ends in a digit: left alone


def test_a_bad_dataset_stops_with_exit_code_2(typed: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"intent": "greet"}\n')
    assert typed.main([str(source), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()
