"""The one-tap satisfaction question (CSAT) asked when an agent closes a handoff, and its answer.

The question goes out on the customer's channel as a bot line with five buttons, 1 (poor) to 5
(excellent), whose payloads name the handoff they rate. A tap comes back as a button payload;
the router records it here and never sends it to Rasa. The score lives in the handoff's record
(keys.handoff_history): `csat_asked_at` when asked, `csat` and `csat_at` when answered. Only a
handoff that was asked can be rated, and only once (the first tap counts), so a forged or
replayed payload changes nothing.
"""

from __future__ import annotations

import enum
import json
import re

from bot.core.messages import Button, ConversationKey
from handoff import keys
from handoff.outbox import Outbox
from handoff.store import Store, now_ms
from handoff.transcript import Entry, Role

PREFIX = "/loket_csat:"  # starts like a Rasa intent payload, which the router keeps from Rasa
SCORES = (1, 2, 3, 4, 5)
_PAYLOAD = re.compile(r"/loket_csat:([0-9a-f]{1,32}):([1-5])")
# Resolutions after which the customer is asked: not after spam, a duplicate or no reply.
ASKED_AFTER = frozenset({"solved", "other"})

QUESTION = {
    "id": "Percakapan dengan petugas kami sudah selesai. Seberapa puas Anda? "
    "Pilih 1 (tidak puas) sampai 5 (sangat puas).",
    "en": "Your conversation with our agent is closed. How satisfied are you? "
    "Tap 1 (not satisfied) to 5 (very satisfied).",
}
THANKS = {
    "id": "Terima kasih atas penilaian Anda!",
    "en": "Thank you for your rating!",
}
_TITLES = {
    "id": ("1 😞", "2 🙁", "3 😐", "4 🙂", "5 😀"),
    "en": ("1 😞", "2 🙁", "3 😐", "4 🙂", "5 😀"),
}

# KEYS[1]: the conversation's handoff history. ARGV: the handoff id, the JSON fields to merge
# into its record, and "ask" or "answer" (an answer only once, and only if asked).
_RECORD = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local record = cjson.decode(raw)
if ARGV[3] == 'answer' then
  if not record['csat_asked_at'] then return 0 end
  if record['csat'] then return 2 end
end
for k, v in pairs(cjson.decode(ARGV[2])) do record[k] = v end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
return 1
"""


class Answer(str, enum.Enum):
    """What became of a tap."""

    RECORDED = "recorded"
    ALREADY = "already"  # this handoff was rated before: the first tap counts
    UNKNOWN = "unknown"  # no such handoff in the conversation, or it was never asked


def payload(handoff_id: str, score: int) -> str:
    return f"{PREFIX}{handoff_id}:{score}"


def parse(raw: str | None) -> tuple[str, int] | None:
    """(handoff id, score) of a CSAT button payload; None for any other payload."""
    if not raw:
        return None
    found = _PAYLOAD.fullmatch(raw.strip())
    return (found.group(1), int(found.group(2))) if found else None


def is_answer(raw: str | None) -> bool:
    """A payload that looks like a CSAT tap (even a malformed one never goes to Rasa)."""
    return bool(raw) and str(raw).strip().startswith(PREFIX)


def question(handoff_id: str, language: str) -> tuple[str, tuple[Button, ...]]:
    lang = language if language in QUESTION else "id"
    buttons = tuple(
        Button(title, payload(handoff_id, score))
        for title, score in zip(_TITLES[lang], SCORES, strict=True)
    )
    return QUESTION[lang], buttons


def thanks(language: str) -> str:
    return THANKS.get(language, THANKS["id"])


class Surveys:
    """Asks the question on the customer's channel and keeps the answers."""

    def __init__(self, store: Store, outbox: Outbox) -> None:
        self._store = store
        self._outbox = outbox
        self._record = store.redis.register_script(_RECORD)

    async def ask(self, conversation: ConversationKey, handoff_id: str, language: str) -> str:
        """Post the question (queued for delivery like any bot line); returns its entry id."""
        text, buttons = question(handoff_id, language)
        [entry_id] = await self._outbox.post(
            conversation, [Entry(Role.BOT, text, buttons=buttons, meta={"csat": handoff_id})]
        )
        await self._update(conversation, handoff_id, {"csat_asked_at": now_ms()}, "ask")
        return entry_id

    async def answer(self, conversation: ConversationKey, handoff_id: str, score: int) -> Answer:
        """Record a tap: the first for an asked handoff counts, anything else changes nothing."""
        if score not in SCORES:
            return Answer.UNKNOWN
        done = await self._update(
            conversation, handoff_id, {"csat": score, "csat_at": now_ms()}, "answer"
        )
        return {1: Answer.RECORDED, 2: Answer.ALREADY}.get(done, Answer.UNKNOWN)

    async def _update(
        self, conversation: ConversationKey, handoff_id: str, fields: dict[str, int], mode: str
    ) -> int:
        async with self._store.guard():
            done = await self._record(
                keys=[keys.handoff_history(conversation.id)],
                args=[handoff_id, json.dumps(fields), mode],
            )
        return int(done)
