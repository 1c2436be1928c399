"""The ACD's atomic changes: one Redis Lua script each, and the key names they share with `acd.store`.

Picking a caller and an agent, requeueing, connecting, agent states, claims, notes, queueing and forgetting a
caller each run as one script, so two routers (or a restarted one) never see half a change.
"""

from __future__ import annotations

from hotline.core.lease import FENCE_CHECK

PREFIX = "acd:"
EVENTS = PREFIX + "events"  # pub/sub channel of the live feed
WAITING = PREFIX + "waiting"  # zset call_id -> rank (entry time, earlier for higher priority); per skill too
# Key names are built inside the scripts (one Redis, no cluster): acd:waiting:<skill>, acd:waiting_skills,
# acd:ready:<skill> (zset agent -> idle since), acd:agent:<id> (hash, lvl:<skill> levels), acd:call:<id>, acd:fence.

# Every change is published on the `acd:events` channel (the live feed) from inside the script that
# makes it, so the feed can never disagree with the state. Per-day, per-skill counters (acd:stats:<day>:<skill>)
# are kept by the same scripts: offered (entered the queue), answered, answered_15s, wait_ms, abandoned.
_PUBLISH = """
local function publish(event)
  local t = redis.call('TIME')
  event['at_ms'] = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('PUBLISH', 'acd:events', cjson.encode(event))
end
"""
SL_THRESHOLD_MS = 15_000

# ARGV: now_ms, heads per skill, ready agents scanned per pool. Returns {call_id, agent, token, channel, caller}.
# Candidates are the first callers of every skill's queue, in rank order; each is offered to the
# longest-idle ready agent of any pool it has waited long enough for (skill:min_level:after_ms).
# ARGV[4], ARGV[5] (optional): the router lease's fence key and token; a router whose lease was taken since
# (a newer token exists) reserves nothing, so a paused or cut-off instance cannot double-offer.
RESERVE = _PUBLISH + FENCE_CHECK + """
if not fenced(ARGV[4], ARGV[5]) then return false end
local now = tonumber(ARGV[1])
local heads = {}
for _, skill in ipairs(redis.call('SMEMBERS', 'acd:waiting_skills')) do
  local h = redis.call('ZRANGE', 'acd:waiting:' .. skill, 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
  if #h == 0 then redis.call('SREM', 'acd:waiting_skills', skill) end
  for i = 1, #h, 2 do heads[#heads + 1] = {h[i], tonumber(h[i + 1])} end
end
table.sort(heads, function(a, b) if a[2] == b[2] then return a[1] < b[1] end return a[2] < b[2] end)
for _, head in ipairs(heads) do
  local call = head[1]
  local ckey = 'acd:call:' .. call
  local waited = now - tonumber(redis.call('HGET', ckey, 'entered') or now)
  local best, best_idle = nil, nil
  for pskill, minl, after in string.gmatch(redis.call('HGET', ckey, 'pools') or '', '([^:,]+):(%d+):(%d+)') do
    if waited >= tonumber(after) then
      local ready = redis.call('ZRANGE', 'acd:ready:' .. pskill, 0, tonumber(ARGV[3]) - 1, 'WITHSCORES')
      for i = 1, #ready, 2 do
        local idle = tonumber(ready[i + 1])
        if best_idle ~= nil and idle >= best_idle then break end
        local level = tonumber(redis.call('HGET', 'acd:agent:' .. ready[i], 'lvl:' .. pskill) or '0')
        if level >= tonumber(minl) then best, best_idle = ready[i], idle break end
      end
    end
  end
  if best then
    local akey = 'acd:agent:' .. best
    local token = redis.call('INCR', 'acd:fence')
    redis.call('ZREM', 'acd:waiting', call)
    redis.call('ZREM', 'acd:waiting:' .. redis.call('HGET', ckey, 'skill'), call)
    redis.call('HSET', ckey, 'state', 'offered', 'agent', best, 'token', token)
    redis.call('HSET', akey, 'state', 'offered', 'call', call, 'token', token, 'since', ARGV[1])
    for s in string.gmatch(redis.call('HGET', akey, 'skills') or '', '[^,]+') do
      redis.call('ZREM', 'acd:ready:' .. s, best)
    end
    local flags = redis.call('HGET', ckey, 'flags') or ''
    publish({event = 'offered', call = call, agent = best, skill = redis.call('HGET', ckey, 'skill'),
             caller = redis.call('HGET', ckey, 'caller'), waited_ms = waited, flags = flags,
             watch = string.find(',' .. flags .. ',', ',watch,', 1, true) ~= nil})
    return {call, best, tostring(token), redis.call('HGET', ckey, 'channel'), redis.call('HGET', ckey, 'caller')}
  end
end
return nil
"""

