"""The analytics API, for trainers and admins: the report as JSON and as CSV.

`GET /inbox/analytics` is the page (static, served by web.py like the inbox's; its charts come
from the uPlot file shipped under static/vendor/). `GET /inbox/api/analytics?from=&to=` is the
report of those days on the service's clock, `GET /inbox/api/analytics.csv?from=&to=&table=`
one table of it as a CSV download. A report reads every transcript of the period, so reports
are made one at a time per gateway and a finished one is kept for a short while (reloading
the page is free).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from handoff.analytics import BadPeriod, Period
from handoff.inbox import api
from handoff.inbox.accounts import Agent, AgentRole
from handoff.inbox.auth import Caller
from handoff.inbox.errors import Forbidden, Invalid
from handoff.inbox.services import InboxServices
from handoff.report import TABLES, Report, build
from handoff.store import Store

KEEP_S = 30.0  # a report is served again for this long
KEPT = 16  # reports kept at once (different periods)


class Reports:
    """Makes reports one at a time and keeps the last few for `KEEP_S` seconds."""

    def __init__(self, store: Store, zone: str, clock: Callable[[], float] = time.monotonic):
        self._store = store
        self.zone = zone
        self._clock = clock
        self._lock = asyncio.Lock()
        self._kept: OrderedDict[Period, tuple[float, Report]] = OrderedDict()

    def period(self, first: str | None, last: str | None) -> Period:
        today = datetime.now(ZoneInfo(self.zone)).date()
        try:
            return Period.parse(first or None, last or None, self.zone, today=today)
        except BadPeriod as exc:
            raise Invalid("bad_period", detail=str(exc)) from None

    async def report(self, period: Period) -> Report:
        async with self._lock:
            kept = self._kept.get(period)
            if kept is not None and self._clock() - kept[0] < KEEP_S:
                return kept[1]
            made = await build(self._store, period)
            self._kept[period] = (self._clock(), made)
            self._kept.move_to_end(period)
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
            return made


REPORTS = web.AppKey("reports", Reports)


def may_see(agent: Agent) -> bool:
    return agent.role in (AgentRole.TRAINER, AgentRole.ADMIN)


def _may_see(agent: Agent) -> None:
    if not may_see(agent):
        raise Forbidden("analytics_roles")


async def report(request: web.Request, caller: Caller) -> web.StreamResponse:
    _may_see(caller.agent)
    reports = request.app[REPORTS]
    period = reports.period(request.query.get("from"), request.query.get("to"))
    made = await reports.report(period)
    return api.answer({**made.as_json(), "tables": list(TABLES)})


async def report_csv(request: web.Request, caller: Caller) -> web.StreamResponse:
    _may_see(caller.agent)
    table = request.query.get("table", "daily")
    if table not in TABLES:
        raise Invalid("bad_filter", name="table", choices=", ".join(TABLES))
    reports = request.app[REPORTS]
    period = reports.period(request.query.get("from"), request.query.get("to"))
    made = await reports.report(period)
    name = f"loket-{table}-{period.first}-{period.last}.csv"
    return web.Response(
        text=made.csv(table),
        content_type="text/csv",
        charset="utf-8",
        headers={**api.NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def setup(app: web.Application, services: Callable[[], InboxServices]) -> None:
    """Add the API to the inbox's app (web.py serves the page); `services` is called at start."""

    async def reports_ctx(app: web.Application) -> AsyncIterator[None]:
        s = services()
        app[REPORTS] = Reports(s.store, s.settings.timezone)
        yield

    app.cleanup_ctx.append(reports_ctx)
    app.router.add_get("/inbox/api/analytics", api.guarded(report))
    app.router.add_get("/inbox/api/analytics.csv", api.guarded(report_csv))
