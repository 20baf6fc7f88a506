"""Who is asking: a browser session (cookie + CSRF token) or an integration's API token."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from handoff.inbox.accounts import Agent
from handoff.inbox.errors import Forbidden, NotSignedIn
from handoff.inbox.parts import PARTS
from handoff.inbox.sessions import Session

COOKIE = "loket_session"
LOGIN_COOKIE = "loket_login"  # the login form's CSRF token (double submit)
CSRF_HEADER = "X-CSRF-Token"
# Sent by the page on requests it makes by itself (refreshes after a live event): they do not
# keep an idle session alive. The live event stream never does either.
BACKGROUND_HEADER = "X-Loket-Background"
EVENTS_PATH = "/inbox/api/events"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Caller:
    agent: Agent
    session: Session | None = None  # None when the request carried an API token
    token: str = ""  # the session cookie's token, or the API token


def is_https(request: web.Request) -> bool:
    # Only ever makes the cookie stricter, so trusting the proxy's header here is harmless.
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    response.set_cookie(
        COOKIE, token, path="/inbox", httponly=True, samesite="Strict", secure=is_https(request)
    )


def same_origin(request: web.Request) -> bool:
    """False when the browser says the form was posted from another site."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    host = origin.split("://", 1)[-1]
    return host == request.host


def is_background(request: web.Request) -> bool:
    """A request the page made by itself, not the agent: it is no sign of activity."""
    return request.headers.get(BACKGROUND_HEADER) == "1" or request.path == EVENTS_PATH


async def session_caller(request: web.Request) -> Caller | None:
    """The signed-in agent of the session cookie, or None (no CSRF check: for pages)."""
    parts = request.app[PARTS]
    token = request.cookies.get(COOKIE, "")
    session = await parts.sessions.get(token, touch=not is_background(request))
    if session is None:
        return None
    agent = await parts.accounts.get(session.agent)
    if agent is None:
        await parts.sessions.end(token)
        return None
    return Caller(agent, session, token)


async def authenticate(request: web.Request) -> Caller:
    """The caller of an API request; raises NotSignedIn or Forbidden (CSRF)."""
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotSignedIn("token_scheme")
        agent = await request.app[PARTS].accounts.by_token(token.strip())
        if agent is None:
            raise NotSignedIn("token_invalid")
        return Caller(agent, token=token.strip())
    caller = await session_caller(request)
    if caller is None or caller.session is None:
        raise NotSignedIn("sign_in")
    if request.method not in SAFE_METHODS and not caller.session.csrf_ok(
        request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden("csrf")
    return caller


async def still_signed_in(request: web.Request, caller: Caller) -> bool:
    """Whether the caller's session or API token still stands for the same account (a long
    request, the live event stream, asks again now and then): logout, a password change, a
    new token or removing the account end it. Never counts as activity."""
    parts = request.app[PARTS]
    if caller.session is None:
        agent = await parts.accounts.by_token(caller.token)
    else:
        session = await parts.sessions.get(caller.token, touch=False)
        agent = await parts.accounts.get(session.agent) if session is not None else None
    return agent == caller.agent
