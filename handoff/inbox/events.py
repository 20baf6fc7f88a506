"""Live updates for open inboxes: Server-Sent Events read from the inbox's Redis event stream.

Each connected page gets every event after the one it saw last (`Last-Event-ID`, which is the
stream id, so a reconnect resumes without a gap). Every `recheck_s` the stream asks whether
its caller is still signed in; after a logout, a password change or the account's removal it
sends a `signed-out` event and ends. Events carry ids and states, never customer
text: the page fetches what changed through the authorised API. While an agent who works the
queue is connected, their presence is kept fresh, so the bot can tell customers someone is on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.core.ids import is_stream_id
from handoff import keys
from handoff.inbox.accounts import Agent
from handoff.presence import Presence
from handoff.store import Store, now_ms

log = logging.getLogger(__name__)

BLOCK_MS = 2500  # one XREAD wait; below the Redis client's 5 s socket timeout
HEARTBEAT_MS = 30_000  # presence refresh (it expires after 90 s)
BATCH = 100
RETRY_MS = 3000  # how soon the browser reconnects after a drop
RECHECK_S = 15.0  # how often an open stream checks that its caller is still signed in
SIGNED_OUT = b"event: signed-out\ndata: {}\n\n"


def frame(entry_id: str, fields: dict[str, str]) -> bytes:
    """One SSE message: `id:` is the stream id, `data:` one line of JSON."""
    try:
        data: Any = json.loads(fields.get("data") or "{}")
    except ValueError:
        data = {}
    body = {"type": fields.get("type", ""), "conversation": fields.get("conversation", ""),
            "ts": int(fields.get("ts") or 0), "data": data}  # fmt: skip
    return f"id: {entry_id}\ndata: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


class LiveEvents:
    """Serves the event stream; owns the open streams and ends them when the app shuts down."""

    def __init__(self, store: Store, presence: Presence, recheck_s: float = RECHECK_S) -> None:
        self._store = store
        self._presence = presence
        self.recheck_s = recheck_s
        self._streams: set[asyncio.Task[Any]] = set()
        self._closing = False

    @property
    def open_streams(self) -> int:
        return len(self._streams)

    async def _start(self, last_event_id: str) -> str:
        if is_stream_id(last_event_id):
            return last_event_id
        async with self._store.guard():
            newest = await self._store.redis.xrevrange(keys.inbox_events(), count=1)
        return str(newest[0][0]) if newest else "0-0"

    async def _read(self, after: str) -> list[tuple[str, dict[str, str]]]:
        async with self._store.guard():
            found = await self._store.redis.xread(
                {keys.inbox_events(): after}, count=BATCH, block=BLOCK_MS
            )
        return [(str(i), f) for _, rows in found or () for i, f in rows]

    async def serve(
        self, request: web.Request, agent: Agent, still_allowed: Callable[[], Awaitable[bool]]
    ) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        try:
            return await self._serve(request, agent, still_allowed)
        finally:
            self._streams.discard(task)

    async def _serve(
        self, request: web.Request, agent: Agent, still_allowed: Callable[[], Awaitable[bool]]
    ) -> web.StreamResponse:
        resume = request.headers.get("Last-Event-ID") or request.query.get("after", "")
        after = await self._start(resume)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # nginx: pass each event on at once
            }
        )
        await response.prepare(request)
        beat = 0
        checked = asyncio.get_running_loop().time()
        try:
            await response.write(f"retry: {RETRY_MS}\n: connected\n\n".encode())
            while not self._closing:
                if asyncio.get_running_loop().time() - checked >= self.recheck_s:
                    checked = asyncio.get_running_loop().time()
                    if not await still_allowed():
                        log.info("%s: event stream ended: no longer signed in", agent.name)
                        await response.write(SIGNED_OUT)
                        break
                if agent.works_queue and now_ms() - beat >= HEARTBEAT_MS:
                    beat = now_ms()
                    await self._presence.heartbeat(agent.name, beat)
                rows = await self._read(after)
                for entry_id, fields in rows:
                    await response.write(frame(entry_id, fields))
                    after = entry_id
                if not rows:
                    await response.write(b": ping\n\n")  # finds a closed connection
        except (ConnectionResetError, ConnectionError):
            log.debug("%s: event stream closed by the browser", agent.name)
        return response

    async def close(self) -> None:
        """End every open stream (the app is shutting down; aiohttp would wait for them).

        A cancellation that lands while redis-py sets up a connection can be lost, so the
        streams also stop at their next turn of the loop (at most one XREAD wait later).
        """
        self._closing = True
        deadline = asyncio.get_running_loop().time() + BLOCK_MS / 1000 + 2
        while self._streams and asyncio.get_running_loop().time() < deadline:
            for task in list(self._streams):
                task.cancel()
            await asyncio.wait(list(self._streams), timeout=0.5)
