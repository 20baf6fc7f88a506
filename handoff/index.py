"""What the inbox's search finds a conversation by: the words its customer wrote and the numbers
the bot collected (meter number, customer id, transaction, ticket), each kept as a sorted set of
conversation ids (handoff/keys.py, "search indexes").

The writes ride along with the change they belong to: a customer line's words in the same MULTI
as the line (handoff/transcript.py), the collected numbers with the bot's memory of the turn
(handoff/conversations.py), agents and reasons in the handoff transitions' script.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from handoff import keys

# The index layout; `loket inbox reindex` writes it to keys.search_built() when done.
LAYOUT = "1"
MAX_WORDS = 100  # per message: a pasted essay does not flood the index
_WORD = re.compile(r"[^\W_]{2,40}")
# Words nearly every message has, which find nothing and cost the most memory; a search for
# them alone finds nothing.
STOP_WORDS = frozenset(
    """yang dan di ke dari ini itu untuk dengan pada atau juga saya aku sy ya ga gak tidak
    ada sih dong deh kak min the an of to and is in for on it my you me""".split()
)
# Slots whose value identifies the customer or their case, and how search names them.
REF_SLOTS = {
    "meter_number": "meter",
    "customer_id": "customer",
    "transaction_ref": "transaction",
    "ticket_id": "ticket",
}
REF_KINDS = tuple(REF_SLOTS.values())


def fold(text: str) -> str:
    """Lowercase without accents, as both the index and the queries see text."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The distinct searchable words of a text, in order ("Token belum masuk!" -> token,
    belum, masuk)."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        if word in STOP_WORDS:
            continue
        seen.setdefault(word, None)
        if len(seen) >= MAX_WORDS:
            break
    return list(seen)


def ref_value(raw: object) -> str:
    """A collected number as the index keeps it: letters and digits, lowercase."""
    return re.sub(r"[^0-9a-z]", "", fold(str(raw)))[:40]


def refs(slots: Mapping[str, object]) -> list[tuple[str, str]]:
    """(kind, value) of the identifying slots a turn carries."""
    found = []
    for slot, kind in REF_SLOTS.items():
        value = ref_value(slots.get(slot) or "")
        if value:
            found.append((kind, value))
    return found


def word_keys(texts: Iterable[str]) -> list[str]:
    """The index keys of every word in `texts`."""
    distinct: dict[str, None] = {}
    for text in texts:
        for word in words(text):
            distinct.setdefault(keys.search_word(word), None)
    return list(distinct)


def ref_member(kind: str, value: str) -> str:
    """How a collected number is listed in keys.conversation_refs()."""
    return f"{kind}:{value}"
