"""A local server speaking the `loket` Rasa channel's wire format (bot/assistant/input_channel.py)
and the bits of Rasa's HTTP API the gateway calls: for tests of the gateway's Rasa pool."""

from __future__ import annotations

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
        app = web.Application()
        app.router.add_post("/webhooks/loket/webhook", self._message)
        app.router.add_get("/status", self._status)
        app.router.add_post("/conversations/{cid}/tracker/events", self._event)
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
        return web.json_response(rasa_answer(f"{self.name} heard {body['message']}"))

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response({"model_file": f"{self.name}.tar.gz", "model_id": self.name})

    async def _event(self, request: web.Request) -> web.Response:
        self.events.append((request.match_info["cid"], (await request.json())["event"]))
        return web.json_response({})
