"""The ACD's live state in Redis: waiting callers, agents and their states, atomic reservations.

Picking a caller and an agent is one Lua script, so two routers (or a restarted one) can never offer
the same caller twice or ring the same agent twice. Every reservation carries a fencing token; later
steps (connected, requeue, agent free) only act if the token still matches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis.asyncio as aioredis

PREFIX = "acd:"
WAITING = PREFIX + "waiting"  # zset call_id -> rank (entry time, earlier for higher priority)
FENCE = PREFIX + "fence"
PRIORITY_STEP_MS = 600_000  # one priority level counts as ten minutes of waiting

# KEYS: none. ARGV: now_ms, scan. Returns {call_id, agent, token, channel, caller} or nil.
_RESERVE = """
local waiting = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
for _, call in ipairs(waiting) do
  local ckey = 'acd:call:' .. call
  local skill = redis.call('HGET', ckey, 'skill')
  if skill then
    local ready = redis.call('ZRANGE', 'acd:ready:' .. skill, 0, 0)
    if #ready > 0 then
      local agent = ready[1]
      local akey = 'acd:agent:' .. agent
      local token = redis.call('INCR', KEYS[2])
      redis.call('ZREM', KEYS[1], call)
      redis.call('HSET', ckey, 'state', 'offered', 'agent', agent, 'token', token)
      redis.call('HSET', akey, 'state', 'offered', 'call', call, 'token', token, 'since', ARGV[1])
      for s in string.gmatch(redis.call('HGET', akey, 'skills') or '', '[^,]+') do
        redis.call('ZREM', 'acd:ready:' .. s, agent)
      end
      return {call, agent, tostring(token), redis.call('HGET', ckey, 'channel'), redis.call('HGET', ckey, 'caller')}
    end
  end
end
return nil
"""

# ARGV: call_id, token. Puts an offered caller back at their original place.
_REQUEUE = """
local ckey = 'acd:call:' .. ARGV[1]
if redis.call('HGET', ckey, 'token') ~= ARGV[2] or redis.call('HGET', ckey, 'state') ~= 'offered' then
  return 0
end
redis.call('HSET', ckey, 'state', 'waiting', 'agent', '', 'token', '')
redis.call('ZADD', KEYS[1], redis.call('HGET', ckey, 'rank'), ARGV[1])
return 1
"""

# ARGV: call_id, token. The agent answered: only if this offer is still the call's (the caller may have hung up).
_CONNECTED = """
local ckey = 'acd:call:' .. ARGV[1]
if redis.call('HGET', ckey, 'token') ~= ARGV[2] or redis.call('HGET', ckey, 'state') ~= 'offered' then
  return 0
end
redis.call('HSET', ckey, 'state', 'connected')
return 1
"""

# ARGV: agent, token (or '' for any), new state, now_ms, reason. Ready agents join their skills' ready sets.
_AGENT_STATE = """
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
return 1
"""


# ARGV: call_id, channel, skill, caller, entered_ms, rank.
_ENQUEUE = """
redis.call('HSET', 'acd:call:' .. ARGV[1], 'channel', ARGV[2], 'skill', ARGV[3], 'caller', ARGV[4],
           'entered', ARGV[5], 'rank', ARGV[6], 'state', 'waiting')
redis.call('ZADD', KEYS[1], ARGV[6], ARGV[1])
return 1
"""

# ARGV: call_id. Removes a caller who hung up; returns the state they were in.
_FORGET = """
local ckey = 'acd:call:' .. ARGV[1]
local state = redis.call('HGET', ckey, 'state')
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', ckey)
return state
"""


@dataclass(frozen=True)
class Reservation:
    """A caller offered to an agent, guarded by a fencing token."""

    call_id: str
    agent: str
    token: str
    channel: str
    caller: str


@dataclass(frozen=True)
class SkillLoad:
    """How a skill's seats stand right now."""

    staffed: int  # agents signed in (ready, ringing, talking, wrapping up or paused)
    waiting: int  # callers waiting for the skill


def now_ms() -> int:
    return int(time.time() * 1000)


