"""rasa-project/ is a Rasa project made of Loket's own files, needing no LOKET_* variables."""

from __future__ import annotations

import os

import yaml

from bot.core.settings import PROJECT_ROOT
from bot.ops.model import ModelInputs

FOLDER = PROJECT_ROOT / "rasa-project"


def test_its_files_are_the_model_inputs_loket_trains_from() -> None:
    inputs = ModelInputs(PROJECT_ROOT)
    assert (FOLDER / "config.yml").resolve() == inputs.config.resolve()
    assert (FOLDER / "domain.yml").resolve() == inputs.domain.resolve()
    data = sorted(p.resolve() for p in (FOLDER / "data").iterdir())
    assert data == sorted(p.resolve() for p in inputs.data)
    assert (FOLDER / "actions").resolve() == (PROJECT_ROOT / "actions").resolve()


def test_rasas_own_commands_need_no_loket_variables() -> None:
    for name in ("endpoints.yml", "credentials.yml"):
        text = (FOLDER / name).read_text()
        assert "${" not in text, name
    endpoints = yaml.safe_load((FOLDER / "endpoints.yml").read_text())
    assert endpoints == {"action_endpoint": {"url": "http://localhost:5055/webhook"}}
    assert "rest" in yaml.safe_load((FOLDER / "credentials.yml").read_text())


def test_what_rasa_trains_there_stays_out_of_git() -> None:
    ignored = (PROJECT_ROOT / ".gitignore").read_text().splitlines()
    assert {"rasa-project/models/", "rasa-project/results/", "rasa-project/.rasa/"} <= set(ignored)
    assert not any(os.path.islink(p) for p in FOLDER.glob("*.md"))
