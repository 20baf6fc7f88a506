"""Agent accounts, sessions, the login limiter and the `loket agents` command, on real Redis."""

from __future__ import annotations

import asyncio
import io

import pytest

from bot.ops import cli
from handoff import keys
from handoff.inbox import Accounts, AgentRole
from handoff.inbox.errors import AgentExists, Invalid, NotFound, TooManyAttempts
from handoff.inbox.ratelimit import LoginLimiter
from handoff.inbox.sessions import Sessions
from handoff.store import Store, now_ms
from tests.support.inbox import PASSWORD, add_agent


async def test_added_agent_signs_in_with_their_password_only(store: Store) -> None:
    await add_agent(store, "ana", "trainer")
    accounts = Accounts(store)
    agent = await accounts.verify("ana", PASSWORD)
    assert agent is not None and agent.role is AgentRole.TRAINER and not agent.works_queue
    assert await accounts.verify("ana", PASSWORD + "x") is None
    assert await accounts.verify("nobody", PASSWORD) is None


async def test_password_is_stored_as_argon2id_never_in_clear(store: Store) -> None:
    await add_agent(store, "ana")
    stored = await store.redis.hget(keys.agent("ana"), "password")
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_names_are_unique_and_checked(store: Store) -> None:
    accounts = Accounts(store)
    await add_agent(store, "ana")
    with pytest.raises(AgentExists):
        await accounts.add("ana", AgentRole.ADMIN, PASSWORD)
    for bad in ("", "-ana", "a b", "x" * 33, "ana:1"):
        with pytest.raises(Invalid):
            await accounts.add(bad, AgentRole.AGENT, PASSWORD)
    with pytest.raises(Invalid, match="at least 8"):
        await accounts.add("budi", AgentRole.AGENT, "short")
    assert [a.name for a in await accounts.all()] == ["ana"]


async def test_new_password_ends_sessions_and_removal_ends_everything(store: Store) -> None:
    accounts, sessions = Accounts(store), Sessions(store)
    await add_agent(store, "ana")
    token, _ = await sessions.open("ana")
    api_token = await accounts.issue_token("ana")
    await accounts.set_password("ana", "another good one")
    assert await sessions.get(token) is None
    assert await accounts.verify("ana", "another good one") is not None
    token, _ = await sessions.open("ana")
    await accounts.remove("ana")
    assert await sessions.get(token) is None
    assert await accounts.by_token(api_token) is None
    with pytest.raises(NotFound):
        await accounts.remove("ana")


async def test_api_token_is_stored_hashed_and_replaced_when_reissued(store: Store) -> None:
    accounts = Accounts(store)
    await add_agent(store, "ana")
    first = await accounts.issue_token("ana")
    second = await accounts.issue_token("ana")
    assert await accounts.by_token(first) is None
    found = await accounts.by_token(second)
    assert found is not None and found.name == "ana"
    dump = [await store.redis.get(k) for k in await store.redis.keys("*agent-token*")]
    assert dump == ["ana"] and not any(second in k for k in await store.redis.keys("*"))


async def test_session_token_is_not_the_redis_key(store: Store) -> None:
    token, session = await Sessions(store).open("ana")
    assert not any(token in k for k in await store.redis.keys("*"))
    again = await Sessions(store).get(token)
    assert again == session
    assert await Sessions(store).get(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


async def test_an_account_slows_down_after_three_failures_and_an_address_stops_at_twenty(
    store: Store,
) -> None:
    limiter = LoginLimiter(store)
    for _ in range(3):
        await limiter.reserve("ana", "10.0.0.1")  # each counted as failed until proven right
    with pytest.raises(TooManyAttempts) as caught:
        await limiter.reserve("ANA", "10.0.0.2")
    assert caught.value.retry_after == 1  # then 2, 4, 8 … seconds: a delay, not a lockout
    await limiter.reserve("budi", "10.0.0.1")  # other names from that address still may try
    for i in range(16):
        await limiter.reserve(f"name{i}", "10.0.0.1")
    with pytest.raises(TooManyAttempts) as caught:
        await limiter.reserve("siti", "10.0.0.1")
    assert 0 < caught.value.retry_after <= 15 * 60
    await limiter.reserve("siti", "10.0.0.3")


async def test_the_delay_doubles_up_to_its_longest_and_then_lets_the_owner_in(
    store: Store,
) -> None:
    limiter = LoginLimiter(store, free=1, base_delay_s=0.05, max_delay_s=0.2)
    waits = []
    for _ in range(5):
        while True:
            try:
                await limiter.reserve("ana", "10.0.0.1")
                break
            except TooManyAttempts:
                await asyncio.sleep(0.02)
        next_at = await store.redis.hget(keys.login_failures("name", "ana"), "next_at")
        waits.append(int(float(next_at or 0)) - now_ms())
    assert waits[0] <= 60 and 150 <= waits[-1] <= 200  # 50 ms, 100, 200, 200, 200
    await asyncio.sleep(0.25)
    reservation = await limiter.reserve("ana", "10.0.0.1")  # the owner, after the delay
    await limiter.succeeded(reservation)
    assert not await store.redis.exists(keys.login_failures("name", "ana"))
    assert await store.redis.get(keys.login_failures("ip", "10.0.0.1")) == "5"


def run_cli(monkeypatch: pytest.MonkeyPatch, redis_url: str, *argv: str, stdin: str = "") -> int:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli.main(list(argv))


def test_cli_adds_lists_tokens_and_removes_agents(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(monkeypatch, redis_url, "agents", "add", "ana", "--role", "admin",
                   "--password-stdin", stdin=PASSWORD + "\n") == 0  # fmt: skip
    assert "added ana (admin)" in capsys.readouterr().out
    assert run_cli(monkeypatch, redis_url, "agents", "add", "ana", "--role", "agent",
                   "--password-stdin", stdin=PASSWORD + "\n") == 2  # fmt: skip
    assert "already an agent called ana" in capsys.readouterr().err
    assert run_cli(monkeypatch, redis_url, "agents", "list") == 0
    assert "ana" in capsys.readouterr().out
    assert run_cli(monkeypatch, redis_url, "agents", "token", "ana") == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("lkt_")
    assert run_cli(monkeypatch, redis_url, "agents", "passwd", "ana", "--password-stdin",
                   stdin="short\n") == 2  # fmt: skip
    assert "at least 8" in capsys.readouterr().err
    assert run_cli(monkeypatch, redis_url, "agents", "remove", "ana") == 0
    assert run_cli(monkeypatch, redis_url, "agents", "remove", "ana") == 2
    assert "no agent called ana" in capsys.readouterr().err


def test_cli_asks_for_the_password_twice(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert run_cli(monkeypatch, redis_url, "agents", "add", "ana", "--role", "agent") == 2
    assert "do not match" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    assert run_cli(monkeypatch, redis_url, "agents", "add", "ana", "--role", "agent") == 0
