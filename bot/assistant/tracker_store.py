"""Rasa's Redis tracker store, remembering for the `loket` channel the tracker it just saved.

The channel answers every message with the conversation's state after the turn (slots, last
action, what the message set off). Reading it back from Redis costs a GET and a parse of the
whole conversation again — 12 ms for a 20-turn conversation on a 2-core machine, growing
with its length — when the tracker was in this process a moment before. So the store keeps
the last tracker it saved per sender until the channel takes it (bench/scale.py measures it).

Saving merges the tracker with the one stored (Rasa's way of keeping earlier sessions). When
the tracker is not simply the stored one plus new events, Rasa compares every event with every
stored one, as dicts: quadratic in the conversation's length. That happens on every save of a
conversation that started with metadata (the `loket` channel sends the channel's name: Rasa
stores a `session_started_metadata` slot before `action_session_start`, and reads the session
back without it) and of every conversation after its first session expired — 175 ms a turn on
a 30-turn conversation in `bench/scale.py`'s profile. The merge here gives the same tracker in
linear time, looking events up by a hashable copy of the same dicts.

Runs inside the Rasa server only (bot/endpoints.yml names it); it shapes no model.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.assistant import serving

KEPT = 1024  # senders whose tracker waits for the channel at most; the oldest go first


class RecentTrackers:
    """The trackers this process saved last, by sender, until the channel takes them."""

    def __init__(self, size: int = KEPT) -> None:
        self._size = size
        self._items: OrderedDict[str, DialogueStateTracker] = OrderedDict()

    def put(self, tracker: DialogueStateTracker) -> None:
        self._items[tracker.sender_id] = tracker
        self._items.move_to_end(tracker.sender_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def take(self, sender_id: str) -> DialogueStateTracker | None:
        return self._items.pop(sender_id, None)


RECENT = RecentTrackers()


class LoketTrackerStore(RedisTrackerStore):
    """RedisTrackerStore, plus: the tracker of every save is kept in RECENT for the channel,
    and trackers are merged in linear time. Creating it (Rasa does, at start) also installs the
    faster check of action answers (bot/assistant/serving.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        serving.install()

    async def save(self, tracker: DialogueStateTracker, timeout: Any = None) -> None:
        await super().save(tracker, timeout)
        RECENT.put(tracker)

    @staticmethod
    def _merge_trackers(
        prior_tracker: DialogueStateTracker, tracker: DialogueStateTracker
    ) -> DialogueStateTracker:
        """Rasa's RedisTrackerStore._merge_trackers (3.6), in linear time: the stored events,
        then each of `tracker`'s events whose dict is not among them yet."""
        if not prior_tracker.events:
            return tracker
        past = tracker.travel_back_in_time(target_time=prior_tracker.events[-1].timestamp)
        if past.events == prior_tracker.events:
            return tracker
        merged = tracker.init_copy()
        merged.update_with_events(list(prior_tracker.events), override_timestamp=False, domain=None)
        seen = {_frozen(event) for event in merged.events}
        for event in tracker.events:
            key = _frozen(event)
            if key not in seen:
                merged.update(event)
                seen.add(key)
        return merged


def _frozen(event: Event) -> Any:
    """`event.as_dict()` as a hashable value equal exactly when the dicts are equal."""
    return _freeze(event.as_dict())


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return frozenset((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value
