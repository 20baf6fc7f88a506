"""Signing in and out of the inbox, sessions, CSRF, API tokens and the login limit, over HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from handoff.inbox import Accounts, ratelimit
from handoff.store import Store, now_ms
from tests.support.inbox import PASSWORD, Browser, add_agent, make_app, make_services


@pytest.fixture
async def server(store: Store) -> AsyncIterator[TestServer]:
    server = TestServer(make_app(make_services(store)))
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def browser(server: TestServer) -> AsyncIterator[Browser]:
    b = Browser(server)
    yield b
    await b.close()


async def test_inbox_redirects_to_login_until_signed_in(store: Store, browser: Browser) -> None:
    await add_agent(store, "ana")
    async with browser.http.get(browser.url("/inbox"), allow_redirects=False) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/inbox/login"
    resp = await browser.login("ana")
    assert resp.status == 303 and resp.headers["Location"] == "/inbox"
    async with browser.http.get(browser.url("/inbox")) as page:
        assert page.status == 200
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        body = await page.text()
    assert 'src="/inbox/static/js/main.js"' in body and browser.csrf not in body


async def test_session_cookie_is_httponly_and_samesite_strict(
    store: Store, browser: Browser
) -> None:
    await add_agent(store, "ana")
    resp = await browser.login("ana")
    cookie = resp.cookies["loket_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/inbox"
    assert not cookie["secure"]  # plain http here; behind TLS see the next test
    assert len(cookie.value) == 43


async def test_cookie_is_secure_behind_an_https_proxy(store: Store, browser: Browser) -> None:
    await add_agent(store, "ana")
    async with browser.http.get(browser.url("/inbox/login")) as page:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert csrf
    async with browser.http.post(
        browser.url("/inbox/login"),
        data={"name": "ana", "password": PASSWORD, "csrf": csrf.group(1)},
        headers={"X-Forwarded-Proto": "https"},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 303
        assert resp.cookies["loket_session"]["secure"]


async def test_wrong_password_says_so_on_the_page(store: Store, browser: Browser) -> None:
    await add_agent(store, "ana")
    resp = await browser.login("ana", "wrong password")
    assert resp.status == 401
    assert "Nama atau kata sandi salah." in await resp.text()  # Indonesian unless chosen


async def test_the_login_page_speaks_the_language_chosen_in_this_browser(
    store: Store, browser: Browser
) -> None:
    async with browser.http.get(browser.url("/inbox/login")) as page:
        text = await page.text()
    assert '<html lang="id">' in text and "Kata sandi" in text and "{{" not in text
    async with browser.http.get(browser.url("/inbox/login?lang=en")) as page:
        text = await page.text()
        assert page.cookies["loket_lang"].value == "en"  # remembered for the next visit
    assert '<html lang="en">' in text and "Password" in text and "Kata sandi" not in text
    async with browser.http.get(browser.url("/inbox/login")) as page:
        assert '<html lang="en">' in await page.text()
    await add_agent(store, "ana")
    resp = await browser.login("ana", "wrong password")
    assert "Wrong name or password." in await resp.text()
    async with browser.http.get(browser.url("/inbox/login?lang=xx")) as page:
        assert '<html lang="en">' in await page.text()  # an unknown choice changes nothing
    assert "loket_session" not in resp.cookies


async def test_login_form_needs_its_csrf_token(store: Store, browser: Browser) -> None:
    await add_agent(store, "ana")
    async with browser.http.post(
        browser.url("/inbox/login"),
        data={"name": "ana", "password": PASSWORD, "csrf": "forged"},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 403
        assert "loket_session" not in resp.cookies


async def test_login_from_another_site_is_refused(store: Store, browser: Browser) -> None:
    await add_agent(store, "ana")
    async with browser.http.get(browser.url("/inbox/login")) as page:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert csrf
    async with browser.http.post(
        browser.url("/inbox/login"),
        data={"name": "ana", "password": PASSWORD, "csrf": csrf.group(1)},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 403


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The limiter's clock (ms), standing still until a test moves it: a password check that
    takes a second on a busy machine must not count as the wait."""
    now = [now_ms()]
    monkeypatch.setattr(ratelimit, "now_ms", lambda: now[0])
    return now


async def test_after_three_failures_logins_wait_a_moment_not_a_lockout(
    store: Store, browser: Browser, clock: list[int]
) -> None:
    await add_agent(store, "ana")
    for _ in range(3):
        assert (await browser.login("ana", "guess again")).status == 401
    resp = await browser.login("ana", PASSWORD)  # even the right password waits a moment
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "1"
    assert "Terlalu banyak percobaan gagal. Coba lagi dalam 1 detik." in await resp.text()
    clock[0] += 1100
    assert (await browser.login("ana", PASSWORD)).status == 303  # the owner is not locked out


