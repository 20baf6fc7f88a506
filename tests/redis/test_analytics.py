"""The analytics report over conversations seeded through the real router and inbox API on real
Redis, and the analytics page and API: who may see them, the CSV export, bad periods."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.core.messages import (
    ConversationKey,
    HandoffSignal,
    Inbound,
    IntentScore,
    Outbound,
    Turn,
    Understanding,
)
from handoff import Entry, Role, csat, keys
from handoff.analytics import Period
from handoff.report import build
from handoff.store import Store
from tests.redis.test_csat import rating_router
from tests.redis.test_router import RecordingBot
from tests.support.builders import make_inbound
from tests.support.cli import loket
from tests.support.inbox import Browser, add_agent, conv_path, make_app, make_services

ZONE = "Asia/Jakarta"


def script(inbound: Inbound) -> Turn:
    """The bot: greets, hands over when asked for a person or when the customer is angry."""
    key = inbound.conversation
    if inbound.text == "halo":
        return Turn((Outbound(key, "Halo!"),), Understanding(IntentScore("greet", 0.97)))
    reason = "asked_for_human" if inbound.text == "petugas" else "frustrated"
    intent = "human_handoff" if reason == "asked_for_human" else "complain"
    return Turn(
        (Outbound(key, "Baik, saya sambungkan"),),
        Understanding(IntentScore(intent, 0.9)),
        handoff=HandoffSignal(reason, ""),
    )


@pytest.fixture
async def server(store: Store) -> AsyncIterator[TestServer]:
    server = TestServer(make_app(make_services(store, reply_window={"whatsapp": 86400.0})))
    await server.start_server()
    yield server
    await server.close()


async def _signed_in(store: Store, server: TestServer, name: str, role: str) -> Browser:
    await add_agent(store, name, role)
    browser = Browser(server)
    assert (await browser.login(name)).status == 303
    return browser


async def _seed(store: Store, admin: Browser) -> dict[str, ConversationKey]:
    """Three conversations today: the bot alone on the web chat; a Telegram customer asks for
    a person, is answered, closed and rates 5; a WhatsApp customer is handed over angry and
    handed back without a reply."""
    router, _ = rating_router(store, RecordingBot(script))
    convs = {
        "web": ConversationKey("webchat", "alone"),
        "tg": ConversationKey("telegram", "7001"),
        "wa": ConversationKey("whatsapp", "6281200000001"),
    }
    for key, texts in ((convs["web"], ["halo", "halo"]), (convs["tg"], ["halo", "petugas"]),
                       (convs["wa"], ["kok lama sekali!!"])):  # fmt: skip
        for n, text in enumerate(texts):
            await router.handle(make_inbound(text, key, message_id=f"{key.chat_id}-{n}"))
    tg = convs["tg"]
    await router.handle(make_inbound("masih di sana?", tg, message_id="tg-wait"))
    assert (await admin.call("POST", conv_path(tg, "claim")))[0] == 200
    assert (await admin.call("POST", conv_path(tg, "reply"), {"text": "Ya, saya bantu"}))[0] == 201
    closed = await admin.call("POST", conv_path(tg, "close"), {"resolution": "solved"})
    assert closed == (200, {"status": "closed", "csat": "asked"})
    [handoff_id] = await store.redis.hkeys(keys.handoff_history(tg.id))
    await router.handle(make_inbound("5", tg, payload=csat.payload(handoff_id, 5)))
    assert (await admin.call("POST", conv_path(convs["wa"], "hand-back")))[0] == 200
    return convs


async def test_the_report_counts_the_seeded_conversations(store: Store, server: TestServer) -> None:
    admin = await _signed_in(store, server, "ana", "admin")
    try:
        await _seed(store, admin)
    finally:
        await admin.close()
    report = await build(store, Period.last_days(1, ZONE))
    t = report.totals
    assert (t["conversations"], t["contained"], t["handoffs"], t["messages"]) == (3, 1, 2, 6)
    assert t["containment"] == pytest.approx(1 / 3, abs=1e-4)
    assert t["handoff_rate"] == pytest.approx(2 / 3, abs=1e-4)
    [today] = report.days
    assert today["by_reason"] == {"asked_for_human": 1, "frustrated": 1}
    assert {r["reason"]: r["handoffs"] for r in report.by_reason} == {
        "asked_for_human": 1, "frustrated": 1,
    }  # fmt: skip
    assert {c["channel"]: (c["conversations"], c["contained"], c["handoffs"])
            for c in report.by_channel} == {
        "webchat": (1, 1, 0), "telegram": (1, 0, 1), "whatsapp": (1, 0, 1),
    }  # fmt: skip
    # "masih di sana?" went to the agents (waiting), not to the bot: no intent turn
    assert {i["intent"]: (i["messages"], i["handoffs"]) for i in report.by_intent} == {
        "greet": (3, 0), "human_handoff": (1, 1), "complain": (1, 1),
    }  # fmt: skip
    assert {r["resolution"]: r["handoffs"] for r in report.resolutions} == {
        "solved": 1, "handed_back": 1,
    }  # fmt: skip
    assert (report.first_reply["handoffs"], report.first_reply["replied"]) == (2, 1)
    assert report.first_reply["median_s"] is not None
    assert (report.csat["asked"], report.csat["answered"], report.csat["average"]) == (1, 1, 5.0)
    assert report.conversations_read == 3 and not report.truncated


async def test_only_the_most_recent_conversations_are_read_beyond_the_cap(
    store: Store, server: TestServer
) -> None:
    router, _ = rating_router(store, RecordingBot(script))
    for n in range(3):
        await router.handle(make_inbound("halo", ConversationKey("webchat", f"c{n}")))
    report = await build(store, Period.last_days(1, ZONE), max_conversations=2)
    assert report.truncated and report.conversations_read == 2
    assert report.totals["conversations"] == 2


async def test_trainers_and_admins_see_the_page_and_api_agents_do_not(
    store: Store, server: TestServer
) -> None:
    admin = await _signed_in(store, server, "ana", "admin")
    trainer = await _signed_in(store, server, "tia", "trainer")
    agent = await _signed_in(store, server, "budi", "agent")
    anonymous = Browser(server)
    try:
        await _seed(store, admin)
        status, body = await trainer.call("GET", "analytics")
        assert status == 200
        assert body["totals"]["conversations"] == 3 and body["csat"]["average"] == 5.0
        tables = ["daily", "reasons", "channels", "intents", "intents_daily", "resolutions"]
        assert body["tables"] == [*tables, "csat"]
        status, body = await agent.call("GET", "analytics")
        assert (status, body["code"]) == (403, "analytics_roles")
        status, _ = await anonymous.call("GET", "analytics")
        assert status == 401

        for who, where in ((trainer, 200), (agent, "/inbox"), (anonymous, "/inbox/login")):
            async with who.http.get(who.url("/inbox/analytics"), allow_redirects=False) as page:
                if where == 200:
                    assert page.status == 200
                    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
                    assert "/inbox/static/vendor/uplot.min.js" in await page.text()
                else:
                    assert (page.status, page.headers["Location"]) == (303, where)
        async with trainer.http.get(trainer.url("/inbox/static/vendor/uplot.min.js")) as js:
            assert js.status == 200 and js.content_type == "text/javascript"
            assert "uPlot" in (await js.text())[:200]
    finally:
        for b in (admin, trainer, agent, anonymous):
            await b.close()


async def test_csv_export_and_bad_periods(store: Store, server: TestServer) -> None:
    admin = await _signed_in(store, server, "ana", "admin")
    try:
        await _seed(store, admin)
        today = Period.last_days(1, ZONE).last.isoformat()
        url = admin.url(f"/inbox/api/analytics.csv?from={today}&to={today}&table=daily")
        async with admin.http.get(url) as resp:
            assert resp.status == 200 and resp.content_type == "text/csv"
            assert resp.headers["Content-Disposition"] == (
                f'attachment; filename="loket-daily-{today}-{today}.csv"'
            )
            rows = list(csv.DictReader(io.StringIO(await resp.text())))
        assert [(r["day"], r["conversations"], r["handoffs"], r["csat_average"]) for r in rows] == [
            (today, "3", "2", "5.0")
        ]
        assert rows[0]["handoffs_frustrated"] == "1"
        async with admin.http.get(admin.url("/inbox/api/analytics.csv?table=reasons")) as resp:
            reasons = list(csv.reader(io.StringIO(await resp.text())))
        assert reasons[0] == ["reason", "handoffs", "rate_pct"] and len(reasons) == 3

        for query, code in (("table=secret", "bad_filter"), ("from=2026-02-30", "bad_period"),
                            ("from=2026-12-09&to=2026-12-01", "bad_period"),
                            ("from=2020-01-01&to=2026-01-01", "bad_period")):  # fmt: skip
            path = "analytics.csv?" + query if "table" in query else "analytics?" + query
            status, body = await admin.call("GET", path)
            assert (status, body["code"]) == (400, code), query
    finally:
        await admin.close()


async def test_the_command_prints_the_report_and_writes_csv(
    store: Store, server: TestServer, redis_url: str, tmp_path: Path
) -> None:
    admin = await _signed_in(store, server, "ana", "admin")
    try:
        await _seed(store, admin)
    finally:
        await admin.close()
    env = {"REDIS_URL": redis_url, "LOKET_TIMEZONE": ZONE}
    printed = await asyncio.to_thread(loket, "report", "--days", "3", env=env)
    assert printed.returncode == 0, printed.stderr
    out = printed.stdout
    assert "conversations      3 (3 different, 6 customer messages)" in out
    assert "handled by the bot 1 (33.3% containment)" in out
    assert "handoffs           2 (66.7% of conversations)" in out
    assert "satisfaction       5.00/5 (1 of 1 asked answered)" in out
    assert re.search(r"^frustrated\s+1\s+33\.3%$", out, re.M)
    assert re.search(r"^solved\s+1$", out, re.M) and re.search(r"^handed_back\s+1$", out, re.M)
    target = tmp_path / "channels.csv"
    written = await asyncio.to_thread(
        loket, "report", "--csv", str(target), "--table", "channels", env=env
    )
    assert written.returncode == 0, written.stderr
    assert "wrote the channels table (3 row(s))" in written.stderr
    assert target.read_text().splitlines()[1] == "telegram,1,0,0.0,1,100.0"
    stdout_csv = await asyncio.to_thread(loket, "report", "--csv", "-", "--table", "csat", env=env)
    assert stdout_csv.stdout.splitlines()[1] == "1,1,100.0,5.0,0,0,0,0,1"
    for args, message in ((("--days", "0"), "must be 1 to 366"),
                          (("--days", "2", "--from", "2026-01-01"), "either --days"),
                          (("--from", "2026-12-31", "--to", "2026-01-01"), "is after"),
                          (("--csv", str(tmp_path / "no" / "x.csv")), "cannot write")):  # fmt: skip
        bad = await asyncio.to_thread(loket, "report", *args, env=env)
        assert bad.returncode == 2 and message in bad.stderr, (args, bad.stderr)


async def test_lines_before_the_period_are_not_read_but_their_status_counts(
    store: Store,
) -> None:
    """Handed over three days ago and still waiting: today's message is not contained, though
    the report reads only today's lines (the status comes from the handoff's record)."""
    period = Period.last_days(1, ZONE)
    cid = "telegram:4242"
    then = period.since_ms - 3 * 86_400_000
    today = period.since_ms + 3_600_000
    request = {"event": "request", "reason": "asked_for_human", "handoff_id": "h1"}
    lines = [
        (then, Entry(Role.CUSTOMER, "petugas", ts=then)),
        (then + 1, Entry(Role.SYSTEM, "Handed over", ts=then + 1, meta=request)),
        (today, Entry(Role.CUSTOMER, "halo?", ts=today)),
    ]
    for ms, entry in lines:  # stream ids of those days, as Redis gave them then
        fields: dict[str, str] = entry.to_fields()
        await store.redis.xadd(keys.transcript(cid), fields, id=f"{ms}-0")  # type: ignore[arg-type]
    await store.redis.hset(keys.handoff_history(cid), "h1", json.dumps({"at": then + 1}))
    await store.redis.zadd(keys.conversations_by_activity(), {cid: today})
    report = await build(store, period)
    t = report.totals
    assert (t["conversations"], t["contained"], t["handoffs"], t["messages"]) == (1, 0, 0, 1)
    assert report.by_intent == []  # the bot never saw it
