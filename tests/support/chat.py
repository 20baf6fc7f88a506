"""A customer in the web chat, for conversation tests: open a conversation, say things, press
buttons, read the history — with the conversation's secret, as the page does."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

# The sandbox provider's demo customers (bot/sandbox/data.py).
BUDI = "14234567890"  # prepaid, BUDI SANTOSO, R1/1300 VA
SITI = "32109876543"  # prepaid, SITI RAHAYU
HENDRA_ID = "532100556677"  # postpaid, unpaid bill of Rp287.450
TOKEN = re.compile(r"\d{4}-\d{4}-\d{4}-\d{4}-\d{4}")


SECRET_HEADER = "X-Loket-Chat-Secret"


async def open_chat(client: TestClient, chat_id: str) -> str:
    """Open the web-chat conversation `chat_id`; returns its secret."""
    resp = await client.post("/chat/api/conversations", json={"chat_id": chat_id})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["chat_id"] == chat_id
    return str(body["secret"])


class Customer:
    def __init__(self, client: TestClient, chat_id: str) -> None:
        self.client = client
        self.chat_id = chat_id
        self.secret = ""
        self.replies: list[dict[str, Any]] = []

    async def _headers(self) -> dict[str, str]:
        if not self.secret:
            self.secret = await open_chat(self.client, self.chat_id)
        return {SECRET_HEADER: self.secret}

    async def _post(self, body: dict[str, str]) -> str:
        resp = await self.client.post(
            "/chat/api/messages",
            json={"chat_id": self.chat_id, **body},
            headers=await self._headers(),
        )
        assert resp.status == 200, await resp.text()
        self.replies = (await resp.json())["replies"]
        return self.text

    async def history(self, after: str = "") -> list[dict[str, Any]]:
        resp = await self.client.get(
            "/chat/api/messages",
            params={"chat_id": self.chat_id, "after": after},
            headers=await self._headers(),
        )
        assert resp.status == 200, await resp.text()
        messages: list[dict[str, Any]] = (await resp.json())["messages"]
        return messages

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
