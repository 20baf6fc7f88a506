"""Live updates: the inbox's Server-Sent Events stream over HTTP, against real Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from handoff.handoffs import Handoffs
from handoff.presence import Presence
from handoff.store import Store, now_ms
from tests.support.inbox import Browser, add_agent, conv_path, make_app, make_services, open_handoff


@pytest.fixture
async def server(store: Store) -> AsyncIterator[TestServer]:
    server = TestServer(make_app(make_services(store)))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def ana(store: Store, server: TestServer) -> AsyncIterator[Browser]:
    await add_agent(store, "ana")
    browser = Browser(server)
    await browser.login("ana")
    yield browser
    await browser.close()


async def next_event(resp: aiohttp.ClientResponse, timeout: float = 10) -> dict[str, Any]:
    """The next SSE message (one with an id), read line by line."""

    async def read() -> dict[str, Any]:
        event: dict[str, Any] = {}
        while True:
            line = (await resp.content.readline()).decode().rstrip("\n")
            if line.startswith("id: "):
                event["id"] = line[4:]
            elif line.startswith("data: "):
                event.update(json.loads(line[6:]))
            elif line == "" and "id" in event:
                return event

    return await asyncio.wait_for(read(), timeout)


async def test_a_new_handoff_reaches_open_inboxes_without_customer_text(
    store: Store, ana: Browser
) -> None:
    async with ana.http.get(ana.url("/inbox/api/events")) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        await open_handoff(store, "live", texts=("rahasia 1234", "petugas"))
        event = await next_event(resp)
    assert event["type"] == "request" and event["conversation"] == "webchat:live"
    assert event["data"]["reason"] == "asked_for_human"
    assert "rahasia" not in json.dumps(event)


async def test_customer_message_and_agent_actions_are_events(store: Store, ana: Browser) -> None:
    key = await open_handoff(store, "acts")
    async with ana.http.get(ana.url("/inbox/api/events")) as resp:
        await ana.call("POST", conv_path(key, "claim"))
        assert (await next_event(resp))["type"] == "claim"
        await Handoffs(store).customer_wrote(key, "1-1")
        assert (await next_event(resp))["type"] == "message"
        await ana.call("POST", conv_path(key, "reply"), {"text": "halo"})
        reply = await next_event(resp)
        assert reply["type"] == "reply" and reply["data"]["agent"] == "ana"
        await ana.call("POST", conv_path(key, "notes"), {"text": "catatan"})
        assert (await next_event(resp))["type"] == "note"


async def test_reconnect_resumes_after_the_last_event_id(store: Store, ana: Browser) -> None:
    async with ana.http.get(ana.url("/inbox/api/events")) as resp:
        await open_handoff(store, "one")
        first = await next_event(resp)
    await open_handoff(store, "two")  # happens while the page is disconnected
    await open_handoff(store, "three")
    headers = {"Last-Event-ID": first["id"]}
    async with ana.http.get(ana.url("/inbox/api/events"), headers=headers) as resp:
        missed = [await next_event(resp), await next_event(resp)]
    assert [e["conversation"] for e in missed] == ["webchat:two", "webchat:three"]


async def test_a_connected_agent_is_online(store: Store, ana: Browser) -> None:
    presence = Presence(store)
    assert await presence.online(now_ms()) == []
    async with ana.http.get(ana.url("/inbox/api/events")) as resp:
        await open_handoff(store, "x")
        await next_event(resp)
        assert await presence.online(now_ms()) == ["ana"]
    async with ana.http.post(
        ana.url("/inbox/logout"), data={"csrf": ana.csrf}, allow_redirects=False
    ):
        pass
    assert await presence.online(now_ms()) == []


async def test_events_need_a_session(server: TestServer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(server.make_url("/inbox/api/events")) as resp,
    ):
        assert resp.status == 401


async def test_shutdown_ends_open_streams_at_once(store: Store) -> None:
    await add_agent(store, "ana")
    server = TestServer(make_app(make_services(store)))
    await server.start_server()
    browser = Browser(server)
    try:
        await browser.login("ana")
        resp = await browser.http.get(browser.url("/inbox/api/events"))
        await resp.content.readline()
        started = asyncio.get_running_loop().time()
        await server.close()
        assert asyncio.get_running_loop().time() - started < 5
        with pytest.raises(aiohttp.ClientPayloadError):  # cut: the page reconnects elsewhere
            await resp.content.read()
        resp.release()
    finally:
        await browser.close()
