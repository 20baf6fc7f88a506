"""`loket train`, `evaluate`, `deploy` and `models` as a trainer types them: clear errors first."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import loket


def test_models_lists_the_trained_models_even_without_a_running_loket(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "loket-abc123.tar.gz").write_bytes(b"x" * 2_000_000)
    done = loket("models", env={"LOKET_MODELS_DIR": str(models),
                                "LOKET_DATA_DIR": str(tmp_path / "var")})  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].split()[:2] == ["abc123", lines[1].split()[1]] and " 2 " in lines[1]
    assert "not known here: Loket is not running" in done.stdout


def test_evaluate_and_deploy_name_what_is_wrong(tmp_path: Path) -> None:
    env = {"LOKET_MODELS_DIR": str(tmp_path), "LOKET_DATA_DIR": str(tmp_path / "var")}
    done = loket("evaluate", "--model", "nope", env=env)
    assert done.returncode == 2 and "no model 'nope'" in done.stderr
    done = loket("evaluate", env=env)
    assert done.returncode == 2 and "run `loket train` first" in done.stderr
    (tmp_path / "loket-m1.tar.gz").write_bytes(b"not a model")
    bad = tmp_path / "held.jsonl"
    bad.write_text('{"text": "halo", "intent": "no_such_intent"}\n')
    done = loket("evaluate", "--model", "m1", "--dataset", str(bad), env=env)
    assert (
        done.returncode == 2 and "held.jsonl:1" in done.stderr and "no_such_intent" in done.stderr
    )
    done = loket("deploy", "m1", "--rollback", env=env)
    assert done.returncode == 2 and "either a model or --rollback" in done.stderr
    done = loket("deploy", "--rollback", env=env)
    assert done.returncode == 2 and "Loket is not running" in done.stderr
