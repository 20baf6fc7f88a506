"""Training the Rasa model when its inputs changed, cached by a hash of those inputs."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from bot.assistant.e5 import ensure_installed
from bot.core.errors import TrainingFailed
from bot.ops.processes import die_with_parent

log = logging.getLogger(__name__)


# Modules of bot/assistant/ that are not training inputs: what the Rasa server loads to serve a
# model, and the held-out scorer `loket evaluate` runs.
SERVING_ONLY = frozenset({"input_channel.py", "tracker_store.py", "scoring.py", "serving.py"})


@dataclass(frozen=True, slots=True)
class ModelInputs:
    """Where the assistant's training files live inside the project."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "bot" / "config.yml"

    @property
    def domain(self) -> Path:
        return self.root / "bot" / "domain.yml"

    @property
    def data(self) -> tuple[Path, ...]:
        return (self.root / "bot" / "data", self.root / "nlu_data")

    @property
    def components(self) -> tuple[Path, ...]:
        """Our own pipeline components (bot/config.yml names them) and the word lists they
        read: everything in bot/assistant/ but what only serves a trained model."""
        folder = self.root / "bot" / "assistant"
        return tuple(
            sorted(
                p
                for p in folder.rglob("*")
                if p.suffix in (".py", ".txt") and p.name not in SERVING_ONLY
            )
        )

    def files(self) -> list[Path]:
        found = [self.config, self.domain, *self.components]
        for folder in self.data:
            found.extend(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml"))
        return sorted(found)

    def digest(self) -> str:
        """Hash of every training input and the Rasa version: equal digests, same model."""
        h = hashlib.sha256(f"rasa=={version('rasa')}\n".encode())
        for path in self.files():
            h.update(path.relative_to(self.root).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
        return h.hexdigest()[:16]


def model_path(inputs: ModelInputs, models_dir: Path) -> Path:
    return models_dir / f"loket-{inputs.digest()}.tar.gz"


def rasa_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Rasa child processes: quiet TensorFlow, no telemetry (no internet)."""
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONWARNINGS": "ignore",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }
    )
    env.update(extra or {})
    return env


def ensure_model(
    inputs: ModelInputs, models_dir: Path, *, force: bool = False, quiet: bool = False
) -> Path:
    """Return the trained model for the current inputs, training it first if needed.

    Rasa's own progress is shown on stdout unless `quiet`.
    """
    # The pipeline's sentence encoder: training needs it and so does serving the model.
    # Checked here, so a missing install fails with its own message rather than deep in Rasa.
    ensure_installed()
    target = model_path(inputs, models_dir)
    if target.exists() and not force:
        log.info("model %s is up to date", target.name)
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    # Several runs (make run, a test session, a benchmark) may share models/: one trains,
    # the others wait for it and reuse its model.
    with (models_dir / ".train.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists() and not force:
            return target
        _train(inputs, models_dir, target, quiet=quiet)
    return target


def _train(inputs: ModelInputs, models_dir: Path, target: Path, *, quiet: bool) -> None:
    partial = target.with_name(f"partial-{target.name}")
    started = time.monotonic()
    print(f"==> training the Rasa model {target.name} (inputs changed or model missing); "
          "Rasa shows each component as it trains", flush=True)  # fmt: skip
    cmd = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(inputs.config),
        "--domain", str(inputs.domain),
        "--data", *(str(p) for p in inputs.data),
        "--out", str(models_dir),
        "--fixed-model-name", partial.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    output = subprocess.DEVNULL if quiet else None
    # The training dies with whoever asked for it (`loket train`, a test, a benchmark killed
    # mid-way) instead of going on for minutes, holding two cores and the models folder.
    result = subprocess.run(cmd, cwd=inputs.root, env=rasa_env(), stdout=output, check=False,
                            preexec_fn=die_with_parent())  # fmt: skip
    if result.returncode != 0 or not partial.exists():
        partial.unlink(missing_ok=True)
        raise TrainingFailed(f"`rasa train` failed with exit code {result.returncode}")
    partial.replace(target)  # atomic: a model under its final name is always complete
    _remove_stale(models_dir, keep=target)
    print(f"==> model ready: {target} (trained in {time.monotonic() - started:.0f} s)", flush=True)


def _remove_stale(models_dir: Path, keep: Path, *, retain: int = 3) -> None:
    """Keep the newest few models so switching branches does not retrain every time."""
    models: Iterable[Path] = sorted(
        (p for p in models_dir.glob("loket-*.tar.gz") if p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in list(models)[retain:]:
        stale.unlink(missing_ok=True)
