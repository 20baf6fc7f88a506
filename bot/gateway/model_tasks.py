"""Training and scoring a model for the gateway's model jobs: `loket train` and
`loket evaluate` as child processes, their output turned into progress lines.

They run apart from the gateway's process (TensorFlow never loads into it) and read the project
the gateway runs from: its nlu_data/, bot/ and models/.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from pathlib import Path

from bot.core.errors import EvaluationFailed, TrainingFailed
from bot.core.scores import Scores, read_scores
from bot.core.settings import PROJECT_ROOT
from bot.gateway.deployer import Progress

MODEL_LINE = re.compile(r"model ready: (\S+\.tar\.gz)")
PROGRESS_EVERY_S = 2.0  # a progress bar redraws many times a second; pass on one line per 2 s


class ChildTasks:
    """`ModelTasks` through `python -m bot.ops.cli train|evaluate`."""

    def __init__(self, data_dir: Path, models_dir: Path, root: Path = PROJECT_ROOT) -> None:
        self._data_dir = data_dir
        self._models_dir = models_dir
        self._root = root

    async def _run(self, args: list[str], progress: Progress) -> tuple[int, list[str]]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.ops.cli", *args,
            cwd=self._root, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "LOKET_DATA_DIR": str(self._data_dir),
                 "LOKET_MODELS_DIR": str(self._models_dir), "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        assert proc.stdout is not None
        lines: list[str] = []
        shown = 0.0
        buffer = b""
        try:
            while chunk := await proc.stdout.read(4096):
                buffer += chunk
                *parts, buffer = re.split(rb"[\r\n]", buffer)
                for raw in parts:
                    line = raw.decode(errors="replace").strip()
                    if not line:
                        continue
                    lines.append(line)
                    del lines[:-200]
                    now = time.monotonic()
                    if line.startswith("==>") or now - shown >= PROGRESS_EVERY_S:
                        shown = now
                        await progress(line.removeprefix("==> "))
            return await proc.wait(), lines
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

    async def train(self, progress: Progress) -> Path:
        code, lines = await self._run(["train"], progress)
        found = [m.group(1) for line in lines if (m := MODEL_LINE.search(line))]
        if code != 0 or not found:
            tail = " | ".join(lines[-3:])
            raise TrainingFailed(f"training failed (exit code {code}): {tail}")
        return Path(found[-1])

    async def evaluate(self, model: Path, progress: Progress) -> Scores:
        code, lines = await self._run(["evaluate", "--model", str(model)], progress)
        scores = read_scores(self._data_dir, model)
        if code != 0 or scores is None:
            tail = " | ".join(lines[-3:])
            raise EvaluationFailed(f"scoring {model.name} failed (exit code {code}): {tail}")
        return scores
