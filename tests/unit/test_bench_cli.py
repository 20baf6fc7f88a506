"""Every benchmark imports and answers --help as `python -m bench.<name>`; cheap real runs.

The scripts are found in bench/ itself, so a new one is covered without touching this file.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from bot.core.settings import PROJECT_ROOT
from tests.support.cli import run_bench

BENCH = PROJECT_ROOT / "bench"
MODULES = sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__")


def is_script(name: str) -> bool:
    source = (BENCH / f"{name}.py").read_text(encoding="utf-8")
    # A command runs as `python -m bench.<name>`; a library (bench/drill.py) may still build
    # parts of the commands' parsers.
    return any(sign in source for sign in ('__name__ == "__main__"', "def main("))


SCRIPTS = [name for name in MODULES if is_script(name)]


def test_the_benchmarks_are_found() -> None:
    expected = {"entities", "inbox", "latency", "nlu", "typed_variants", "understanding",
                "drill_load", "drill_kill_gateway", "drill_kill_loket", "drill_redis",
                "drill_backend", "drill_channel_api"}  # fmt: skip
    assert expected <= set(SCRIPTS)
    assert {"harness", "rasa_nlu", "drill", "peers", "traffic"} <= set(MODULES) - set(SCRIPTS)


@pytest.mark.parametrize("name", MODULES)
def test_every_bench_module_imports_without_touching_sys_path(name: str) -> None:
    assert "sys.path" not in (BENCH / f"{name}.py").read_text(encoding="utf-8")
    importlib.import_module(f"bench.{name}")


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_answers_help_under_its_module_name(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    assert callable(getattr(module, "main", None)), f"bench/{name}.py has no main()"
    assert f"python -m bench.{name}" in (module.__doc__ or ""), "the docstring shows no usage"
    result = run_bench(name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m bench.{name} "), result.stdout[:200]


def test_typed_variants_writes_its_files(tmp_path: Path) -> None:
    source = tmp_path / "set.jsonl"
    rows = [("listrik mati", "report_outage"), ("halo", "greet")]
    lines = [json.dumps({"text": text, "intent": intent}) + "\n" for text, intent in rows]
    source.write_text("".join(lines), encoding="utf-8")
    result = run_bench("typed_variants", str(source), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["capitalised.jsonl", "emoji.jsonl", "shouting.jsonl", "stretched.jsonl"]
    assert "2 messages" in result.stdout


def test_understanding_skips_clinc_when_its_data_is_absent(tmp_path: Path) -> None:
    absent = tmp_path / "clinc150"
    result = run_bench(
        "understanding", "--no-conversations", "--clinc", "small", "--clinc-data", str(absent)
    )
    assert result.returncode == 0, result.stderr
    assert f"2. CLINC150 'small': skipped, no {absent / 'data_small.json'}" in result.stdout
    assert "part 2 will be skipped" in result.stderr
