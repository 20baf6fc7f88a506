"""Rasa's Redis tracker store, remembering for the `loket` channel the tracker it just saved.

The channel answers every message with the conversation's state after the turn (slots, last
action, what the message set off). Reading it back from Redis costs a GET and a parse of the
whole conversation again — 12 ms for a 20-turn conversation on a 2-core machine, growing
with its length — when the tracker was in this process a moment before. So the store keeps
the last tracker it saved per sender until the channel takes it (bench/scale.py measures it).
Runs inside the Rasa server only (bot/endpoints.yml names it); it shapes no model.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

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
    """RedisTrackerStore, plus: the tracker of every save is kept in RECENT for the channel."""

    async def save(self, tracker: DialogueStateTracker, timeout: Any = None) -> None:
        await super().save(tracker, timeout)
        RECENT.put(tracker)
