"""The trainers' model page over HTTP against real Redis: who may see it, the serving model's
report and confusion matrix, starting a retrain, deploy or rollback, one at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.ops import report
from bot.ops.evaluation import Prediction, score
from handoff import inbox
from handoff.deploys import Deploys
from handoff.store import Store
from tests.support.inbox import Browser, add_agent, make_app, make_services


def saved_report(data_dir: Path, name: str) -> None:
    predictions = [Prediction("halo", "greet", "greet", 0.9),
                   Prediction("beli <token>", "buy_token", "greet", 0.4)]  # fmt: skip
    scores = score(f"loket-{name}.tar.gz", "held.jsonl", predictions, 1.0)
    report.save(data_dir, scores, predictions, None)


@pytest.fixture
async def server(store: Store, tmp_path: Path) -> AsyncIterator[TestServer]:
    app = make_app(make_services(store))
    inbox.setup_models(app, lambda: store, tmp_path)
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()


async def browser(store: Store, server: TestServer, name: str, role: str) -> Browser:
    await add_agent(store, name, role)
    b = Browser(server)
    assert (await b.login(name)).status == 303
    return b


async def test_trainers_see_the_serving_models_report_and_its_png(
    store: Store, server: TestServer, tmp_path: Path
) -> None:
    saved_report(tmp_path, "aaa111")
    await Deploys(store).record("deploy", "aaa111", "/m/loket-aaa111.tar.gz", "ana", 0.5, "")
    tia = await browser(store, server, "tia", "trainer")
    agent = await browser(store, server, "budi", "agent")
    try:
        status, body = await tia.call("GET", "models")
        assert status == 200
        assert body["serving"]["model"] == "aaa111" and body["serving"]["by"] == "ana"
        got = body["report"]
        assert got["model"] == "aaa111" and got["missed"] == 1 and got["examples"] == 2
        assert got["misses"][0]["text"] == "beli <token>"
        async with tia.http.get(tia.url(got["png"])) as png:
            assert png.status == 200 and png.content_type == "image/png"
            assert (await png.read()).startswith(b"\x89PNG")
        async with tia.http.get(tia.url(got["html"])) as page:
            assert page.status == 200 and "beli &lt;token&gt;" in await page.text()
            assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        async with tia.http.get(tia.url("/inbox/api/models/..%2Fx/report.html")) as bad:
            assert bad.status == 404
        status, body = await agent.call("GET", "models")
        assert status == 403 and body["code"] == "trainers_only"
        async with agent.http.get(agent.url(got["png"])) as png:
            assert png.status == 403
        async with tia.http.get(tia.url("/inbox/models")) as page:
            assert page.status == 200 and "models.js" in await page.text()
    finally:
        await tia.close()
        await agent.close()


async def test_a_retrain_is_queued_once_and_its_progress_read_back(
    store: Store, server: TestServer
) -> None:
    admin = await browser(store, server, "ana", "admin")
    try:
        status, body = await admin.call("POST", "models/jobs", {"kind": "train"})
        assert status == 202 and body["job"]["kind"] == "train" and body["job"]["by"] == "ana"
        job_id = body["job"]["id"]
        status, body = await admin.call("POST", "models/jobs", {"kind": "rollback"})
        assert status == 409 and body["code"] == "model_job_busy"
        deploys = Deploys(store)
        taken = await deploys.take(timeout=1)
        assert taken is not None and taken.id == job_id and taken.status == "running"
        await deploys.step(job_id, "training")
        await deploys.finish(job_id, result={"model": "bbb"})
        status, body = await admin.call("GET", f"models/jobs/{job_id}")
        assert status == 200 and body["job"]["status"] == "done"
        assert body["job"]["steps"] == ["training"] and body["job"]["result"] == {"model": "bbb"}
        status, body = await admin.call("POST", "models/jobs", {"kind": "deploy"})
        assert status == 400 and body["code"] == "model_name"
        status, body = await admin.call(
            "POST", "models/jobs", {"kind": "deploy", "model": "../x y"}
        )
        assert status == 400 and body["code"] == "model_name"
        status, body = await admin.call("POST", "models/jobs", {"kind": "explode"})
        assert status == 400 and body["code"] == "bad_filter"
        status, body = await admin.call("GET", "models/jobs/nope")
        assert status == 404 and body["code"] == "no_model_job"
        # Without the CSRF token the page would send, nothing is queued.
        admin.csrf = ""
        status, _ = await admin.call("POST", "models/jobs", {"kind": "train"})
        assert status == 403
    finally:
        await admin.close()
