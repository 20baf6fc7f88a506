"""`loket nlu check` with Rasa's own validation: the project's files pass, a broken example
fails with its file and line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.core.settings import PROJECT_ROOT
from tests.support.nlu import copy_nlu_data


def nlu_check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.ops.cli", "nlu", "check"],
        cwd=PROJECT_ROOT, env={**os.environ, "LOKET_NLU_DATA_DIR": str(folder)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_rasa_validates_the_project_then_loket_checks(tmp_path: Path) -> None:
    folder = copy_nlu_data(tmp_path)
    clean = nlu_check(folder)
    assert clean.returncode == 0, clean.stdout[-2000:] + clean.stderr[-2000:]
    assert "==> rasa data validate" in clean.stdout
    assert "No story structure conflicts found" in clean.stdout + clean.stderr
    assert "0 error(s)" in clean.stdout
    bill = folder / "bill.yml"
    text = bill.read_text(encoding="utf-8").replace(
        "      - lihat tagihan\n", "      - lihat tagihan\n      - beli token\n"
    )
    bill.write_text(text, encoding="utf-8")  # fmt: skip
    broken = nlu_check(folder)
    assert broken.returncode == 1
    found = f"error: 'beli token' is under buy_token here and under check_bill at {bill}:32"
    assert found in broken.stdout
