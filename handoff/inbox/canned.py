"""Canned replies: the team's snippets in Indonesian and English, kept in Redis. Their text may
hold {name}, {meter} and {ticket}, which the page fills from the customer's contact.

A few sensible defaults are written the first time the inbox reads them; from then on admins
own the list (deleting every snippet does not bring the defaults back).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.messages import clean_text
from bot.core.templates import VARIABLES
from handoff import keys
from handoff.inbox.errors import Invalid, NotFound
from handoff.store import Store

KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
VARIABLE = re.compile(r"\{(\w+)\}")  # {name}, {meter}, {ticket}: filled by the page
LANGUAGES = ("id", "en")
MAX_TITLE = 80


@dataclass(frozen=True, slots=True)
class Snippet:
    key: str
    title: str
    texts: Mapping[str, str]  # language -> text; at least one of "id", "en"

    def as_json(self) -> dict[str, object]:
        return {"key": self.key, "title": self.title, "texts": dict(self.texts)}

    def to_json(self) -> str:
        return json.dumps({"title": self.title, **self.texts}, ensure_ascii=False)

    @classmethod
    def from_json(cls, key: str, raw: str) -> Snippet:
        data = json.loads(raw)
        texts = {lang: str(data[lang]) for lang in LANGUAGES if data.get(lang)}
        return cls(key, str(data.get("title", key)), texts)


DEFAULTS = (
    Snippet("greeting", "Greeting", {
        "id": "Halo, saya petugas Loket. Saya sudah membaca percakapan Anda dengan asisten; "
              "saya bantu sekarang.",
        "en": "Hello, I'm an agent at Loket. I've read your conversation with the assistant "
              "and I'm here to help.",
    }),
    Snippet("meter-number", "Ask for the meter number", {
        "id": "Boleh saya minta nomor meter atau ID pelanggan Anda (11 atau 12 digit)?",
        "en": "Could you send me your meter number or customer ID (11 or 12 digits)?",
    }),
    Snippet("meter-confirm", "Confirm the meter number", {
        "id": "Apakah nomor meter Anda {meter}?",
        "en": "Is your meter number {meter}?",
    }),
    Snippet("ticket-update", "Ticket is being handled", {
        "id": "Laporan Anda dengan nomor tiket {ticket} sedang kami tindak lanjuti, {name}.",
        "en": "Your report with ticket number {ticket} is being handled, {name}.",
    }),
    Snippet("checking", "Checking, please wait", {
        "id": "Terima kasih, saya cek dulu ya. Mohon tunggu sebentar.",
        "en": "Thank you, let me check that for you. One moment please.",
    }),
    Snippet("token-resend", "Token sent again", {
        "id": "Token Anda sudah kami kirim ulang. Silakan masukkan 20 digit token ke meter.",
        "en": "We have sent your token again. Please enter the 20-digit token on your meter.",
    }),
    Snippet("closing", "Anything else? / goodbye", {
        "id": "Ada lagi yang bisa saya bantu? Jika tidak, terima kasih sudah menghubungi kami.",
        "en": "Is there anything else I can help with? If not, thank you for contacting us.",
    }),
)  # fmt: skip


def snippet_from_body(key: str, body: object) -> Snippet:
    """Validate an admin's PUT body {"title": ..., "id": ..., "en": ...}."""
    if not KEY.fullmatch(key):
        raise Invalid("canned_key")
    if not isinstance(body, dict):
        raise Invalid("canned_body")
    title = body.get("title") or key
    if not isinstance(title, str) or len(title) > MAX_TITLE:
        raise Invalid("canned_title", limit=MAX_TITLE)
    texts = {lang: clean_text(body[lang]) for lang in LANGUAGES if body.get(lang)}
    if not texts:
        raise Invalid("canned_text")
    for text in texts.values():
        for name in VARIABLE.findall(text):
            if name not in VARIABLES:
                raise Invalid("canned_variable", name=name, known=", ".join(VARIABLES))
    return Snippet(key, title.strip() or key, texts)


class Canned:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def all(self) -> list[Snippet]:
        async with self._store.guard():
            if await self._store.redis.set(keys.canned_seeded(), "1", nx=True):
                await self._store.redis.hset(
                    keys.canned(), mapping={s.key: s.to_json() for s in DEFAULTS}
                )
            rows = await self._store.redis.hgetall(keys.canned())
        return [Snippet.from_json(k, v) for k, v in sorted(rows.items())]

    async def put(self, snippet: Snippet) -> None:
        await self.all()  # seed first, so the defaults do not overwrite an early edit later
        async with self._store.guard():
            await self._store.redis.hset(keys.canned(), snippet.key, snippet.to_json())

    async def delete(self, key: str) -> None:
        await self.all()
        async with self._store.guard():
            if not await self._store.redis.hdel(keys.canned(), key):
                raise NotFound("no_canned", key=key)
