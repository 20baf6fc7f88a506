"""The tracker store the Rasa server uses: Rasa's Redis store, keeping what it saved for the
loket channel's answer instead of reading it back."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import SESSION_START_METADATA_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
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


def session(start: float, metadata: dict[str, str] | None) -> list[Event]:
    """How Rasa opens a session: with metadata, a slot set before `action_session_start`."""
    opened: list[Event] = [SlotSet(SESSION_START_METADATA_SLOT, metadata, timestamp=start)]
    return [
        *(opened if metadata else []),
        ActionExecuted("action_session_start", timestamp=start + 0.1),
        SessionStarted(timestamp=start + 0.2),
        *(opened if metadata else []),
        ActionExecuted("action_listen", timestamp=start + 0.3),
    ]


def turn(at: float, text: str) -> list[Event]:
    return [
        UserUttered(text, {"name": "greet", "confidence": 0.9}, timestamp=at),
        ActionExecuted("utter_greet", timestamp=at + 0.1),
        BotUttered("Halo!", timestamp=at + 0.2),
        SlotSet("meter_number", text, timestamp=at + 0.3),
        ActionExecuted("action_listen", timestamp=at + 0.4),
    ]


@pytest.mark.filterwarnings("ignore:Slot auto-fill has been removed:UserWarning")  # Rasa's own
@pytest.mark.parametrize(
    ("stored", "shortcut"),
    [
        # the loket channel's conversations: metadata opens the session
        ([*session(1.0, {"channel": "telegram"}), *turn(2.0, "a"), *turn(3.0, "b")], False),
        # an expired first session: the stored tracker has two, Rasa reads back the last
        ([*session(1.0, None), *turn(2.0, "a"), *session(9.0, None), *turn(10.0, "b")], False),
        # the plain case Rasa's merge handles by its shortcut
        ([*session(1.0, None), *turn(2.0, "a")], True),
    ],
)
def test_the_linear_merge_gives_rasas_merged_tracker(stored: list[Event], shortcut: bool) -> None:
    domain = Domain.from_dict(
        {"slots": {"meter_number": {"type": "text", "mappings": [{"type": "custom"}]}}}
    )
    prior = DialogueStateTracker.from_events("telegram:1", stored, domain.slots)
    # What the processor saves: the latest session as read back, plus this turn's events.
    latest = max(i for i, e in enumerate(stored) if isinstance(e, ActionExecuted)
                 and e.action_name == "action_session_start")  # fmt: skip
    now = [*stored[latest:], *turn(20.0, "c")]
    tracker = DialogueStateTracker.from_events("telegram:1", now, domain.slots)
    past = tracker.travel_back_in_time(target_time=prior.events[-1].timestamp)
    assert (past.events == prior.events) is shortcut  # else the event-by-event merge runs
    ours = LoketTrackerStore._merge_trackers(prior, tracker)
    rasas = RedisTrackerStore._merge_trackers(prior, tracker)
    assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in rasas.events]
    assert [e.as_dict() for e in ours.events][-5:] == [e.as_dict() for e in turn(20.0, "c")]
    assert len(ours.events) == len(stored) + 5
