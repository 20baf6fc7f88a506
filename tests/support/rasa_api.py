"""A local server speaking the `loket` Rasa channel's wire format (bot/assistant/input_channel.py)
and the bits of Rasa's HTTP API the gateway calls: for tests of the gateway's Rasa pool."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.builders import rasa_answer


class FakeRasa:
    """One Rasa worker: answers every message with "<name> heard <text>", records what it got;
    `failing` makes it answer 500."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.heard: list[tuple[str, str]] = []  # (sender, message)
        self.events: list[tuple[str, str]] = []  # (conversation, event)
        self.failing = False
        self.answer_seconds = 0.0  # how long a turn takes
        self.model_file = f"{name}.tar.gz"
        self.loads: list[str] = []  # every model file PUT /model was asked to load
        self.refused_models: set[str] = set()  # these fail to load, as a broken archive would
        self.load_seconds = 0.0  # Rasa answers nothing else while it loads
        self.loading: tuple[float, float] | None = None  # the last load's (start, end)
        self.heard_at: list[float] = []  # when each message arrived (time.monotonic)
        # What each model file understands (`POST /model/parse`): text -> intent; any other
        # text falls back, as Rasa's FallbackClassifier would.
        self.understands: dict[str, dict[str, str]] = {}
        self.failing_parse = False
        app = web.Application()
        app.router.add_post("/webhooks/loket/webhook", self._message)
        app.router.add_get("/status", self._status)
        app.router.add_post("/conversations/{cid}/tracker/events", self._event)
        app.router.add_put("/model", self._load)
        app.router.add_post("/model/parse", self._parse)
        self.server = TestServer(app, host="127.0.0.1")

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def start(self, port: int | None = None) -> None:
        if port is not None:
            self.server = TestServer(self.server.app, host="127.0.0.1", port=port)
        await self.server.start_server()

    async def close(self) -> None:
        await self.server.close()

    async def _message(self, request: web.Request) -> web.Response:
        if self.failing:
            return web.json_response({"error": "boom"}, status=500)
        body: dict[str, Any] = await request.json()
        self.heard.append((body["sender"], body["message"]))
        self.heard_at.append(time.monotonic())
        await asyncio.sleep(self.answer_seconds)
        return web.json_response(rasa_answer(f"{self.name} heard {body['message']}"))

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({"model_file": self.model_file, "model_id": self.name})

    async def _parse(self, request: web.Request) -> web.Response:
        if request.query.get("token") != "token":
            return web.json_response({"message": "bad token"}, status=401)
        if self.failing_parse:
            return web.json_response({"error": "boom"}, status=500)
        text = (await request.json())["text"]
        known = self.understands.get(self.model_file, {})
        intent = {"name": known.get(text, "nlu_fallback"), "confidence": 0.9 if text in known
                  else 0.4}  # fmt: skip
        return web.json_response(
            {"text": text, "intent": intent, "entities": [], "intent_ranking": [intent]}
        )

    async def _load(self, request: web.Request) -> web.Response:
        if request.query.get("token") != "token":
            return web.json_response({"message": "bad token"}, status=401)
        model = (await request.json())["model_file"]
        self.loads.append(model)
        started = time.monotonic()
        await asyncio.sleep(self.load_seconds)
        self.loading = (started, time.monotonic())
        if model in self.refused_models:
            return web.json_response(
                {"status": "failure", "reason": "LoadingError",
                 "message": f"An unexpected error occurred. Error: cannot read {model}"},
                status=500,
            )  # fmt: skip
        self.model_file = model
        return web.Response(status=204)

    async def _event(self, request: web.Request) -> web.Response:
        self.events.append((request.match_info["cid"], (await request.json())["event"]))
        return web.json_response({})