# ARGV: call_id, token. Puts an offered caller back at their original place.
REQUEUE = _PUBLISH + """
local ckey = 'acd:call:' .. ARGV[1]
if redis.call('HGET', ckey, 'token') ~= ARGV[2] or redis.call('HGET', ckey, 'state') ~= 'offered' then
  return 0
end
redis.call('HSET', ckey, 'state', 'waiting', 'agent', '', 'token', '')
local rank, skill = redis.call('HGET', ckey, 'rank'), redis.call('HGET', ckey, 'skill')
redis.call('ZADD', 'acd:waiting', rank, ARGV[1])
redis.call('ZADD', 'acd:waiting:' .. skill, rank, ARGV[1])
redis.call('SADD', 'acd:waiting_skills', skill)
publish({event = 'requeued', call = ARGV[1], skill = skill})
return 1
"""

# ARGV: call_id, token, now_ms, day. The agent answered: only if this offer is still the call's
# (the caller may have hung up while the phone rang).
CONNECTED = _PUBLISH + """
local ckey = 'acd:call:' .. ARGV[1]
if redis.call('HGET', ckey, 'token') ~= ARGV[2] or redis.call('HGET', ckey, 'state') ~= 'offered' then
  return 0
end
redis.call('HSET', ckey, 'state', 'connected')
local skill = redis.call('HGET', ckey, 'skill')
local waited = tonumber(ARGV[3]) - tonumber(redis.call('HGET', ckey, 'entered') or ARGV[3])
local stats = 'acd:stats:' .. ARGV[4] .. ':' .. skill
redis.call('HINCRBY', stats, 'answered', 1)
redis.call('HINCRBY', stats, 'wait_ms', waited)
if waited <= """ + str(SL_THRESHOLD_MS) + """ then redis.call('HINCRBY', stats, 'answered_15s', 1) end
redis.call('SADD', 'acd:stats:' .. ARGV[4], skill)
publish({event = 'connected', call = ARGV[1], agent = redis.call('HGET', ckey, 'agent'), skill = skill,
         waited_ms = waited})
return 1
"""

# ARGV: agent, token (or '' for any), new state, now_ms, reason. Ready agents join their skills' ready sets.
AGENT_STATE = _PUBLISH + """
local akey = 'acd:agent:' .. ARGV[1]
if redis.call('EXISTS', akey) == 0 then return 0 end
if ARGV[2] ~= '' and redis.call('HGET', akey, 'token') ~= ARGV[2] then return 0 end
redis.call('HSET', akey, 'state', ARGV[3], 'since', ARGV[4], 'reason', ARGV[5])
-- the reservation owns the agent through offered, on_call and wrap_up; it ends when they are free or away
if ARGV[3] ~= 'offered' and ARGV[3] ~= 'on_call' and ARGV[3] ~= 'wrap_up' then
  redis.call('HSET', akey, 'call', '', 'token', '')
end
for s in string.gmatch(redis.call('HGET', akey, 'skills') or '', '[^,]+') do
  if ARGV[3] == 'ready' then
    redis.call('ZADD', 'acd:ready:' .. s, ARGV[4], ARGV[1])
  else
    redis.call('ZREM', 'acd:ready:' .. s, ARGV[1])
  end
end
publish({event = 'agent', agent = ARGV[1], state = ARGV[3], reason = ARGV[5]})
return 1
"""


# ARGV: agent, token, now_ms, reason, call_id[, states]. Takes an agent for a call the router did not offer
# (a three-way call; an agent's own call out, which may start from a pause too: `states`, comma-separated,
# 'ready' by default): atomically, so the router cannot offer them another caller at the same moment.
CLAIM = _PUBLISH + """
local akey = 'acd:agent:' .. ARGV[1]
local state = redis.call('HGET', akey, 'state')
if not state or not string.find(',' .. (ARGV[6] or 'ready') .. ',', ',' .. state .. ',', 1, true) then return 0 end
redis.call('HSET', akey, 'state', 'on_call', 'since', ARGV[3], 'reason', ARGV[4], 'token', ARGV[2], 'call', ARGV[5])
for s in string.gmatch(redis.call('HGET', akey, 'skills') or '', '[^,]+') do
  redis.call('ZREM', 'acd:ready:' .. s, ARGV[1])
end
publish({event = 'agent', agent = ARGV[1], state = 'on_call', reason = ARGV[4]})
return 1
"""


# KEYS: the call; ARGV: field, value, ... Only while the call is known (never recreates a forgotten one).
NOTE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""


