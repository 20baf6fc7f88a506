"""A customer in the web chat, for conversation tests: say things, press buttons."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

# The sandbox provider's demo customers (bot/sandbox/data.py).
BUDI = "14234567890"  # prepaid, BUDI SANTOSO, R1/1300 VA
SITI = "32109876543"  # prepaid, SITI RAHAYU
HENDRA_ID = "532100556677"  # postpaid, unpaid bill of Rp287.450
TOKEN = re.compile(r"\d{4}-\d{4}-\d{4}-\d{4}-\d{4}")


class Customer:
    def __init__(self, client: TestClient, chat_id: str) -> None:
        self.client = client
        self.chat_id = chat_id
        self.replies: list[dict[str, Any]] = []

    async def _post(self, body: dict[str, str]) -> str:
        resp = await self.client.post("/chat/api/messages", json={"chat_id": self.chat_id, **body})
        assert resp.status == 200, await resp.text()
        self.replies = (await resp.json())["replies"]
        return self.text

    async def say(self, text: str) -> str:
        """Send `text`; returns all reply texts joined, for `in` assertions."""
        return await self._post({"text": text})

    async def press(self, title: str) -> str:
        buttons = {b["title"]: b["payload"] for r in self.replies for b in r["buttons"]}
        assert title in buttons, f"no button {title!r} in {list(buttons)}"
        return await self._post({"text": title, "payload": buttons[title]})

    @property
    def text(self) -> str:
        return "\n".join(r["text"] for r in self.replies)

    @property
    def buttons(self) -> list[str]:
        return [b["title"] for r in self.replies for b in r["buttons"]]
