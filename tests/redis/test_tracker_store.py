"""The tracker store the Rasa server uses: Rasa's Redis store, keeping what it saved for the
loket channel's answer instead of reading it back."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.assistant.tracker_store import RECENT, LoketTrackerStore, RecentTrackers


def store_for(redis_url: str, domain: Domain) -> LoketTrackerStore:
    parts = urlsplit(redis_url)
    return LoketTrackerStore(
        domain, host=parts.hostname or "", port=parts.port or 6379, db=0, key_prefix="test"
    )


@pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed:UserWarning")  # Rasa's own
async def test_the_saved_tracker_is_handed_to_the_channel_once_and_is_in_redis(
    redis_url: str,
) -> None:
    domain = Domain.from_dict(
        {"slots": {"meter_number": {"type": "text", "mappings": [{"type": "custom"}]}}}
    )
    store = store_for(redis_url, domain)
    tracker = DialogueStateTracker("webchat:t1", domain.slots)
    tracker.update(UserUttered("mau beli token", {"name": "buy_token", "confidence": 0.9}))
    tracker.update(SlotSet("meter_number", "14234567890"))
    await store.save(tracker)
    kept = RECENT.take("webchat:t1")
    assert kept is not None and kept.get_slot("meter_number") == "14234567890"
    assert RECENT.take("webchat:t1") is None  # taken once; the next turn saves again
    again = await store.retrieve("webchat:t1")  # and Redis has it, for every other worker
    assert again is not None and again.get_slot("meter_number") == "14234567890"


def test_only_the_most_recent_senders_are_kept() -> None:
    domain = Domain.empty()
    recent = RecentTrackers(size=2)
    for sender in ("a", "b", "c"):
        recent.put(DialogueStateTracker(sender, domain.slots))
    assert recent.take("a") is None
    assert recent.take("b") is not None and recent.take("c") is not None