# ARGV: call_id, channel, skill, caller, entered_ms, rank, pools, day, flags (the caller's labels, e.g.
# watch: shown with the offer; '' keeps those the call already has, as after a transfer). `places`: the
# caller's place at entry (1 = first), for the expected wait (acd.waits).
ENQUEUE = _PUBLISH + """
local was = redis.call('HMGET', 'acd:call:' .. ARGV[1], 'state', 'skill')
-- already waiting (its flow re-ran on another instance): the caller keeps their place
if was[1] == 'waiting' and was[2] == ARGV[3] then return 2 end
redis.call('HSET', 'acd:call:' .. ARGV[1], 'channel', ARGV[2], 'skill', ARGV[3], 'caller', ARGV[4],
           'entered', ARGV[5], 'rank', ARGV[6], 'pools', ARGV[7], 'state', 'waiting', 'agent', '', 'token', '')
if ARGV[9] and ARGV[9] ~= '' then redis.call('HSET', 'acd:call:' .. ARGV[1], 'flags', ARGV[9]) end
redis.call('ZADD', 'acd:waiting', ARGV[6], ARGV[1])
redis.call('ZADD', 'acd:waiting:' .. ARGV[3], ARGV[6], ARGV[1])
redis.call('SADD', 'acd:waiting_skills', ARGV[3])
redis.call('HSET', 'acd:call:' .. ARGV[1], 'places', redis.call('ZRANK', 'acd:waiting:' .. ARGV[3], ARGV[1]) + 1)
redis.call('HINCRBY', 'acd:stats:' .. ARGV[8] .. ':' .. ARGV[3], 'offered', 1)
redis.call('SADD', 'acd:stats:' .. ARGV[8], ARGV[3])
publish({event = 'queued', call = ARGV[1], skill = ARGV[3], rank = tonumber(ARGV[6])})
return 1
"""

# ARGV: call_id, day, deflected ('1': the caller left the queue for a callback or a voice message, which
# is neither an answer nor an abandonment). Removes the caller; returns the state they were in.
FORGET = _PUBLISH + """
local ckey = 'acd:call:' .. ARGV[1]
local state = redis.call('HGET', ckey, 'state')
local skill = redis.call('HGET', ckey, 'skill')
redis.call('ZREM', 'acd:waiting', ARGV[1])
if skill then redis.call('ZREM', 'acd:waiting:' .. skill, ARGV[1]) end
redis.call('DEL', ckey)
if state == 'waiting' and ARGV[3] == '1' then
  redis.call('HINCRBY', 'acd:stats:' .. ARGV[2] .. ':' .. skill, 'deflected', 1)
  publish({event = 'deflected', call = ARGV[1], skill = skill})
elseif state == 'waiting' or state == 'offered' then
  redis.call('HINCRBY', 'acd:stats:' .. ARGV[2] .. ':' .. skill, 'abandoned', 1)
  publish({event = 'abandoned', call = ARGV[1], skill = skill})
elseif state then
  publish({event = 'ended', call = ARGV[1], skill = skill})
end
return state
"""

# ARGV: agent, skills (comma-separated), then skill, level pairs. Makes the agent known (signed out) or changes
# their skills and levels; a ready agent moves to the new skills' ready sets at once, keeping their idle time.
SET_AGENT = """
local akey = 'acd:agent:' .. ARGV[1]
local state = redis.call('HGET', akey, 'state')
for s in string.gmatch(redis.call('HGET', akey, 'skills') or '', '[^,]+') do
  redis.call('ZREM', 'acd:ready:' .. s, ARGV[1])
end
for _, f in ipairs(redis.call('HKEYS', akey)) do
  if string.sub(f, 1, 4) == 'lvl:' then redis.call('HDEL', akey, f) end
end
redis.call('HSET', akey, 'skills', ARGV[2])
for i = 3, #ARGV, 2 do redis.call('HSET', akey, 'lvl:' .. ARGV[i], ARGV[i + 1]) end
if not state then redis.call('HSET', akey, 'state', 'signed_out') end
if state == 'ready' then
  local since = redis.call('HGET', akey, 'since') or '0'
  for s in string.gmatch(ARGV[2], '[^,]+') do redis.call('ZADD', 'acd:ready:' .. s, since, ARGV[1]) end
end
return 1
"""

# ARGV: agent, reason. The agent leaves the ACD (deactivated in the directory): out of every ready set, no more
# offers; a call they are on goes on in Asterisk, and the later steps of it find no agent to move.
REMOVE_AGENT = _PUBLISH + """
local akey = 'acd:agent:' .. ARGV[1]
if redis.call('EXISTS', akey) == 0 then return 0 end
for s in string.gmatch(redis.call('HGET', akey, 'skills') or '', '[^,]+') do
  redis.call('ZREM', 'acd:ready:' .. s, ARGV[1])
end
redis.call('DEL', akey)
publish({event = 'agent', agent = ARGV[1], state = 'signed_out', reason = ARGV[2]})
return 1
"""
