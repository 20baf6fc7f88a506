"""The benchmarks that need the trained model, each run small: they still start and finish.

Each is a child process from the project root, as `make bench` runs it. The `model` fixture
trains first (or finds the model cached), so a benchmark never trains on its own.
"""

from __future__ import annotations

from pathlib import Path

from bot.core.reasons import Reason
from bot.core.settings import PROJECT_ROOT
from tests.support.cli import run_bench
from tests.support.models import worse_model


def output_of(name: str, *args: str, timeout: float) -> str:
    result = run_bench(name, *args, timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result.stdout


def test_understanding_plays_its_conversations_and_a_simulation(model: Path) -> None:
    # Its own whole Loket (Redis, sandbox, action server, Rasa, gateway): a minute or two.
    out = output_of("understanding", "--clinc", "none", "--simulate", "20", timeout=900)
    assert "1. Held-out conversations: " in out
    assert "signal" in out and "precision" in out and "recall" in out
    for reason in (Reason.NOT_UNDERSTOOD, Reason.ASKED_FOR_HUMAN, Reason.BACKEND_FAILURE):
        assert f"\n{reason.value} " in out
    assert "3. Simulation: 20 conversations" in out
    assert "bot repeated a message verbatim (target 0)" in out
    assert "CLINC150" not in out


def test_nlu_evaluates_a_held_out_set_on_the_model(model: Path) -> None:
    # No stack: the model is loaded in this child process, as bench.entities does too.
    dataset = PROJECT_ROOT / "bench" / "datasets" / "sample_heldout.jsonl"
    out = output_of("nlu", "--no-cv", "--dataset", str(dataset), "--model", str(model), timeout=300)
    assert f"on model {model}" in out
    assert "in-scope accuracy" in out and "out-of-scope recall" in out
    assert "Worst confusions" in out


def test_scale_compares_rasa_run_with_the_gateway(model: Path) -> None:
    # Its own Loket with one Rasa worker; the smallest traffic that still has every table.
    out = output_of(
        "scale", "--conversations", "2", "--turns", "1", "--workers", "1", "--replicas", "1",
        "--profile", "2", timeout=900,
    )  # fmt: skip
    assert "bare rasa run (REST), 1 process" in out
    assert "Loket, 1 Rasa worker, 1 gateway" in out
    assert "where one turn's time goes" in out and "NLU pipeline alone" in out
    assert "peak resident memory" in out


def test_retrain_labels_deploys_and_reads_the_misses_again(model: Path) -> None:
    # The small cached model stands in for training; a small held-out set, one Rasa worker.
    dataset = PROJECT_ROOT / "bench" / "datasets" / "sample_heldout.jsonl"
    out = output_of(
        "retrain", "--trained", str(worse_model()), "--workers", "1", "--dataset", str(dataset),
        timeout=900,
    )  # fmt: skip
    assert "label 20 examples" in out and "train (skipped" in out
    assert "deploy to 1 Rasa worker(s)" in out and "label -> new model serving" in out
    assert "before (current model)" in out and "after (+20 examples)" in out
    assert "before (current model)" in out.split("the labelled misses", 1)[1]
    assert " of 20 " in out.split("after (deployed model)", 1)[1].splitlines()[0]


def test_encoders_compares_both_encoders_on_the_same_folds() -> None:
    # Trains its own small models (5 examples per intent), two folds and one on everything each.
    out = output_of("encoders", "--limit", "5", "--folds", "2", "--repeats", "1", timeout=900)
    assert "--limit 5: a quick check, not figures" in out
    for measure in ("CV macro-F1 (2 folds × 1)", "held-out macro-F1", "xSID refused",
                    "encoder ms per message"):  # fmt: skip
        assert measure in out, out
    assert "all-MiniLM-L6-v2" in out and "multilingual-e5-small" in out
