"""Models for the deploy tests: a deliberately worse one, trained on a few examples per intent
and cached by the hash of its inputs like the project's own."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import yaml

from bot.core.settings import PROJECT_ROOT
from bot.ops.model import ModelInputs, ensure_model

PER_INTENT = 6  # the intent classifier's calibration needs a handful of each


def worse_inputs(root: Path, per_intent: int = PER_INTENT) -> ModelInputs:
    """The project's config, domain and rules, and the first `per_intent` examples of each
    intent (regexes, lookups and synonyms kept), under `root`."""
    (root / "bot").mkdir(parents=True, exist_ok=True)
    for name in ("config.yml", "domain.yml"):
        shutil.copy(PROJECT_ROOT / "bot" / name, root / "bot" / name)
    shutil.copytree(PROJECT_ROOT / "bot" / "data", root / "bot" / "data", dirs_exist_ok=True)
    (root / "nlu_data").mkdir(exist_ok=True)
    for source in sorted((PROJECT_ROOT / "nlu_data").glob("*.yml")):
        content = yaml.safe_load(source.read_text(encoding="utf-8"))
        for item in content.get("nlu") or []:
            if "intent" in item:
                lines = [ln for ln in item["examples"].splitlines() if ln.strip()]
                item["examples"] = "\n".join(lines[:per_intent]) + "\n"
        target = root / "nlu_data" / source.name
        target.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=False), "utf-8")
    return ModelInputs(root)


def worse_model(models_dir: Path = PROJECT_ROOT / "models" / "test-worse") -> Path:
    """Trained once (a minute or two), then found by its hash."""
    with tempfile.TemporaryDirectory(prefix="loket-worse-") as tmp:
        return ensure_model(worse_inputs(Path(tmp)), models_dir, quiet=True)
