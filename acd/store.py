"""The ACD's live state in Redis: waiting callers, agents and their states, atomic reservations.

Picking a caller and an agent is one Lua script (see `acd.scripts`, where every multi-key change is), so two
routers (or a restarted one) can never offer the same caller twice or ring the same agent twice. Every
reservation carries a fencing token; later steps (connected, requeue, agent free) only act if the token still
matches.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub

from acd.scripts import (
    AGENT_STATE,
    CLAIM,
    CONNECTED,
    ENQUEUE,
    EVENTS,
    FORGET,
    NOTE,
    PREFIX,
    REMOVE_AGENT,
    REQUEUE,
    RESERVE,
    SET_AGENT,
    SL_THRESHOLD_MS,
    WAITING,
)
from acd.waits import WINDOW_S, AnsweredWait, able_agents, expected_wait_s, pool_skills
from hotline.core.clock import china_today
from hotline.core.logged import logged

__all__ = ["EVENTS", "SL_THRESHOLD_MS", "WAITING", "AcdStore", "Reservation", "SkillLoad", "now_ms", "today"]
log = logging.getLogger(__name__)
MAX_WRAP_UP_S = 600  # after-call work may be extended, but not beyond ten minutes from now
PRIORITY_STEP_MS = 600_000  # one priority level counts as ten minutes of waiting


async def _decoded(pubsub: PubSub) -> AsyncIterator[dict[str, Any]]:
    async for message in pubsub.listen():
        if message.get("type") == "message":
            yield json.loads(message["data"])


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


def today() -> str:
    """The centre's day (China time) the statistics are kept under."""
    return china_today().isoformat()