class AcdStore:
    """Redis access for the ACD; every multi-key change is one script. Give it a `decode_responses` client."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._reserve = redis.register_script(_RESERVE)
        self._requeue = redis.register_script(_REQUEUE)
        self._agent_state = redis.register_script(_AGENT_STATE)
        self._forget = redis.register_script(_FORGET)
        self._enqueue = redis.register_script(_ENQUEUE)
        self._connected = redis.register_script(_CONNECTED)

    async def add_agent(self, agent: str, skills: list[str]) -> None:
        """Make an agent known (signed out) with their skills."""
        await self.redis.hset(f"{PREFIX}agent:{agent}", mapping={"skills": ",".join(skills)})
        await self.redis.hsetnx(f"{PREFIX}agent:{agent}", "state", "signed_out")

    async def set_agent_state(self, agent: str, state: str, *, token: str = "", reason: str = "") -> bool:
        return bool(await self._agent_state(args=[agent, token, state, now_ms(), reason]))

    async def agent(self, agent: str) -> dict[str, str]:
        raw = await self.redis.hgetall(f"{PREFIX}agent:{agent}")
        return {str(k): str(v) for k, v in raw.items()}

    async def agents(self) -> dict[str, dict[str, str]]:
        names = sorted([str(k).rsplit(":", 1)[1] async for k in self.redis.scan_iter(f"{PREFIX}agent:*")])
        return {name: await self.agent(name) for name in names}

    async def enqueue(self, call_id: str, *, channel: str, skill: str, caller: str, priority: int = 0) -> None:
        entered = now_ms()
        rank = entered - priority * PRIORITY_STEP_MS
        await self._enqueue(keys=[WAITING], args=[call_id, channel, skill, caller, entered, rank])

    async def reserve(self, scan: int = 50) -> Reservation | None:
        got = await self._reserve(keys=[WAITING, FENCE], args=[now_ms(), scan])
        if not got:
            return None
        call_id, agent, token, channel, caller = (str(v) for v in got)
        return Reservation(call_id, agent, token, channel, caller)

    async def requeue(self, r: Reservation) -> bool:
        return bool(await self._requeue(keys=[WAITING], args=[r.call_id, r.token]))

    async def call(self, call_id: str) -> dict[str, str]:
        """A caller's live state (empty when unknown)."""
        raw = await self.redis.hgetall(f"{PREFIX}call:{call_id}")
        return {str(k): str(v) for k, v in raw.items()}

    async def connected(self, r: Reservation) -> bool:
        """The agent answered; False when the caller is gone (hung up while the phone rang)."""
        if not await self._connected(args=[r.call_id, r.token]):
            return False
        await self.set_agent_state(r.agent, "on_call", token=r.token)
        return True

    async def forget_call(self, call_id: str) -> str | None:
        """The caller is gone; returns the state they were in."""
        state = await self._forget(keys=[WAITING], args=[call_id])
        return str(state) if state else None

    async def reset_calls(self) -> None:
        """At start-up with a fresh Asterisk no earlier call is alive: forget them; agents sign in again."""
        async for key in self.redis.scan_iter(f"{PREFIX}call:*"):
            await self.redis.delete(key)
        async for key in self.redis.scan_iter(f"{PREFIX}ready:*"):
            await self.redis.delete(key)
        await self.redis.delete(WAITING)
        async for key in self.redis.scan_iter(f"{PREFIX}agent:*"):
            await self.redis.hset(key, mapping={"state": "signed_out", "call": "", "token": "", "reason": ""})

    async def skill_load(self, skill: str) -> SkillLoad:
        """Agents signed in with the skill and callers waiting for it."""
        staffed = waiting = 0
        for agent in (await self.agents()).values():
            if skill in agent.get("skills", "").split(",") and agent.get("state", "signed_out") != "signed_out":
                staffed += 1
        for member in await self.redis.zrange(WAITING, 0, -1):
            call = str(member)
            if await self.redis.hget(f"{PREFIX}call:{call}", "skill") == skill:
                waiting += 1
        return SkillLoad(staffed=staffed, waiting=waiting)

    async def waiting(self) -> list[dict[str, str]]:
        out = []
        for member in await self.redis.zrange(WAITING, 0, -1):
            call = str(member)
            raw = await self.redis.hgetall(f"{PREFIX}call:{call}")
            out.append({"call_id": call, **{str(k): str(v) for k, v in raw.items()}})
        return out
