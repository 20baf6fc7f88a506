"""The inbox's place in the gateway: `setup()` adds its pages, login, logout and JSON API.

Pages are static files (no build step, no CDN); only the login page is filled in, with its
words in the chosen language, its form's CSRF token and a message, all HTML-escaped. Every
response carries a strict Content-Security-Policy: scripts only from this server, no inline
script at all.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from handoff.inbox import api, language, reports, trainer
from handoff.inbox.auth import (
    COOKIE,
    CSRF_HEADER,
    LOGIN_COOKIE,
    is_https,
    same_origin,
    session_caller,
    set_session_cookie,
)
from handoff.inbox.errors import Forbidden, TooManyAttempts
from handoff.inbox.parts import PARTS, Parts
from handoff.inbox.services import InboxServices

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
# What /inbox/static/ serves: the stylesheet, the page's modules and its dictionaries.
ASSET = re.compile(
    r"inbox\.css|js/[a-z0-9]+\.js|i18n/[a-z]{2}\.json|analytics\.css|vendor/[a-z]+\.min\.(js|css)"
)
TYPES = {".css": "text/css", ".js": "text/javascript", ".json": "application/json"}
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make form posts send Origin: null
    "Cache-Control": "no-store",
}


_PLACEHOLDER = re.compile(r"\{\{([a-z_.]+)\}\}")


def login_page(
    lang: str, csrf: str, message: str = "", name: str = "", status: int = 200
) -> web.Response:
    template = (STATIC / "login.html").read_text(encoding="utf-8")
    values = {"lang": lang, "csrf": csrf, "name": name, "message": message}
    page = _PLACEHOLDER.sub(
        lambda m: html.escape(values.get(m.group(1), language.text(lang, m.group(1)))), template
    ).replace("{{message_hidden}}", "" if message else "hidden")
    return web.Response(text=page, content_type="text/html", status=status, headers=PAGE_HEADERS)


def _fresh_login_form(
    request: web.Request, message: str = "", name: str = "", status: int = 200, **params: object
) -> web.Response:
    """The login page; `message` is a dictionary key, `params` fill its placeholders."""
    csrf = secrets.token_urlsafe(24)
    lang = language.chosen(request)
    shown = language.text(lang, message, **params) if message else ""
    response = login_page(lang, csrf, shown, name, status)
    if request.query.get("lang") == lang:  # chosen on the login page: remembered here
        response.set_cookie(language.COOKIE, lang, path="/inbox", samesite="Strict",
                            max_age=365 * 24 * 3600)  # fmt: skip
    response.set_cookie(LOGIN_COOKIE, csrf, path="/inbox/login", httponly=True,
                        samesite="Strict", secure=is_https(request), max_age=3600)  # fmt: skip
    return response


async def inbox_page(request: web.Request) -> web.StreamResponse:
    if await session_caller(request) is None:
        raise web.HTTPSeeOther("/inbox/login")
    return web.FileResponse(STATIC / "inbox.html", headers=PAGE_HEADERS)


async def analytics_page(request: web.Request) -> web.StreamResponse:
    caller = await session_caller(request)
    if caller is None:
        raise web.HTTPSeeOther("/inbox/login")
    if not reports.may_see(caller.agent):
        raise web.HTTPSeeOther("/inbox")
    return web.FileResponse(STATIC / "analytics.html", headers=PAGE_HEADERS)


async def review_page(request: web.Request) -> web.StreamResponse:
    """The trainers' review (trainers and admins; anyone else goes to the inbox)."""
    caller = await session_caller(request)
    if caller is None:
        raise web.HTTPSeeOther("/inbox/login")
    if caller.agent.role.value not in ("trainer", "admin"):
        raise web.HTTPSeeOther("/inbox")
    return web.FileResponse(STATIC / "review.html", headers=PAGE_HEADERS)


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if not ASSET.fullmatch(name) or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(
        path,
        headers={"Content-Type": f"{TYPES[path.suffix]}; charset=utf-8",
                 "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )  # fmt: skip


async def login_form(request: web.Request) -> web.StreamResponse:
    if await session_caller(request) is not None:
        raise web.HTTPSeeOther("/inbox")
    return _fresh_login_form(request)


async def login(request: web.Request) -> web.StreamResponse:
    parts = request.app[PARTS]
    form = await request.post()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    expected = request.cookies.get(LOGIN_COOKIE, "")
    presented = str(form.get("csrf", ""))
    if not same_origin(request) or not expected or not secrets.compare_digest(expected, presented):
        return _fresh_login_form(request, "login.expired", name, status=403)
    address = parts.address_of(request.remote, request.headers.get("X-Forwarded-For"))
    try:
        # Reserved before the (slow) password check: concurrent guesses cannot all slip in.
        reservation = await parts.limiter.reserve(name, address)
    except TooManyAttempts as exc:
        log.warning("login for %r refused: too many failures", name[:32])
        wait = "login.too_many" if exc.code == "too_many_logins" else "login.too_many_seconds"
        response = _fresh_login_form(request, wait, name, status=429, **exc.params)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    agent = await parts.accounts.verify(name, password)
    if agent is None:
        log.info("failed login for %r", name[:32])
        return _fresh_login_form(request, "login.wrong", name, status=401)
    await parts.limiter.succeeded(reservation)
    token, _ = await parts.sessions.open(agent.name)
    log.info("%s signed in", agent.name)
    response = web.HTTPSeeOther("/inbox")
    set_session_cookie(response, request, token)
    response.del_cookie(LOGIN_COOKIE, path="/inbox/login")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    parts = request.app[PARTS]
    caller = await session_caller(request)
    if caller is not None and caller.session is not None:
        form = await request.post()
        presented = request.headers.get(CSRF_HEADER) or str(form.get("csrf", ""))
        if not same_origin(request) or not caller.session.csrf_ok(presented):
            return api.respond_error(Forbidden("csrf"))
        await parts.sessions.end(caller.token)
        await parts.presence.leave(caller.agent.name)
        log.info("%s signed out", caller.agent.name)
    response = web.HTTPSeeOther("/inbox/login")
    response.del_cookie(COOKIE, path="/inbox")
    raise response


def setup(app: web.Application, services: Callable[[], InboxServices]) -> None:
    """Add the inbox to `app`. `services` is called once the app's resources exist (at start),
    so append this after the cleanup context that creates them."""

    async def parts_ctx(app: web.Application) -> AsyncIterator[None]:
        app[PARTS] = Parts.build(services())
        yield

    async def end_streams(app: web.Application) -> None:
        if PARTS in app:
            await app[PARTS].live.close()
            await app[PARTS].outreach.close()

    app.cleanup_ctx.append(parts_ctx)
    app.on_shutdown.append(end_streams)  # type: ignore[arg-type]  # aiohttp's Signal typing
    app.router.add_get("/inbox", inbox_page)
    app.router.add_get("/inbox/login", login_form)
    app.router.add_post("/inbox/login", login)
    app.router.add_post("/inbox/logout", logout)
    app.router.add_get("/inbox/static/{name:.+}", asset)
    app.router.add_get("/inbox/review", review_page)
    for method, path, view in (*api.ROUTES, *trainer.ROUTES):
        app.router.add_route(method, path, api.guarded(view))
    app.router.add_get("/inbox/analytics", analytics_page)
    reports.setup(app, services)
