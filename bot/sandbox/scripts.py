"""The sandbox's Lua scripts: each state change that reads before it writes is one script."""

from __future__ import annotations

# KEYS[1] hash to create; KEYS[2] optional sorted-set index.
# ARGV[1] index score, ARGV[2] index member, ARGV[3..] field, value, field, value...
# Returns 1 when created, 0 when the hash already existed (then nothing is written).
CREATE_IF_ABSENT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if KEYS[2] then
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
end
return 1
"""

# Brings one transaction up to date and returns {settled, HGETALL as a flat list} (empty if
# absent); settled is 1 only for the call that issued the token, so one payment is announced once.
# KEYS[1] transaction hash. ARGV[1] now (ms), ARGV[2] pay delay (ms, 0: never automatic),
# ARGV[3] '1' when the customer pays now, ARGV[4] a fresh token to issue if one is issued.
# An order waiting for payment is paid automatically `delay` after it was created (paid_at is
# that moment, even when it is only noticed later), unless it expired first.
SETTLE = """
local f = redis.call('HMGET', KEYS[1], 'status', 'created_at', 'expires_at')
local status = f[1]
if not status then
  return {}
end
local now = tonumber(ARGV[1])
local delay = tonumber(ARGV[2])
local pay_now = ARGV[3] == '1'
local settled = 0
if status == 'waiting_payment' then
  local auto_at = tonumber(f[2]) + delay
  local expires = tonumber(f[3])
  if delay > 0 and auto_at <= now and auto_at < expires then
    redis.call('HSET', KEYS[1], 'status', 'token_issued', 'paid_at', auto_at, 'token', ARGV[4])
    settled = 1
  elseif now >= expires then
    redis.call('HSET', KEYS[1], 'status', 'expired')
  elseif pay_now then
    redis.call('HSET', KEYS[1], 'status', 'token_issued', 'paid_at', now, 'token', ARGV[4])
    settled = 1
  end
elseif status == 'paid' and pay_now then
  redis.call('HSET', KEYS[1], 'status', 'token_issued', 'token', ARGV[4])
  settled = 1
end
return {settled, redis.call('HGETALL', KEYS[1])}
"""