async def test_concurrent_guesses_are_counted_before_the_password_is_checked(
    store: Store, server: TestServer, clock: list[int]
) -> None:
    """A burst of guesses at once: only the first three reach the (slow) password check."""
    await add_agent(store, "ana")
    browsers = [Browser(server) for _ in range(30)]
    try:
        answers = await asyncio.gather(
            *(b.login("ana", f"guess {i}") for i, b in enumerate(browsers))
        )
    finally:
        await asyncio.gather(*(b.close() for b in browsers))
    statuses = sorted(a.status for a in answers)
    assert statuses.count(401) == 3 and statuses.count(429) == 27, statuses


async def test_the_address_limit_sees_clients_through_a_trusted_proxy_only(store: Store) -> None:
    await add_agent(store, "ana")
    for trusted, shared in (("", True), ("127.0.0.1", False)):
        await store.redis.flushdb()
        server = TestServer(make_app(make_services(store, trusted_proxies=trusted)))
        await server.start_server()
        browser = Browser(server)
        try:
            for i in range(20):  # twenty names from one client behind the proxy
                resp = await browser.login(f"user{i}", "x" * 8, forwarded_for="198.51.100.1")
                assert resp.status == 401
            other = await browser.login("budi", "x" * 8, forwarded_for="198.51.100.2")
            assert other.status == (429 if shared else 401)
            spoofed = await browser.login("siti", "x" * 8, forwarded_for="1.2.3.4, 198.51.100.1")
            assert spoofed.status == 429  # the nearest hop is the client, the rest is theirs
        finally:
            await browser.close()
            await server.close()


async def test_api_needs_a_session_or_a_token(store: Store, browser: Browser) -> None:
    status, body = await browser.call("GET", "queue")
    assert status == 401 and body == {"error": "sign in first", "code": "sign_in", "params": {}}
    await add_agent(store, "ana")
    token = await Accounts(store).issue_token("ana")
    async with browser.http.get(
        browser.url("/inbox/api/queue"), headers={"Authorization": f"Bearer {token}"}
    ) as resp:
        assert resp.status == 200
    async with browser.http.get(
        browser.url("/inbox/api/queue"), headers={"Authorization": "Bearer lkt_nope"}
    ) as resp:
        assert resp.status == 401


async def test_state_changes_need_the_csrf_header_with_a_cookie(
    store: Store, browser: Browser
) -> None:
    await add_agent(store, "ana")
    await browser.login("ana")
    good = browser.csrf
    browser.csrf = "forged"
    status, body = await browser.call("POST", "conversations/webchat:x/claim")
    assert status == 403 and "X-CSRF-Token" in body["error"]
    browser.csrf = good
    status, _ = await browser.call("POST", "conversations/webchat:x/claim")
    assert status == 404


async def test_bearer_requests_need_no_csrf(store: Store, server: TestServer) -> None:
    await add_agent(store, "ana")
    token = await Accounts(store).issue_token("ana")
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            server.make_url("/inbox/api/conversations/webchat:x/claim"),
            headers={"Authorization": f"Bearer {token}"},
        ) as resp,
    ):
        assert resp.status == 404  # got past authentication: there is no such conversation


async def test_logout_ends_the_session(store: Store, browser: Browser) -> None:
    await add_agent(store, "ana")
    await browser.login("ana")
    cookie = browser.http.cookie_jar.filter_cookies(browser.server.make_url("/inbox"))
    stolen = cookie["loket_session"].value
    async with browser.http.post(
        browser.url("/inbox/logout"), data={"csrf": browser.csrf}, allow_redirects=False
    ) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/inbox/login"
    async with (
        aiohttp.ClientSession(cookies={"loket_session": stolen}) as http,
        http.get(browser.server.make_url("/inbox/api/me")) as resp,
    ):
        assert resp.status == 401


async def test_logout_without_csrf_is_refused(store: Store, browser: Browser) -> None:
    await add_agent(store, "ana")
    await browser.login("ana")
    async with browser.http.post(browser.url("/inbox/logout"), allow_redirects=False) as resp:
        assert resp.status == 403
    status, _ = await browser.call("GET", "me")
    assert status == 200


async def test_static_assets_are_served_and_nothing_else(browser: Browser) -> None:
    async with browser.http.get(browser.url("/inbox/static/js/main.js")) as resp:
        assert resp.status == 200 and "textContent" in await resp.text()
        assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
    async with browser.http.get(browser.url("/inbox/static/i18n/id.json")) as resp:
        assert resp.status == 200 and (await resp.json())["lists.waiting"] == "Menunggu"
    for missing in ("i18n/fr.json", "js/nothing.js", "js/../inbox.html", "inbox.html"):
        async with browser.http.get(browser.url("/inbox/static/" + missing)) as resp:
            assert resp.status == 404, missing
    async with browser.http.get(browser.url("/inbox/static/login.html")) as resp:
        assert resp.status == 404
    async with browser.http.get(browser.url("/inbox/static/..%2F..%2Fkeys.py")) as resp:
        assert resp.status == 404
