"""bench/nlu.py's input checks: a bad dataset line or option stops it before minutes of training."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot.core.settings import PROJECT_ROOT

INTENTS = ["greet", "inform", "out_of_scope"]


@pytest.fixture(scope="module")
def nlu() -> ModuleType:
    return importlib.import_module("bench.nlu")


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_a_good_dataset_and_skips_blank_lines(nlu: ModuleType, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        json.dumps({"text": "halo", "intent": "greet"}),
        "",
        json.dumps({"text": "beli pulsa", "intent": "out_of_scope"}),
    )
    examples = nlu.read_dataset(path, INTENTS)
    assert [(e.text, e.intent) for e in examples] == [
        ("halo", "greet"),
        ("beli pulsa", "out_of_scope"),
    ]


def test_every_bad_line_is_named_with_its_number(nlu: ModuleType, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        json.dumps({"text": "halo", "intent": "greet"}),
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"text": "  ", "intent": "greet"}),
        json.dumps({"text": "halo"}),
        json.dumps({"text": "halo", "intent": "say_hello"}),
    )
    with pytest.raises(nlu.DatasetError) as caught:
        nlu.read_dataset(path, INTENTS)
    message = str(caught.value)
    assert message.startswith("5 bad line(s):")
    assert f"{path}:2: not valid JSON" in message
    assert f"{path}:3: expected a JSON object, got list" in message
    assert f'{path}:4: "text" is missing, empty or not a string' in message
    assert f'{path}:5: "intent" is missing' in message
    assert f'{path}:6: unknown intent "say_hello"' in message


def test_an_unreadable_or_empty_file_is_refused(nlu: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(nlu.DatasetError, match="cannot read"):
        nlu.read_dataset(tmp_path / "missing.jsonl", INTENTS)
    (tmp_path / "latin1.jsonl").write_bytes(b'{"text": "caf\xe9", "intent": "greet"}\n')
    with pytest.raises(nlu.DatasetError, match="cannot read"):
        nlu.read_dataset(tmp_path / "latin1.jsonl", INTENTS)
    with pytest.raises(nlu.DatasetError, match="no examples"):
        nlu.read_dataset(write(tmp_path, ""), INTENTS)


def test_jobs_default_to_the_cores_but_never_more_than_the_folds(nlu: ModuleType) -> None:
    assert nlu.parse_args(["--folds", "2"]).jobs <= 2
    assert nlu.parse_args(["--jobs", "3"]).jobs == 3
    for bad in (["--jobs", "0"], ["--folds", "1"], ["--epochs", "0"], ["--no-cv"]):
        with pytest.raises(SystemExit):
            nlu.parse_args(bad)


def test_another_pipeline_can_be_compared_but_must_exist(
    nlu: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert nlu.parse_args([]).config == PROJECT_ROOT / "bot" / "config.yml"
    other = tmp_path / "config.yml"
    other.write_text("pipeline: []\n")
    assert nlu.parse_args(["--config", str(other)]).config == other
    with pytest.raises(SystemExit):
        nlu.parse_args(["--config", str(tmp_path / "missing.yml")])
    assert "missing.yml: no such file" in capsys.readouterr().err


def test_held_out_macro_f1_counts_a_fallback_as_a_refusal(nlu: ModuleType) -> None:
    perfect = [
        ("greet", "greet"),
        ("out_of_scope", "nlu_fallback"),
        ("out_of_scope", "out_of_scope"),
    ]
    assert nlu.refusal_macro_f1(perfect) == 1.0
    # An in-scope message that fell back: greet's recall and out_of_scope's precision suffer.
    missed = [("greet", "nlu_fallback"), ("greet", "greet"), ("out_of_scope", "out_of_scope")]
    assert nlu.refusal_macro_f1(missed) == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_repeats_must_be_positive_and_intents_only_takes_no_epochs(nlu: ModuleType) -> None:
    args = nlu.parse_args(["--repeats", "3", "--intents-only"])
    assert (args.repeats, args.intents_only) == (3, True)
    for bad in (["--repeats", "0"], ["--intents-only", "--epochs", "5"]):
        with pytest.raises(SystemExit):
            nlu.parse_args(bad)


@pytest.fixture(scope="module")
def crossval(nlu: ModuleType) -> ModuleType:
    return sys.modules["bench.crossval"]


def test_intents_only_leaves_out_diet_where_it_only_extracts_entities(
    crossval: ModuleType, tmp_path: Path
) -> None:
    from rasa.shared.utils.io import read_yaml_file

    written, note = crossval.nlu_config(
        PROJECT_ROOT / "bot" / "config.yml", None, tmp_path, intents_only=True
    )
    names = [c["name"] for c in read_yaml_file(written)["pipeline"]]
    project = [c["name"] for c in read_yaml_file(PROJECT_ROOT / "bot" / "config.yml")["pipeline"]]
    assert "DIETClassifier" in project and "DIETClassifier" not in names
    assert names == [n for n in project if n != "DIETClassifier"]
    assert "--intents-only" in note
    # Where DIET classifies intents, leaving it out would change what is measured: refused.
    classifying = tmp_path / "diet.yml"
    classifying.write_text("pipeline:\n  - name: WhitespaceTokenizer\n  - name: DIETClassifier\n")
    with pytest.raises(SystemExit, match="classifies intents"):
        crossval.nlu_config(classifying, None, tmp_path, intents_only=True)


def test_repeats_are_pooled_and_each_repeat_is_shown(
    crossval: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    from collections import Counter

    from bot.ops.model import ModelInputs

    gold = [["greet", "greet", "out_of_scope"], ["greet", "greet", "out_of_scope"]]
    predicted = [["greet", "greet", "out_of_scope"], ["greet", "nlu_fallback", "out_of_scope"]]
    counts = Counter({"greet": 2, "out_of_scope": 1})
    crossval.report(gold, predicted, counts, ModelInputs(PROJECT_ROOT), 2)
    out = capsys.readouterr().out
    assert "2 repeats pooled" in out
    assert "per repeat 1.000, 0.833" in out  # the second: greet F1 2/3, out_of_scope 1
    assert "accuracy   0.833   (5/6)" in out
    assert "macro-F1   0.929" in out  # pooled: greet P 1, R 3/4: F1 6/7; out_of_scope 1
    assert "note: fewer examples than folds" in out  # out_of_scope: 1 example, 2 folds
