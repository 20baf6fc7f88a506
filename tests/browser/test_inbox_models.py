"""The trainers' Models page: the serving model's scores and confusion matrix, the deploys, and a
job whose refusal is shown; agents do not get the link."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import expect

from bot.core.settings import Settings
from bot.ops import report
from bot.ops.evaluation import Prediction, score
from handoff.deploys import Deploys, Recheck
from handoff.store import Store
from tests.browser.conftest import NEEDS_BROWSER, Login

pytestmark = NEEDS_BROWSER


async def wait_for_start_record(deploys: Deploys, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (current := await deploys.current()) is None or current.kind != "start":
        assert loop.time() < deadline, f"the gateway recorded no start: {current}"
        await asyncio.sleep(0.05)


async def test_a_trainer_sees_the_serving_models_report_and_a_refused_rollback(
    agent_page: Login, store: Store, gateway: str, settings: Settings, model: Path
) -> None:
    predictions = [Prediction("halo", "greet", "greet", 0.9),
                   Prediction("beli token", "buy_token", "buy_token", 0.8),
                   Prediction("wifi mati", "out_of_scope", "buy_token", 0.5)]  # fmt: skip
    scores = score(model, "heldout.jsonl", predictions, 1.0)
    report.save(settings.data_dir, scores, predictions, None)
    deploys = Deploys(store)
    # The gateway records the model it found serving when it starts; this deploy comes after.
    await wait_for_start_record(deploys)
    done = await deploys.record("deploy", scores.model, str(model), "ana", scores.macro_f1, "")
    await deploys.save_recheck(done.id, Recheck(40, 12, 10, 9, 0, done.at))

    agent = await agent_page("budi")
    await expect(agent.locator("#models-link")).to_be_hidden()

    page = await agent_page("tia", "trainer", locale="en-US")
    await expect(page.locator("#models-link")).to_be_visible()
    await page.click("#models-link")
    await expect(page.locator("body[data-ready=yes]")).to_be_attached(timeout=10_000)
    await expect(page.locator("#serving")).to_contain_text(f"model {scores.model}")
    await expect(page.locator("#serving")).to_contain_text("ana")
    await expect(page.locator("#scores")).to_contain_text("1 dari 3")  # Indonesian by default
    await expect(page.locator("#intents tr")).to_have_count(1 + 3)
    image = page.locator("#confusion-img")
    await expect(image).to_be_visible()
    assert await image.evaluate("img => img.complete && img.naturalWidth > 100")
    await expect(page.locator("#history")).to_contain_text(f"deploy · {scores.model}")
    await expect(page.locator("#history")).to_contain_text(
        "12 dari 40 pesan yang dulu tidak dipahami kini dipahami (9 dari 10 yang sudah dilabeli"
    )

    await page.click("#rollback")  # nothing recorded before: refused, with the reason
    await expect(page.locator("#job-steps .error")).to_contain_text(
        "nothing to roll back to", timeout=30_000
    )
    await expect(page.locator("#rollback")).to_be_enabled()
