"""The closed loop, measured: after a deploy, the messages the bot misunderstood before it are
read again by the model it deployed, and the deploy's record keeps how many are now understood.

The messages are the trainers' review items (handoff/review_items.py) from before the deploy,
the dismissed ones left out. One counts as now understood when the new model gives it the
intent a trainer labelled it with or an agent said the customer meant (out of scope: refused
again), and, when nobody labelled it, when the model gives it one of our intents instead of
falling back. Only the NLU is asked (Rasa's `/model/parse`): no conversation is touched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from bot.core.errors import BotUnavailable
from bot.core.messages import IntentScore
from bot.core.reasons import NOT_UNDERSTOOD_INTENTS
from handoff.deploys import Recheck
from handoff.review_items import DISMISSED, LABELLED, Item, ReviewFilter, ReviewItems
from handoff.store import now_ms

RECHECK_MAX = 1000  # the most recent misses read again after one deploy
CONCURRENCY = 4  # parses in flight at once

Parse = Callable[[str], Awaitable[IntentScore | None]]


def expected(item: Item) -> str:
    """The intent a trainer labelled the message with or an agent said it meant, or ""."""
    return item.intent if item.status == LABELLED and item.intent else item.suggested


def _base(intent: str) -> str:
    return intent.split("/", 1)[0]  # a retrieval intent (faq/power_cost) is the domain's faq


def now_understood(item: Item, predicted: str | None) -> bool:
    if not predicted:
        return False
    wanted = expected(item)
    if not wanted:
        return predicted not in NOT_UNDERSTOOD_INTENTS
    if wanted in NOT_UNDERSTOOD_INTENTS:
        return predicted in NOT_UNDERSTOOD_INTENTS
    return _base(predicted) == _base(wanted)


async def earlier_misses(review: ReviewItems, before_ms: int) -> list[Item]:
    """The review items from before `before_ms`, newest first, dismissed ones left out."""
    await review.scan()
    items = await review.items(ReviewFilter(until_ms=before_ms, status=""))
    return [i for i in items if i.status != DISMISSED][:RECHECK_MAX]


async def recheck(
    items: Sequence[Item], parse: Parse, *, concurrency: int = CONCURRENCY
) -> Recheck:
    """Read every item's text again with `parse` and count what is understood now."""
    gate = asyncio.Semaphore(concurrency)

    async def one(item: Item) -> str | None:
        async with gate:
            score = await parse(item.text)
        return score.name if score else None

    found = await asyncio.gather(*(one(i) for i in items), return_exceptions=True)
    unread = 0
    understood = labelled = labelled_right = 0
    for item, predicted in zip(items, found, strict=True):
        if isinstance(predicted, BotUnavailable):
            unread += 1
            continue
        if isinstance(predicted, BaseException):
            raise predicted
        right = now_understood(item, predicted)
        understood += right
        if expected(item):
            labelled += 1
            labelled_right += right
    return Recheck(len(items) - unread, understood, labelled, labelled_right, unread, now_ms())
