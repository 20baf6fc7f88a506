"""The contract between whoever labels a message and the NLU training data: intents, entities,
and adding one example to the right file (bot/nlu/ fulfils it, the inbox and `loket nlu` use it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Placed:
    """Where an example was written: `path` relative to the project (nlu_data/bill.yml) and
    its 1-based line."""

    intent: str
    text: str
    path: str
    line: int

    def as_json(self) -> dict[str, object]:
        return {"intent": self.intent, "text": self.text, "path": self.path, "line": self.line}


class ExampleBook(Protocol):
    """The NLU examples a trainer may add to. `add` raises ExampleRefused with the reason."""

    def intents(self) -> tuple[str, ...]: ...

    def entities(self) -> tuple[str, ...]: ...

    def add(self, intent: str, text: str) -> Placed: ...
