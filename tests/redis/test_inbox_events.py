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
from handoff.inbox import Accounts
from handoff.inbox.parts import PARTS
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


async def ends_signed_out(resp: aiohttp.ClientResponse, timeout: float = 10) -> bool:
    """Reads the stream to its end; True when its last event was `signed-out`."""

    async def read() -> bool:
        last = ""
        while line := (await resp.content.readline()).decode():
            if line.startswith("event: "):
                last = line[7:].strip()
        return last == "signed-out"

    return await asyncio.wait_for(read(), timeout)


@pytest.mark.parametrize("how", ["logout", "password", "removed", "new token"])
async def test_the_stream_ends_when_its_session_or_token_does(
    store: Store, server: TestServer, ana: Browser, how: str
) -> None:
    server.app[PARTS].live.recheck_s = 0.2
    accounts = Accounts(store)
    token = await accounts.issue_token("ana")
    bearer = aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"})
    try:
        async with (
            ana.http.get(ana.url("/inbox/api/events")) as by_cookie,
            bearer.get(ana.url("/inbox/api/events")) as by_token,
        ):
            assert by_cookie.status == by_token.status == 200
            await asyncio.sleep(0.5)  # both streams checked and still on
            if how == "logout":
                async with ana.http.post(
                    ana.url("/inbox/logout"), data={"csrf": ana.csrf}, allow_redirects=False
                ):
                    pass
            elif how == "password":
                await accounts.set_password("ana", "a new password!")
            elif how == "removed":
                await accounts.remove("ana")
            else:
                await accounts.issue_token("ana")
            ended = {"logout": [by_cookie], "password": [by_cookie], "new token": [by_token],
                     "removed": [by_cookie, by_token]}[how]  # fmt: skip
            for resp in ended:
                assert await ends_signed_out(resp)
    finally:
        await bearer.close()


async def test_the_live_stream_does_not_keep_an_idle_session_alive(store: Store) -> None:
    await add_agent(store, "ana")
    server = TestServer(make_app(make_services(store, idle_s=2)))
    await server.start_server()
    server.app[PARTS].live.recheck_s = 0.2
    browser = Browser(server)
    try:
        await browser.login("ana")
        async with browser.http.get(browser.url("/inbox/api/events")) as resp:
            for _ in range(3):  # what the page does by itself after live events
                await asyncio.sleep(0.5)
                async with browser.http.get(
                    browser.url("/inbox/api/queue"), headers={"X-Loket-Background": "1"}
                ) as queue:
                    assert queue.status == 200
            assert await ends_signed_out(resp, timeout=5)  # idle for 2 s: signed out
        assert (await browser.call("GET", "queue"))[0] == 401
    finally:
        await browser.close()
        await server.close()


async def test_what_the_agent_does_keeps_the_session_alive(store: Store) -> None:
    await add_agent(store, "ana")
    server = TestServer(make_app(make_services(store, idle_s=2)))
    await server.start_server()
    browser = Browser(server)
    try:
        await browser.login("ana")
        for _ in range(4):
            await asyncio.sleep(0.8)
            assert (await browser.call("GET", "queue"))[0] == 200  # the agent clicked
    finally:
        await browser.close()
        await server.close()


@pytest.mark.parametrize("cursor", ["99999999999999999999-0", "1-1\n", "١-١"])
async def test_a_malformed_last_event_id_starts_from_now(
    store: Store, ana: Browser, cursor: str
) -> None:
    async with (
        ana.http.get(
            ana.url("/inbox/api/events"), headers={"Last-Event-ID": cursor.replace("\n", "")}
        ) as resp,
        ana.http.get(ana.url("/inbox/api/events"), params={"after": cursor}) as by_query,
    ):
        assert resp.status == by_query.status == 200
        await open_handoff(store, "after-bad-cursor")
        assert (await next_event(resp))["conversation"] == "webchat:after-bad-cursor"
        assert (await next_event(by_query))["conversation"] == "webchat:after-bad-cursor"
