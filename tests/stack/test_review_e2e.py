"""What the real model failed to understand reaches `loket review` with its guess."""

from __future__ import annotations

import time

from aiohttp.test_utils import TestClient

from bot.core.settings import Settings
from handoff.review import collect
from handoff.store import Store
from tests.support.chat import Customer

WEEK_AGO = int(time.time() * 1000) - 7 * 24 * 3600 * 1000


async def test_the_bots_misunderstandings_reach_the_review_with_its_guess(
    client: TestClient, settings: Settings
) -> None:
    customer = Customer(client, "review-e2e")
    await customer.say("asdkjh qwe zzz")
    await customer.say("xyzzy plugh qwerty")  # the second miss hands over
    store = Store.from_url(settings.redis_url or "")
    try:
        rows = await collect(store, since_ms=WEEK_AGO)
    finally:
        await store.close()
    texts = {r.text: r for r in rows}
    assert set(texts) == {"asdkjh qwe zzz", "xyzzy plugh qwerty"}
    first, second = texts["asdkjh qwe zzz"], texts["xyzzy plugh qwerty"]
    assert first.guesses and second.guesses  # what the model made of them, with confidence
    assert second.reasons == ["not_understood"]  # recorded on the handoff notice