class AcdStore:
    """Redis access for the ACD; every multi-key change is one script. Give it a `decode_responses` client."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._reserve = redis.register_script(RESERVE)
        self._requeue = redis.register_script(REQUEUE)
        self._agent_state = redis.register_script(AGENT_STATE)
        self._forget = redis.register_script(FORGET)
        self._enqueue = redis.register_script(ENQUEUE)
        self._connected = redis.register_script(CONNECTED)
        self._claim = redis.register_script(CLAIM)
        self._note = redis.register_script(NOTE)
        self._set_agent = redis.register_script(SET_AGENT)
        self._remove_agent = redis.register_script(REMOVE_AGENT)

    async def add_agent(self, agent: str, skills: dict[str, int]) -> None:
        """Make an agent known (signed out) with their skills and levels (1-5), or change them: a ready agent
        is offered the new skills' calls at once."""
        pairs = [str(x) for skill_level in skills.items() for x in skill_level]
        await self._set_agent(args=[agent, ",".join(skills), *pairs])

    async def remove_agent(self, agent: str, reason: str) -> bool:
        """The agent leaves the ACD (signed out for good, offered nothing more); False if unknown."""
        return bool(await self._remove_agent(args=[agent, reason]))

    async def set_agent_state(self, agent: str, state: str, *, token: str = "", reason: str = "") -> bool:
        return bool(await self._agent_state(args=[agent, token, state, now_ms(), reason]))

    async def start_wrap_up(self, agent: str, token: str, seconds: float) -> bool:
        """The agent's call ended: wrap-up (after-call work) for `seconds`, extendable by the agent."""
        if not await self.set_agent_state(agent, "wrap_up", token=token):
            return False
        await self.redis.hset(f"{PREFIX}agent:{agent}", "wrap_until", now_ms() + int(seconds * 1000))
        return True

    async def extend_wrap_up(self, agent: str, seconds: float) -> float | None:
        """More after-call work (R-ACD-2): the new time left, or None when the agent is not in wrap-up.
        At most MAX_WRAP_UP_S from now, however often it is asked."""
        key = f"{PREFIX}agent:{agent}"
        info = await self.redis.hmget(key, ["state", "wrap_until"])
        if info[0] != "wrap_up":
            return None
        now = now_ms()
        until = min(max(int(info[1] or now), now) + int(seconds * 1000), now + MAX_WRAP_UP_S * 1000)
        await self.redis.hset(key, "wrap_until", until)
        return (until - now) / 1000

    async def wrap_up_left_s(self, agent: str) -> float:
        """Seconds of wrap-up left; 0 once the agent left wrap-up (ready early, paused, signed out)."""
        state, until = await self.redis.hmget(f"{PREFIX}agent:{agent}", ["state", "wrap_until"])
        return max(0.0, (int(until or 0) - now_ms()) / 1000) if state == "wrap_up" else 0.0

    async def wait_out_wrap_up(self, agent: str) -> None:
        """Until the agent's wrap-up is over; they may extend it or end it early over the API, so it is
        read again at least every second."""
        for _ in range(2 * (MAX_WRAP_UP_S + 60)):
            left = await self.wrap_up_left_s(agent)
            if left <= 0:
                return
            await asyncio.sleep(min(left, 1.0))

    async def claim(self, agent: str, call_id: str, reason: str, states: tuple[str, ...] = ("ready",)) -> str | None:
        """An agent in one of `states` taken for `call_id` outside the queue (a three-way call, a call out);
        their token, or None."""
        token = f"x{uuid.uuid4().hex[:12]}"
        return token if await self._claim(args=[agent, token, now_ms(), reason, call_id, ",".join(states)]) else None

    async def publish(self, event: dict[str, Any]) -> None:
        """An event of a domain above the ACD (a callback claimed…) on the live feed, stamped like the ACD's own."""
        await self.redis.publish(EVENTS, json.dumps({**event, "at_ms": now_ms()}, ensure_ascii=False))

    async def note_call(self, call_id: str, **fields: str) -> bool:
        """Extra live facts about a connected call (the agent's channel, a three-way party); False if gone."""
        flat = [str(x) for pair in fields.items() for x in pair]
        return bool(await self._note(keys=[f"{PREFIX}call:{call_id}"], args=flat))

    async def agent(self, agent: str) -> dict[str, str]:
        raw = await self.redis.hgetall(f"{PREFIX}agent:{agent}")
        return {str(k): str(v) for k, v in raw.items()}

    async def agents(self) -> dict[str, dict[str, str]]:
        """Every agent's hash, in one round trip after the scan (a centre has hundreds of agents)."""
        names = sorted([str(k).rsplit(":", 1)[1] async for k in self.redis.scan_iter(f"{PREFIX}agent:*")])
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(f"{PREFIX}agent:{name}")  # type: ignore[unused-awaitable]  # queued, not sent
            rows = await pipe.execute()
        return {name: {str(k): str(v) for k, v in raw.items()} for name, raw in zip(names, rows, strict=True)}

    async def enqueue(self, call_id: str, *, channel: str, skill: str, caller: str, priority: int = 0,
                      pools: str = "", flags: str = "") -> None:
        """A caller waits for `skill`; `pools` (see acd.policy) says who may take the call and when; `flags` (the
        caller's labels, e.g. `watch`) go with the offer to the agent."""
        entered = now_ms()
        rank = entered - priority * PRIORITY_STEP_MS
        await self._enqueue(args=[call_id, channel, skill, caller, entered, rank, pools or f"{skill}:1:0", today(),
                                  flags])

    async def reserve(self, heads: int = 2, scan: int = 20, fence: tuple[str, int] | None = None) -> Reservation | None:
        """Pair the first routable caller with an agent, atomically; None when nobody can be paired now, or
        when `fence` (the router lease's fence key and token) is stale: another router took over."""
        fence_key, fence_token = fence if fence is not None else ("", 0)
        got = await self._reserve(args=[now_ms(), heads, scan, fence_key, fence_token])
        if not got:
            return None
        call_id, agent, token, channel, caller = (str(v) for v in got)
        return Reservation(call_id, agent, token, channel, caller)

    async def requeue(self, r: Reservation) -> bool:
        return bool(await self._requeue(args=[r.call_id, r.token]))

    async def call(self, call_id: str) -> dict[str, str]:
        """A caller's live state (empty when unknown)."""
        raw = await self.redis.hgetall(f"{PREFIX}call:{call_id}")
        return {str(k): str(v) for k, v in raw.items()}

    async def calls(self) -> dict[str, dict[str, str]]:
        """Every caller the ACD knows now (waiting, offered or connected), by call id."""
        ids = [str(k).split(":", 2)[2] async for k in self.redis.scan_iter(f"{PREFIX}call:*")]
        return {call_id: await self.call(call_id) for call_id in ids}

    async def connected(self, r: Reservation) -> bool:
        """The agent answered; False when the caller is gone (hung up while the phone rang)."""
        at = now_ms()
        if not await self._connected(args=[r.call_id, r.token, at, today()]):
            return False
        await self.set_agent_state(r.agent, "on_call", token=r.token)
        with logged(log, "keeping the answered wait of call %s", r.call_id):  # a figure never holds a call back
            await self._sample_answer(r.call_id, at)
        return True

    async def forget_call(self, call_id: str, *, deflected: bool = False) -> str | None:
        """The caller is gone (or, `deflected`, left the queue for a callback or a voice message); returns
        the state they were in."""
        state = await self._forget(args=[call_id, today(), "1" if deflected else "0"])
        return str(state) if state else None

    async def reset_calls(self) -> None:
        """At start-up with a fresh Asterisk no earlier call is alive: forget them; agents sign in again."""
        async for key in self.redis.scan_iter(f"{PREFIX}call:*"):
            await self.redis.delete(key)
        for pattern in (f"{PREFIX}ready:*", f"{PREFIX}waiting*"):
            async for key in self.redis.scan_iter(pattern):
                await self.redis.delete(key)
        async for key in self.redis.scan_iter(f"{PREFIX}agent:*"):
            await self.redis.hset(key, mapping={"state": "signed_out", "call": "", "token": "", "reason": ""})

    async def position(self, call_id: str) -> int | None:
        """Callers ahead of this one in its skill's queue; None when it is not waiting."""
        skill = await self.redis.hget(f"{PREFIX}call:{call_id}", "skill")
        if skill is None:
            return None
        rank = await self.redis.zrank(f"{WAITING}:{skill!s}", call_id)
        return rank if isinstance(rank, int) else None

    @contextlib.asynccontextmanager
    async def events(self) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """The live feed: every queue and agent change as it happens (Redis pub/sub)."""
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(EVENTS)
        try:
            yield _decoded(pubsub)
        finally:
            await pubsub.unsubscribe(EVENTS)
            await pubsub.aclose()

    async def stats(self, day: str) -> dict[str, dict[str, float]]:
        """Per skill for a day: offered, answered, answered_15s, abandoned, deflected (left for a callback or
        a voice message), sl_15s and abandon_rate (of the offered callers not deflected), wait_avg_s."""
        out: dict[str, dict[str, float]] = {}
        for skill in sorted(str(s) for s in await self.redis.smembers(f"{PREFIX}stats:{day}")):
            raw = {str(k): int(v) for k, v in (await self.redis.hgetall(f"{PREFIX}stats:{day}:{skill}")).items()}
            offered, answered, deflected = raw.get("offered", 0), raw.get("answered", 0), raw.get("deflected", 0)
            served = offered - deflected  # the callers who wanted an agent now
            out[skill] = {
                "offered": offered, "answered": answered, "answered_15s": raw.get("answered_15s", 0),
                "abandoned": raw.get("abandoned", 0), "deflected": deflected,
                "sl_15s": round(raw.get("answered_15s", 0) / served, 4) if served > 0 else 0.0,
                "abandon_rate": round(raw.get("abandoned", 0) / served, 4) if served > 0 else 0.0,
                "wait_avg_s": round(raw.get("wait_ms", 0) / answered / 1000, 2) if answered else 0.0,
            }
        return out

    async def talked(self, skill: str, talk_ms: int, day: str | None = None) -> None:
        """An agent's conversation ended: its length counts toward the skill's average handle time."""
        key = f"{PREFIX}stats:{day or today()}:{skill}"
        await self.redis.hincrby(key, "talk_ms", talk_ms)
        await self.redis.hincrby(key, "talked", 1)

    async def expected_wait_s(self, call_id: str, now: int | None = None) -> float | None:
        """How long this waiting caller should still wait, from the skill's answered waits of the last half
        hour and the agents able to take the caller now (formula in acd.waits); None when no caller was
        answered in the window or the caller is not waiting."""
        ahead = await self.position(call_id)
        call = await self.call(call_id)
        if ahead is None or not call.get("skill"):
            return None
        at = now if now is not None else now_ms()
        return expected_wait_s(await self.answered_waits(call["skill"], at), ahead=ahead,
                               agents_now=await self._able_agents(call), now_ms=at)

    async def _able_agents(self, call: dict[str, str]) -> int:
        """Agents ready or serving now who may take this caller (any of its pools, widening included)."""
        pools = pool_skills(call.get("pools") or f"{call['skill']}:1:0")
        return able_agents((await self.agents()).values(), pools)

    async def answered_waits(self, skill: str, now: int | None = None) -> list[AnsweredWait]:
        """The skill's answered callers of the last `WINDOW_S` (older samples are dropped here)."""
        at = now if now is not None else now_ms()
        key = f"{PREFIX}answered:{skill}"
        await self.redis.zremrangebyscore(key, "-inf", at - WINDOW_S * 1000)
        got = await self.redis.zrangebyscore(key, at - WINDOW_S * 1000, "+inf", withscores=True)
        return [AnsweredWait.parse(str(pair[0]), float(pair[1])) for pair in got]

    async def note_answered_wait(self, call_id: str, sample: AnsweredWait, skill: str) -> None:
        """Keep one answered caller's wait for the expected wait of the next half hour."""
        key = f"{PREFIX}answered:{skill}"
        await self.redis.zadd(key, {sample.member(call_id): sample.at_ms})
        await self.redis.expire(key, 2 * WINDOW_S)

    async def _sample_answer(self, call_id: str, at: int) -> None:
        call = await self.call(call_id)
        if not call.get("skill") or not call.get("entered"):
            return
        sample = AnsweredWait(at, max(0, at - int(call["entered"])), int(call.get("places") or 1),
                              await self._able_agents(call))
        await self.note_answered_wait(call_id, sample, call["skill"])

    async def skill_load(self, skill: str) -> SkillLoad:
        """Agents signed in with the skill and callers waiting for it."""
        staffed = waiting = 0
        for agent in (await self.agents()).values():
            if skill in agent.get("skills", "").split(",") and agent.get("state", "signed_out") != "signed_out":
                staffed += 1
        waiting = int(await self.redis.zcard(f"{WAITING}:{skill}"))
        return SkillLoad(staffed=staffed, waiting=waiting)

    async def waiting(self) -> list[dict[str, str]]:
        out = []
        for member in await self.redis.zrange(WAITING, 0, -1):
            call = str(member)
            raw = await self.redis.hgetall(f"{PREFIX}call:{call}")
            out.append({"call_id": call, **{str(k): str(v) for k, v in raw.items()}})
        return out
