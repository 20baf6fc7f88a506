"""Scoring a model's predictions on the held-out set, the report files, comparing two models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.errors import EvaluationFailed
from bot.core.scores import compare, model_id, read_scores
from bot.ops import report
from bot.ops.evaluation import Example, Prediction, read_heldout, score

INTENTS = {"greet", "buy_token", "out_of_scope"}


def predictions() -> list[Prediction]:
    return [
        Prediction("halo", "greet", "greet", 0.9),
        Prediction("hai kak", "greet", "greet", 0.8),
        Prediction("beli token", "buy_token", "buy_token", 0.9),
        Prediction("isi pulsa listrik", "buy_token", "greet", 0.5),  # a miss
        Prediction("tagihan pdam", "out_of_scope", "nlu_fallback", 0.3),  # refused: right
        Prediction("token bank <b>", "out_of_scope", "buy_token", 0.6),  # a miss
        Prediction("gmn ya", "buy_token", "nlu_fallback", 0.2),  # declined: a miss
    ]


def test_a_fallback_counts_as_out_of_scope_right_for_it_wrong_for_the_rest() -> None:
    s = score(Path("models/loket-abc123.tar.gz"), "held.jsonl", predictions(), 1.0)
    assert s.model == "abc123" and s.examples == 7
    assert s.intents["greet"].recall == 1.0 and s.intents["greet"].precision == pytest.approx(2 / 3)
    assert s.intents["buy_token"].recall == pytest.approx(1 / 3)
    oos = s.intents["out_of_scope"]
    assert oos.recall == 0.5 and oos.precision == 0.5  # "gmn ya" refused counts against it
    assert s.accuracy == pytest.approx(4 / 7)
    assert s.macro_f1 == pytest.approx(sum(i.f1 for i in s.intents.values()) / 3)
    assert [m.text for m in s.misses] == ["isi pulsa listrik", "token bank <b>", "gmn ya"]


def test_the_report_holds_json_html_and_a_png(tmp_path: Path) -> None:
    before = score("loket-old.tar.gz", "held.jsonl", [
        Prediction(p.text, p.gold, p.gold, 0.9) for p in predictions()], 1.0)  # fmt: skip
    after = score("loket-new.tar.gz", "held.jsonl", predictions(), 2.0)
    folder = report.save(tmp_path, after, predictions(), compare(after, before))
    assert folder == tmp_path / "reports" / "new"
    assert (folder / "confusion.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    page = (folder / "report.html").read_text()
    assert "token bank &lt;b&gt;" in page and "<b>" not in page.split("<body>")[1].split("<h1>")[0]
    assert 'class="worse"' in page and "confusion.png" in page
    assert read_scores(tmp_path, "loket-new.tar.gz") == after


def test_comparison_says_better_or_worse_per_intent_and_applies_the_tolerance() -> None:
    good = score("a", "h", [Prediction(p.text, p.gold, p.gold, 1.0) for p in predictions()], 0)
    bad = score("b", "h", predictions(), 0)
    c = compare(bad, good)
    assert {x.intent: x.verdict for x in c.changes} == {
        "buy_token": "worse", "greet": "worse", "out_of_scope": "worse"}  # fmt: skip
    assert c.worse_beyond(0.01) and not c.worse_beyond(1.0)
    assert not compare(good, bad).worse_beyond(0.0)
    assert not compare(good, good).worse_beyond(0.0)


def test_held_out_lines_are_checked_and_every_bad_one_named(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(
        '{"text": "halo", "intent": "greet"}\n\nnot json\n{"text": "", "intent": "greet"}\n'
        '{"text": "x", "intent": "nope"}\n'
    )
    with pytest.raises(EvaluationFailed) as caught:
        read_heldout(path, INTENTS)
    message = str(caught.value)
    assert "3 bad line(s)" in message
    assert all(f"h.jsonl:{n}" in message for n in (3, 4, 5))
    path.write_text('{"text": "  halo   kak ", "intent": "greet"}\n')
    assert read_heldout(path, INTENTS) == [Example("halo kak", "greet")]
    with pytest.raises(EvaluationFailed, match="cannot read"):
        read_heldout(tmp_path / "missing.jsonl", INTENTS)


def test_a_model_is_named_by_its_input_hash() -> None:
    assert model_id("models/loket-3be624cf606cf792.tar.gz") == "3be624cf606cf792"
    assert model_id(Path("/x/other.tar.gz")) == "other"
    assert json.loads(json.dumps(score("m", "h", predictions(), 0).to_json()))["model"] == "m"
