"""bench/typed_variants.py writes the variants it promises, and refuses a bad dataset."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def typed() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_typed", ROOT / "bench" / "typed_variants.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


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
