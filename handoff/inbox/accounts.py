"""Agent accounts: names, roles, Argon2id password hashes and API tokens, kept in Redis."""

from __future__ import annotations

import asyncio
import enum
import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from handoff import keys
from handoff.inbox.errors import AgentExists, Invalid, NotFound
from handoff.inbox.language import LANGUAGES
from handoff.store import Store, now_ms

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024

_ADD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'role', ARGV[2], 'password', ARGV[3], 'created_at', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""


class AgentRole(str, enum.Enum):
    AGENT = "agent"  # works the queue: claims, replies, notes, transfers, hands back, closes
    TRAINER = "trainer"  # reads conversations (to improve the bot), never writes to customers
    ADMIN = "admin"  # everything agents do, on any conversation, and edits canned replies


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    role: AgentRole
    created_at: int = 0
    language: str = "id"  # the inbox's language for this agent
    auto_assign: bool = True  # takes round-robin assignments while online

    @property
    def works_queue(self) -> bool:
        """May claim, reply to, transfer, hand back and close conversations."""
        return self.role in (AgentRole.AGENT, AgentRole.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is AgentRole.ADMIN

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role.value}

    def preferences(self) -> dict[str, object]:
        return {"language": self.language, "auto_assign": self.auto_assign}


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise Invalid("agent_name")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid("password_short", limit=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise Invalid("password_long", limit=MAX_PASSWORD)
    return password


def token_digest(token: str) -> str:
    """API tokens and session tokens are stored only as this digest."""
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, store: Store, hasher: PasswordHasher | None = None) -> None:
        self._store = store
        self._hasher = hasher or PasswordHasher()
        self._add = store.redis.register_script(_ADD)
        self._dummy: str | None = None  # verified against for unknown names: same timing

    async def _hash(self, password: str) -> str:
        # Argon2 is deliberately slow: keep it off the event loop.
        return await asyncio.to_thread(self._hasher.hash, password)

    async def add(self, name: str, role: AgentRole, password: str) -> Agent:
        check_name(name)
        hashed = await self._hash(check_password(password))
        created = now_ms()
        async with self._store.guard():
            added = await self._add(
                keys=[keys.agent(name), keys.agents()],
                args=[name, role.value, hashed, created],
            )
        if not added:
            raise AgentExists("agent_exists", name=name)
        return Agent(name, role, created)

    async def get(self, name: str) -> Agent | None:
        if not NAME.fullmatch(name):
            return None
        async with self._store.guard():
            role, created, language, auto = await self._store.redis.hmget(
                keys.agent(name), ["role", "created_at", "language", "auto_assign"]
            )
        if not role:
            return None
        return Agent(
            name, AgentRole(role), int(created or 0),
            language if language in LANGUAGES else LANGUAGES[0], auto != "0",
        )  # fmt: skip

    async def set_preferences(
        self, name: str, *, language: object = None, auto_assign: object = None
    ) -> Agent:
        """Change the agent's own inbox settings; raises Invalid naming a bad value."""
        changes: dict[str, str] = {}
        if language is not None:
            if language not in LANGUAGES:
                raise Invalid("preference", name="language", choices=", ".join(LANGUAGES))
            changes["language"] = str(language)
        if auto_assign is not None:
            if not isinstance(auto_assign, bool):
                raise Invalid("preference", name="auto_assign", choices="true, false")
            changes["auto_assign"] = "1" if auto_assign else "0"
        await self.require(name)
        if changes:
            async with self._store.guard():
                await self._store.redis.hset(keys.agent(name), mapping=changes)  # type: ignore[arg-type]
        return await self.require(name)

    async def require(self, name: str) -> Agent:
        agent = await self.get(name)
        if agent is None:
            raise NotFound("no_agent", name=name)
        return agent

    async def all(self) -> list[Agent]:
        async with self._store.guard():
            names = sorted(await self._store.redis.smembers(keys.agents()))
        found = [await self.get(name) for name in names]
        return [a for a in found if a is not None]

    async def verify(self, name: str, password: str) -> Agent | None:
        """The agent if the password is theirs; None otherwise (unknown names take as long)."""
        stored = ""
        if NAME.fullmatch(name) and len(password) <= MAX_PASSWORD:
            async with self._store.guard():
                stored = await self._store.redis.hget(keys.agent(name), "password") or ""
        known = bool(stored)
        if not known:
            if self._dummy is None:
                self._dummy = await self._hash(secrets.token_hex(16))
            stored, password = self._dummy, password[:MAX_PASSWORD]
        try:
            await asyncio.to_thread(self._hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if not known:
            return None
        if self._hasher.check_needs_rehash(stored):
            rehashed = await self._hash(password)
            async with self._store.guard():
                await self._store.redis.hset(keys.agent(name), "password", rehashed)
        return await self.get(name)

    async def set_password(self, name: str, password: str) -> None:
        """Change the password and end every session of the agent."""
        await self.require(name)
        hashed = await self._hash(check_password(password))
        async with self._store.guard():
            await self._store.redis.hset(keys.agent(name), "password", hashed)
        await self.end_sessions(name)

    async def remove(self, name: str) -> None:
        """Delete the account, its API token and its sessions."""
        await self.require(name)
        await self.end_sessions(name)
        async with self._store.guard():
            old = await self._store.redis.hget(keys.agent(name), "token")
            pipe = self._store.redis.pipeline(transaction=True)
            if old:
                pipe.delete(keys.agent_token(old))
            pipe.delete(keys.agent(name), keys.agent_conversations(name), keys.agent_seen(name))
            pipe.srem(keys.agents(), name)
            await pipe.execute()

    async def end_sessions(self, name: str) -> None:
        async with self._store.guard():
            digests = await self._store.redis.smembers(keys.agent_sessions(name))
            pipe = self._store.redis.pipeline(transaction=True)
            for digest in digests:
                pipe.delete(keys.inbox_session(digest))
            pipe.delete(keys.agent_sessions(name))
            await pipe.execute()

    async def issue_token(self, name: str) -> str:
        """A new API token for integrations; the previous one stops working. Shown once."""
        await self.require(name)
        token = "lkt_" + secrets.token_urlsafe(32)
        digest = token_digest(token)
        async with self._store.guard():
            old = await self._store.redis.hget(keys.agent(name), "token")
            pipe = self._store.redis.pipeline(transaction=True)
            if old:
                pipe.delete(keys.agent_token(old))
            pipe.set(keys.agent_token(digest), name)
            pipe.hset(keys.agent(name), "token", digest)
            await pipe.execute()
        return token

    async def by_token(self, token: str) -> Agent | None:
        if not token or len(token) > 200:
            return None
        async with self._store.guard():
            name = await self._store.redis.get(keys.agent_token(token_digest(token)))
        return await self.get(name) if name else None
