"""Finding conversations: by what the customer wrote, a meter number, ticket or transaction, the
agent who had it, its status, why it was handed over, its channel and when it was last active.

One Lua script answers a query from the indexes (handoff/index.py): each word of the query
matches the customer's words or a collected number (a union), all of them must match (an
intersection, scored by last activity), then the newest within the dates pass the status and
channel filters. Nothing is scanned but the candidates, and at most `SCAN` of those.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from handoff import index, keys
from handoff.store import Store

MAX_WORDS = 8  # query words that count; more say little
LIMIT = 50
SCAN = 5000  # candidates looked at for the status and channel filters, newest first

_FIND = """
local spec = cjson.decode(ARGV[1])
local sets, scratch = {}, {}
for i, group in ipairs(spec.groups) do
  if #group == 1 then
    sets[#sets + 1] = group[1]
  else
    local tmp = spec.scratch .. ':' .. i
    redis.call('ZUNIONSTORE', tmp, #group, unpack(group))
    scratch[#scratch + 1] = tmp
    sets[#sets + 1] = tmp
  end
end
local source = KEYS[1]
if #sets > 0 then
  source = spec.scratch .. ':all'
  scratch[#scratch + 1] = source
  local args = {'ZINTERSTORE', source, #sets + 1, KEYS[1]}
  for _, key in ipairs(sets) do args[#args + 1] = key end
  args[#args + 1] = 'WEIGHTS'
  args[#args + 1] = 1
  for _ = 1, #sets do args[#args + 1] = 0 end
  redis.call(unpack(args))
end
local found, scanned, offset, more = {}, 0, 0, 0
while scanned < spec.scan do
  local batch = redis.call('ZREVRANGEBYSCORE', source, spec['until'], spec.since,
    'LIMIT', offset, 200)
  if #batch == 0 then break end
  offset = offset + #batch
  for _, cid in ipairs(batch) do
    scanned = scanned + 1
    local ok = true
    if spec.status ~= '' or spec.channel ~= '' then
      local status = redis.call('HGET', spec.conv[1] .. cid .. spec.conv[2], 'status') or 'bot'
      if spec.status ~= '' and status ~= spec.status then ok = false end
      if spec.channel ~= '' and string.sub(cid, 1, #spec.channel + 1) ~= spec.channel .. ':' then
        ok = false
      end
    end
    if ok then
      if #found >= spec.limit then more = 1; break end
      found[#found + 1] = cid
    end
  end
  if more == 1 then break end
end
if scanned >= spec.scan then more = 1 end
for _, key in ipairs(scratch) do redis.call('DEL', key) end
return {more, found}
"""


@dataclass(frozen=True, slots=True)
class Query:
    """What an agent looks for; every given part must match. Times are ms since the epoch."""

    text: str = ""  # words the customer wrote, or numbers the bot collected
    meter: str = ""  # a meter number or customer id
    ticket: str = ""
    transaction: str = ""
    agent: str = ""  # was assigned to this agent
    reason: str = ""  # a handoff reason code
    status: str = ""  # bot, waiting, assigned, closed
    channel: str = ""
    since: int = 0  # last activity at or after
    until: int = 0  # last activity at or before (0: now)
    limit: int = LIMIT

    @property
    def words(self) -> list[str]:
        return index.words(self.text)[:MAX_WORDS]


@dataclass(frozen=True, slots=True)
class Found:
    ids: list[str]  # most recently active first
    more: bool  # there were more than `limit` (or too many candidates to look at)


def _any_number(value: str, kinds: tuple[str, ...]) -> list[str]:
    """The index keys that hold a number: the bot collected it, or the customer wrote it."""
    ref = index.ref_value(value)
    return [*(keys.search_ref(k, ref) for k in kinds), keys.search_word(ref)] if ref else []


def groups(query: Query) -> list[list[str]]:
    """One union of index keys per condition; a conversation must be in each."""
    found = [
        [keys.search_word(w), *(keys.search_ref(kind, w) for kind in index.REF_KINDS)]
        for w in query.words
    ]
    for value, kinds in (
        (query.meter, ("meter", "customer")),
        (query.ticket, ("ticket",)),
        (query.transaction, ("transaction",)),
    ):
        if value:
            found.append(_any_number(value, kinds) or [keys.search_word("\x00")])
    if query.agent:
        found.append([keys.search_agent(query.agent)])
    if query.reason:
        found.append([keys.search_reason(query.reason)])
    return found


class Search:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._find = store.redis.register_script(_FIND)

    async def find(self, query: Query) -> Found:
        if query.text.strip() and not query.words:
            return Found([], False)  # only words every message has: nothing to find by
        conv = keys.conversation("\x00").split("\x00")  # the hash key around an id
        spec = {
            "groups": groups(query),
            "scratch": keys.search_scratch(secrets.token_hex(8)),
            "since": str(query.since) if query.since else "-inf",
            "until": str(query.until) if query.until else "+inf",
            "status": query.status,
            "channel": query.channel,
            "conv": conv,
            "limit": query.limit,
            "scan": SCAN,
        }
        async with self._store.guard():
            more, ids = await self._find(
                keys=[keys.conversations_by_activity()], args=[json.dumps(spec)]
            )
        return Found([str(i) for i in ids], bool(more))
