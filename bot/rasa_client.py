"""The gateway's client for the Rasa server's `loket` channel (bot/rasa_channel.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.errors import BotUnavailable
from bot.messages import (
    Button,
    ConversationKey,
    Entity,
    Inbound,
    IntentScore,
    Outbound,
    Turn,
    Understanding,
)

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Loket-Token"


def _score(raw: Mapping[str, Any]) -> IntentScore | None:
    name = raw.get("name")
    if not isinstance(name, str):
        return None
    return IntentScore(name, float(raw.get("confidence") or 0.0))


def turn_from_rasa(conversation: ConversationKey, data: Mapping[str, Any]) -> Turn:
    """Convert the loket channel's JSON answer into a Turn (pure; tested on its own)."""
    replies = []
    for message in data.get("messages") or []:
        text = message.get("text") or ""
        buttons = tuple(
            Button(str(b.get("title", "")), str(b.get("payload", "")))
            for b in message.get("buttons") or []
            if b.get("title") and b.get("payload")
        )
        if text or buttons:
            replies.append(Outbound(conversation, text, buttons))
    parse = data.get("parse") or {}
    ranking = tuple(s for s in map(_score, parse.get("intent_ranking") or []) if s is not None)
    entities = tuple(
        Entity(str(e["entity"]), str(e["value"]))
        for e in parse.get("entities") or []
        if e.get("entity") and e.get("value") is not None
    )
    understanding = Understanding(_score(parse.get("intent") or {}), ranking, entities)
    return Turn(
        replies=tuple(replies),
        understanding=understanding,
        slots=dict(data.get("slots") or {}),
        latest_action=data.get("latest_action"),
        paused=bool(data.get("paused")),
    )


class RasaClient:
    """Sends one customer message to Rasa and returns the turn it produced."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, token: str, timeout: float
    ) -> None:
        self._session = session
        self._url = f"{base_url}/webhooks/loket/webhook"
        self._status_url = f"{base_url}/status"
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, inbound: Inbound) -> Turn:
        body = {
            "sender": inbound.conversation.id,
            "message": inbound.bot_text,
            "metadata": {"channel": inbound.conversation.channel},
        }
        headers = {TOKEN_HEADER: self._token}
        try:
            async with self._session.post(
                self._url, json=body, headers=headers, timeout=self._timeout
            ) as resp:
                if resp.status != 200:
                    detail = (await resp.text())[:200]
                    raise BotUnavailable(f"Rasa answered {resp.status}: {detail}")
                data = await resp.json()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise BotUnavailable(f"Rasa is unreachable: {exc!r}") from exc
        return turn_from_rasa(inbound.conversation, data)

    async def status(self) -> dict[str, Any]:
        """Rasa's /status (model file, model id); raises BotUnavailable when it is down."""
        try:
            async with self._session.get(
                self._status_url,
                params={"token": self._token},
                timeout=aiohttp.ClientTimeout(total=3),
            ) as resp:
                if resp.status != 200:
                    raise BotUnavailable(f"Rasa /status answered {resp.status}")
                data: dict[str, Any] = await resp.json()
                return data
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise BotUnavailable(f"Rasa is unreachable: {exc!r}") from exc
