"""The gateway's client for the Rasa server's `loket` channel (bot/assistant/input_channel.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.core.errors import BotUnavailable, BotUnreachable
from bot.core.messages import (
    Button,
    ConversationKey,
    Entity,
    HandoffSignal,
    Inbound,
    IntentScore,
    Outbound,
    Turn,
    Understanding,
)

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Loket-Token"
HANDOFF_KEY = "loket_handoff"  # set by actions/replies.py; a contract with the actions


def _score(raw: Mapping[str, Any]) -> IntentScore | None:
    name = raw.get("name")
    if not isinstance(name, str):
        return None
    return IntentScore(name, float(raw.get("confidence") or 0.0))


def turn_from_rasa(conversation: ConversationKey, data: Mapping[str, Any]) -> Turn:
    """Convert the loket channel's JSON answer into a Turn (pure; tested on its own)."""
    replies = []
    handoff = None
    for message in data.get("messages") or []:
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get(HANDOFF_KEY), dict):
            signal = custom[HANDOFF_KEY]
            handoff = HandoffSignal(str(signal.get("reason") or "unknown"),
                                    str(signal.get("detail") or ""))  # fmt: skip
            continue
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
        handoff=handoff,
        actions=tuple(str(a) for a in data.get("actions") or []),
    )


class RasaClient:
    """Sends one customer message to Rasa and returns the turn it produced."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, token: str, timeout: float
    ) -> None:
        self._session = session
        self.url = base_url
        self._url = f"{base_url}/webhooks/loket/webhook"
        self._status_url = f"{base_url}/status"
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def _failure(self, exc: BaseException) -> BotUnavailable:
        """BotUnreachable when no connection was made (another worker may take the message),
        else BotUnavailable."""
        # Errors may quote the request URL, and /status and tracker URLs carry the token;
        # the message reaches /healthz details, logs and the agents' handoff detail.
        text = repr(exc).replace(self._token, "***") if self._token else repr(exc)
        if isinstance(exc, aiohttp.ClientConnectorError):
            return BotUnreachable(f"Rasa is unreachable: {text}")
        return BotUnavailable(f"Rasa failed: {text}")

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
            raise self._failure(exc) from exc
        return turn_from_rasa(inbound.conversation, data)

    async def pause(self, conversation: ConversationKey) -> None:
        """Pause Rasa's tracker: even a message that reached Rasa directly gets no answer."""
        await self._append_event(conversation, {"event": "pause"})

    async def resume(self, conversation: ConversationKey) -> None:
        await self._append_event(conversation, {"event": "resume"})

    async def _append_event(self, conversation: ConversationKey, event: dict[str, Any]) -> None:
        url = f"{self.url}/conversations/{conversation.id}/tracker/events"
        try:
            async with self._session.post(
                url, json=event, params={"token": self._token}, timeout=self._timeout
            ) as resp:
                if resp.status != 200:
                    raise BotUnavailable(f"Rasa answered {resp.status} to {event['event']}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise self._failure(exc) from exc

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
            raise self._failure(exc) from exc

    async def parse(self, text: str) -> IntentScore | None:
        """Rasa's `POST /model/parse`: the intent the serving model gives `text` (its NLU only:
        no tracker is read or written). BotUnavailable when Rasa does not answer."""
        try:
            async with self._session.post(
                f"{self.url}/model/parse", json={"text": text}, params={"token": self._token},
                timeout=self._timeout,
            ) as resp:  # fmt: skip
                if resp.status != 200:
                    raise BotUnavailable(f"Rasa /model/parse answered {resp.status}")
                data = await resp.json()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise self._failure(exc) from exc
        return _score(data.get("intent") or {}) if isinstance(data, dict) else None

    async def load_model(self, model_file: str, timeout: float) -> None:
        """Rasa's `PUT /model`: the worker loads `model_file` (a path on its own machine) and
        serves it from then on; BotUnavailable with Rasa's reason if it cannot, and the worker
        keeps its model. Rasa answers nothing else while it loads."""
        try:
            async with self._session.put(
                f"{self.url}/model",
                json={"model_file": model_file},
                params={"token": self._token},
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                if resp.status != 204:
                    raise BotUnavailable(f"Rasa refused the model ({resp.status}): "
                                         f"{_reason(await resp.text())}")  # fmt: skip
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise self._failure(exc) from exc


def _reason(body: str) -> str:
    """The `message` of a Rasa error answer, else the start of the body."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:300]
    return str(data.get("message") or body)[:300] if isinstance(data, dict) else body[:300]
