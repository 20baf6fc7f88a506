"""Rasa's own CLI from rasa-project/, as a trainer who knows Rasa runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from bot.core.settings import PROJECT_ROOT


def test_rasa_data_validate_passes_on_the_projects_files_without_loket_variables() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_") or
           k == "LOKET_ENCODER_DIR"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate"],
        cwd=PROJECT_ROOT / "rasa-project", env={**env, "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Validating intents" in done.stdout + done.stderr
