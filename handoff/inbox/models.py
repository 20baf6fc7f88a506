"""The trainers' model page: the serving model's held-out report (the confusion matrix too), the
deploy history, and starting a retrain, a deploy or a rollback with its progress.

Trainers and admins only. A job is queued in Redis (handoff/deploys.py) and carried out by the
gateway's model job runner; one job at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.core.scores import (
    CONFUSION_PNG,
    REPORT_HTML,
    Scores,
    all_scores,
    model_id,
    read_scores,
    reports_dir,
)
from handoff.deploys import JOB_KINDS, Deploys
from handoff.inbox import api
from handoff.inbox.auth import Caller, session_caller
from handoff.inbox.errors import Conflict, Forbidden, Invalid, NotFound
from handoff.inbox.web import PAGE_HEADERS
from handoff.store import Store

STATIC = Path(__file__).resolve().parent.parent / "static"
MODEL_ID = re.compile(r"[A-Za-z0-9_.-]{1,80}")
FILES = {CONFUSION_PNG: "image/png", REPORT_HTML: "text/html; charset=utf-8"}
# The report page is Loket's own file; its one inline style sheet is allowed, nothing else.
REPORT_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


@dataclass(frozen=True, slots=True)
class ModelDesk:
    deploys: Deploys
    data_dir: Path


DESK = web.AppKey("model_desk", ModelDesk)


def _trainer(caller: Caller) -> None:
    if caller.agent.role.value not in ("trainer", "admin"):
        raise Forbidden("trainers_only")


def _summary(scores: Scores | None) -> dict[str, Any] | None:
    if scores is None:
        return None
    data = scores.to_json()
    data["misses"] = data["misses"][:50]
    data["missed"] = len(scores.misses)
    base = f"/inbox/api/models/{scores.model}/"
    data["png"], data["html"] = base + CONFUSION_PNG, base + REPORT_HTML
    return data


async def overview(request: web.Request, caller: Caller) -> web.StreamResponse:
    _trainer(caller)
    desk = request.app[DESK]
    history = await desk.deploys.history(20)
    serving = history[0] if history else None
    reports = all_scores(desk.data_dir)
    serving_scores = read_scores(desk.data_dir, serving.model_file) if serving else None
    latest = reports[0] if reports else None
    job = await desk.deploys.latest_job()
    return api.answer({
        "serving": serving.to_json() if serving else None,
        "history": [d.to_json() for d in history],
        "report": _summary(serving_scores),
        "latest_report": _summary(latest) if latest and latest != serving_scores else None,
        "job": job.to_json() if job else None,
    })  # fmt: skip


async def start_job(request: web.Request, caller: Caller) -> web.StreamResponse:
    _trainer(caller)
    body = await api.body_of(request)
    kind, model = body.get("kind"), body.get("model", "")
    if kind not in JOB_KINDS:
        raise Invalid("bad_filter", name="kind", choices=", ".join(JOB_KINDS))
    if not isinstance(model, str) or (model and not MODEL_ID.fullmatch(model)):
        raise Invalid("model_name")
    if kind == "deploy" and not model:
        raise Invalid("model_name")
    desk = request.app[DESK]
    running = await desk.deploys.latest_job()
    if running is not None and running.status in ("queued", "running"):
        raise Conflict("model_job_busy", kind=running.kind, by=running.by)
    job = await desk.deploys.queue(kind, caller.agent.name, model)
    return api.answer({"job": job.to_json()}, status=202)


async def job(request: web.Request, caller: Caller) -> web.StreamResponse:
    _trainer(caller)
    found = await request.app[DESK].deploys.job(request.match_info["job"][:40])
    if found is None:
        raise NotFound("no_model_job", id=request.match_info["job"][:40])
    return api.answer({"job": found.to_json()})


async def report_file(request: web.Request, caller: Caller) -> web.StreamResponse:
    _trainer(caller)
    name, file = request.match_info["model"], request.match_info["file"]
    if not MODEL_ID.fullmatch(name) or file not in FILES:
        raise NotFound("no_report", id=name[:80])
    path = reports_dir(request.app[DESK].data_dir) / model_id(name) / file
    if not path.is_file():
        raise NotFound("no_report", id=name)
    headers = {"Content-Type": FILES[file], "X-Content-Type-Options": "nosniff",
               "Cache-Control": "no-store", "Content-Security-Policy": REPORT_CSP}  # fmt: skip
    return web.FileResponse(path, headers=headers)


async def page(request: web.Request) -> web.StreamResponse:
    caller = await session_caller(request)
    if caller is None:
        raise web.HTTPSeeOther("/inbox/login")
    return web.FileResponse(STATIC / "models.html", headers=PAGE_HEADERS)


ROUTES: tuple[tuple[str, str, api.View], ...] = (
    ("GET", "/inbox/api/models", overview),
    ("POST", "/inbox/api/models/jobs", start_job),
    ("GET", "/inbox/api/models/jobs/{job}", job),
    ("GET", "/inbox/api/models/{model}/{file}", report_file),
)


def setup(app: web.Application, store: Callable[[], Store], data_dir: Path) -> None:
    """The model page and its API; `store` is called once the app's resources exist."""

    async def ctx(app: web.Application) -> Any:
        app[DESK] = ModelDesk(Deploys(store()), data_dir)
        yield

    app.cleanup_ctx.append(ctx)
    app.router.add_get("/inbox/models", page)
    for method, path, view in ROUTES:
        app.router.add_route(method, path, api.guarded(view))
