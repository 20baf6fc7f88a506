"""Conversations opened by anonymous visitors (the web chat): a secret for each, a cap on how
many are kept, and a retention period.

A visitor opens a conversation and gets its secret once; every later read or message must
show it, so knowing a conversation's id (it appears in URLs, logs and provider references)
opens nothing. Redis keeps only the secret's sha256. Conversations idle longer than the
retention period are deleted with their transcript and Rasa tracker, and when the cap is
reached the longest-idle ones make room — never one that people own (waiting or assigned)
and never one in the middle of a turn.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable

from bot.core.errors import (
    ChatFull,
    ConversationTaken,
    NotAllowed,
    SecretMissing,
    UnknownConversation,
)
from bot.core.messages import ConversationKey
from handoff import keys
from handoff.store import Store, now_ms

log = logging.getLogger(__name__)

MAX_SECRET = 128  # characters; a longer "secret" is not one of ours
ROOM_BATCH = 100  # the longest-idle conversations looked at to make room under the cap
SWEEP_BATCH = 500

# KEYS: conversation hash, public index. ARGV: id, channel, chat id, secret digest, now, cap.
_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 'taken' end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then return 'full' end
redis.call('HSET', KEYS[1], 'channel', ARGV[2], 'chat_id', ARGV[3], 'created_at', ARGV[5],
           'secret', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
return 'opened'
"""

# KEYS: conversation hash, public index. ARGV: id, secret digest, now, touch (1/0).
# Digests are compared, never secrets: timing can reveal no more than a digest's prefix.
_CHECK = """
local stored = redis.call('HGET', KEYS[1], 'secret')
if not stored then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 'denied' end
  return 'unknown'
end
if stored ~= ARGV[2] then return 'denied' end
if ARGV[4] == '1' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
return 'ok'
"""

# KEYS: conversation hash, transcript, deliveries, Rasa tracker, public index, activity
# index, queue, turn lock. ARGV: id, cutoff (ms): idle since at most this, or it is kept.
_FORGET = """
local score = redis.call('ZSCORE', KEYS[5], ARGV[1])
if score and tonumber(score) > tonumber(ARGV[2]) then return 0 end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'waiting' or status == 'assigned' then return 0 end
if redis.call('EXISTS', KEYS[8]) == 1 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('ZREM', KEYS[6], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
return 1
"""


# What secrets.token_urlsafe gives; anything else (a header may carry any byte) opens nothing.
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]+")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Guests:
    def __init__(
        self,
        store: Store,
        *,
        max_conversations: int,
        retention_s: float,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._store = store
        self._cap = max_conversations
        self._retention_ms = int(retention_s * 1000)
        self._clock = clock
        self._open = store.redis.register_script(_OPEN)
        self._check = store.redis.register_script(_CHECK)
        self._forget = store.redis.register_script(_FORGET)

    async def open(self, key: ConversationKey) -> str:
        """Open a conversation and return its secret (shown once, stored as a digest).

        Raises ConversationTaken when the id is in use, ChatFull when the cap is reached and
        no conversation can make room."""
        secret = secrets.token_urlsafe(32)
        for attempt in range(2):
            async with self._store.guard():
                outcome = await self._open(
                    keys=[keys.conversation(key.id), keys.public_conversations()],
                    args=[key.id, key.channel, key.chat_id, digest(secret), self._clock(),
                          self._cap],
                )  # fmt: skip
            if outcome == "opened":
                return secret
            if outcome == "taken":
                raise ConversationTaken(f"the conversation {key.chat_id} already exists")
            # Room for a few more (1 % of the cap) so that not every opening has to wait.
            if attempt == 0 and await self.make_room(max(1, self._cap // 100)) == 0:
                break
        log.warning("web chat full: %d conversations kept, none can make room", self._cap)
        raise ChatFull("the chat is busy right now, please try again later")

    async def check(self, key: ConversationKey, secret: str | None, *, touch: bool) -> None:
        """Raise unless `secret` opens the conversation; `touch` counts it as activity."""
        if not secret:
            raise SecretMissing("this conversation needs its secret (X-Loket-Chat-Secret)")
        if len(secret) > MAX_SECRET or not _SECRET_SHAPE.fullmatch(secret):
            raise NotAllowed("this secret does not open the conversation")
        async with self._store.guard():
            outcome = await self._check(
                keys=[keys.conversation(key.id), keys.public_conversations()],
                args=[key.id, digest(secret), self._clock(), "1" if touch else "0"],
            )
        if outcome == "unknown":
            raise UnknownConversation(
                f"there is no conversation {key.chat_id} (it may have expired); start a new one"
            )
        if outcome != "ok":
            raise NotAllowed("this secret does not open the conversation")

    async def count(self) -> int:
        async with self._store.guard():
            return int(await self._store.redis.zcard(keys.public_conversations()))

    async def _forget_one(self, conversation_id: str, cutoff: float) -> bool:
        cid = conversation_id
        async with self._store.guard():
            done = await self._forget(
                keys=[keys.conversation(cid), keys.transcript(cid), keys.deliveries(cid),
                      keys.rasa_tracker(cid), keys.public_conversations(),
                      keys.conversations_by_activity(), keys.queue(), keys.turn_lock(cid)],
                args=[cid, int(cutoff)],
            )  # fmt: skip
        return bool(done)

    async def make_room(self, wanted: int) -> int:
        """Delete up to `wanted` of the longest-idle conversations people do not own."""
        async with self._store.guard():
            oldest = await self._store.redis.zrange(
                keys.public_conversations(), 0, ROOM_BATCH - 1, withscores=True
            )
        removed = 0
        for cid, score in oldest:
            if removed >= wanted:
                break
            removed += await self._forget_one(str(cid), score)
        if removed:
            log.info("web chat at its cap of %d: %d idle conversations deleted", self._cap,
                     removed)  # fmt: skip
        return removed

    async def sweep(self) -> int:
        """Delete the conversations idle past the retention period; returns how many."""
        cutoff = self._clock() - self._retention_ms
        removed, start = 0, 0
        while True:
            async with self._store.guard():
                expired = await self._store.redis.zrangebyscore(
                    keys.public_conversations(), "-inf", cutoff, start=start, num=SWEEP_BATCH
                )
            gone = [await self._forget_one(str(cid), cutoff) for cid in expired]
            removed += sum(gone)
            start += len(gone) - sum(gone)  # the kept ones (people own them) stay in front
            if len(expired) < SWEEP_BATCH:
                break
        if removed:
            log.info("web chat: %d conversations idle for over the retention period deleted",
                     removed)  # fmt: skip
        return removed
