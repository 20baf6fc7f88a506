"""Why a conversation is handed to a person: every reason's code, the note agents read in the
transcript, its label in the inbox and the apology the customer reads, in one table.

The codes are a contract: the gateway's policy and the custom actions (actions/replies.py,
which may not import this module) signal them, transcripts and benchmarks record them, and
the inbox shows the labels it gets from its API. A new reason is one row here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Reason(str, enum.Enum):
    NOT_UNDERSTOOD = "not_understood"
    ASKED_FOR_HUMAN = "asked_for_human"
    FRUSTRATED = "frustrated"
    LOOPING = "looping"
    BACKEND_FAILURE = "backend_failure"
    BOT_UNAVAILABLE = "bot_unavailable"


@dataclass(frozen=True, slots=True)
class Explained:
    """What each audience is told about one reason."""

    note: str  # the agents' transcript line: "Handed over: <note>"
    label: Mapping[str, str]  # the inbox's short label, by language ("id", "en")
    # What the customer reads before being told a person takes over, by language; empty when
    # the customer already knows why (they asked, or the action that failed said so).
    apology: Mapping[str, str]
    # Whether the messages before it say something about understanding, so trainers review them.
    about_understanding: bool = False


REASONS: Mapping[Reason, Explained] = {
    Reason.NOT_UNDERSTOOD: Explained(
        note="the bot did not understand twice in a row",
        label={"id": "bot tidak paham", "en": "bot did not understand"},
        apology={
            "id": "Maaf, saya belum bisa memahami permintaan Anda.",
            "en": "Sorry, I haven't been able to understand your request.",
        },
        about_understanding=True,
    ),
    Reason.ASKED_FOR_HUMAN: Explained(
        note="the customer asked for a person",
        label={"id": "minta petugas", "en": "asked for a person"},
        apology={},
    ),
    Reason.FRUSTRATED: Explained(
        note="the customer is frustrated with the bot",
        label={"id": "pelanggan kesal", "en": "frustrated"},
        apology={"id": "Maaf atas ketidaknyamanannya.", "en": "Sorry for the trouble."},
        about_understanding=True,
    ),
    Reason.LOOPING: Explained(
        note="the bot was going in circles",
        label={"id": "bot berputar-putar", "en": "bot went in circles"},
        apology={
            "id": "Sepertinya saya belum bisa membantu dengan tepat.",
            "en": "It looks like I can't help you properly with this.",
        },
        about_understanding=True,
    ),
    Reason.BACKEND_FAILURE: Explained(
        note="the utility's system could not be reached",
        label={"id": "sistem utilitas gangguan", "en": "utility system down"},
        apology={},
    ),
    Reason.BOT_UNAVAILABLE: Explained(
        note="the bot could not be reached",
        label={"id": "bot tidak tersedia", "en": "bot unavailable"},
        apology={
            "id": "Maaf, asisten otomatis kami sedang gangguan.",
            "en": "Sorry, our automated assistant is having problems.",
        },
    ),
}

# Reasons whose lead-up trainers review as misunderstood messages.
ABOUT_UNDERSTANDING = frozenset(r for r, e in REASONS.items() if e.about_understanding)

# The intents with which the model says it did not understand a message.
NOT_UNDERSTOOD_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})


def _known(code: str) -> Explained | None:
    try:
        return REASONS[Reason(code)]
    except ValueError:
        return None


def _lang(language: str) -> str:
    return "en" if language == "en" else "id"


def note(code: str) -> str:
    """The transcript line agents read when the conversation is handed over."""
    known = _known(code)
    return f"Handed over: {known.note if known else code}"


def label(code: str, language: str) -> str:
    known = _known(code)
    return known.label[_lang(language)] if known else code


def apology(code: str, language: str) -> str:
    """The customer's first sentence of the handoff notice ("" when none is owed)."""
    known = _known(code)
    return known.apology.get(_lang(language), "") if known else ""


def labels() -> dict[str, dict[str, str]]:
    """Every reason's label by language, as the inbox's API serves them."""
    return {r.value: dict(e.label) for r, e in REASONS.items()}
