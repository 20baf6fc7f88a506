"""What the real model failed to understand reaches `loket review` with its guess."""

from __future__ import annotations

import json
import time

from aiohttp.test_utils import TestClient

from bot.core.messages import ConversationKey
from bot.core.settings import Settings
from handoff import keys
from handoff.review import collect
from handoff.review_items import ReviewItems, item_id
from handoff.store import Store
from handoff.transcript import Role, Transcript
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


async def test_a_handoff_keeps_the_review_items_it_produced(
    client: TestClient, settings: Settings
) -> None:
    customer = Customer(client, "review-loop")
    await customer.say("asdkjh qwe zzz")
    await customer.say("xyzzy plugh qwerty")  # the second miss hands over
    key = ConversationKey("webchat", "review-loop")
    store = Store.from_url(settings.redis_url or "")
    try:
        history = await store.redis.hgetall(keys.handoff_history(key.id))
        (record,) = [json.loads(raw) for raw in history.values()]
        entries = await Transcript(store).read(key)
        said = [e.id for e in entries if e.role is Role.CUSTOMER]
        # Written when the handoff was opened, before anyone looked at the review list.
        assert record["review_items"] == [item_id(key.id, entry) for entry in said]
        items = await ReviewItems(store).get(record["review_items"])
    finally:
        await store.close()
    assert [(i.text, i.handoff) for i in items] == [
        ("asdkjh qwe zzz", next(iter(history))),
        ("xyzzy plugh qwerty", next(iter(history))),
    ]
    # The model's two best real intents, best first, as the trainers' review shows them.
    for item in items:
        assert len(item.guesses) == 2 and "nlu_fallback" not in dict(item.guesses)
        assert item.guesses[0][1] >= item.guesses[1][1]
