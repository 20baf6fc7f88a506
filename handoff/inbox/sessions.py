"""Server-side browser sessions: a random cookie token, its digest as the Redis key, a CSRF token.

The cookie holds 256 random bits; Redis holds only their sha256, so a copy of the database
opens no session. A session ends after `idle_s` without the agent doing anything (the page's
own background requests — live events, refreshes they trigger — do not count), after
`MAX_AGE_MS` in any case, on logout, and when the agent's password changes or the account is
removed.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from handoff import keys
from handoff.inbox.accounts import token_digest
from handoff.store import Store, now_ms

IDLE_S = 8 * 3600
MAX_AGE_MS = 24 * 3600 * 1000
_TOKEN_CHARS = 43  # token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Session:
    agent: str
    csrf: str  # sent back by the page in X-CSRF-Token (or the form field `csrf`)
    created_at: int

    def csrf_ok(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf, presented or "")


class Sessions:
    def __init__(self, store: Store, idle_s: int = IDLE_S) -> None:
        self._store = store
        self.idle_s = idle_s

    async def open(self, agent: str) -> tuple[str, Session]:
        """Start a session; returns the cookie token (never stored) and the session."""
        token = secrets.token_urlsafe(32)
        digest = token_digest(token)
        session = Session(agent, secrets.token_urlsafe(32), now_ms())
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=True)
            pipe.hset(
                keys.inbox_session(digest),
                mapping={"agent": agent, "csrf": session.csrf, "created_at": session.created_at},
            )
            pipe.expire(keys.inbox_session(digest), self.idle_s)
            pipe.sadd(keys.agent_sessions(agent), digest)
            await pipe.execute()
        return token, session

    async def get(self, token: str | None, *, touch: bool = True) -> Session | None:
        """The live session of a cookie token; None when there is none. `touch` (the agent
        did something) restarts its idle timer; the page's background requests do not."""
        if not token or len(token) != _TOKEN_CHARS:
            return None
        key = keys.inbox_session(token_digest(token))
        async with self._store.guard():
            pipe = self._store.redis.pipeline(transaction=False)
            pipe.hgetall(key)
            if touch:
                pipe.expire(key, self.idle_s)
            found = (await pipe.execute())[0]
        if not found or not found.get("agent"):
            return None
        session = Session(found["agent"], found.get("csrf", ""), int(found.get("created_at", 0)))
        if now_ms() - session.created_at > MAX_AGE_MS:
            await self.end(token)
            return None
        return session

    async def end(self, token: str | None) -> None:
        if not token or len(token) != _TOKEN_CHARS:
            return
        digest = token_digest(token)
        async with self._store.guard():
            agent = await self._store.redis.hget(keys.inbox_session(digest), "agent")
            pipe = self._store.redis.pipeline(transaction=True)
            pipe.delete(keys.inbox_session(digest))
            if agent:
                pipe.srem(keys.agent_sessions(agent), digest)
            await pipe.execute()
