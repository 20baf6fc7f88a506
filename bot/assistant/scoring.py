"""Scoring a trained model on held-out messages in its own process, for `loket evaluate`: what
the running bot would make of each text, `nlu_fallback` included (Rasa's own `rasa test nlu`
undoes the fallback, which is half of what the bot does with a message it does not know).

    python -m bot.assistant.scoring MODEL.tar.gz IN.jsonl OUT.jsonl

IN: one {"text", "intent"} per line; OUT: the same with "predicted" and "confidence".
Not a training input (bot/ops/model.py leaves it out of the model's hash).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any


async def _score(model: str, items: list[dict[str, Any]]) -> None:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parse at debug level unless told otherwise: thousands of lines.
    logging.basicConfig(level=logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(model)
    for done, item in enumerate(items, start=1):
        parsed = await agent.parse_message(item["text"])
        intent = parsed.get("intent") or {}
        item["predicted"] = intent.get("name") or "nlu_fallback"
        item["confidence"] = float(intent.get("confidence") or 0.0)
        if done % 100 == 0:
            print(f"scored {done} of {len(items)} messages", file=sys.stderr, flush=True)


def main(argv: Sequence[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    model, source, target = argv
    with open(source, encoding="utf-8") as lines:
        items = [json.loads(line) for line in lines if line.strip()]
    asyncio.run(_score(model, items))
    partial = f"{target}.partial"
    with open(partial, "w", encoding="utf-8") as out:
        out.writelines(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    os.replace(partial, target)  # complete or absent
    print(f"scored {len(items)} messages", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
