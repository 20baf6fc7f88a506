"""A throwaway copy of nlu_data/ for tests that add examples, and the git diff it gained."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bot.core.settings import PROJECT_ROOT

DOMAIN = PROJECT_ROOT / "bot" / "domain.yml"


def copy_nlu_data(into: Path) -> Path:
    """nlu_data/ copied to `into`/nlu_data, with a pristine twin to diff against."""
    shutil.copytree(PROJECT_ROOT / "nlu_data", into / "pristine")
    return Path(shutil.copytree(PROJECT_ROOT / "nlu_data", into / "nlu_data"))


def diff(folder: Path) -> list[str]:
    """The +/- lines of `git diff` between the copy and its pristine twin (headers left out)."""
    result = subprocess.run(
        ["git", "diff", "--no-index", "--no-color", "-U0", "pristine", folder.name],
        cwd=folder.parent, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    return [
        line
        for line in result.stdout.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
