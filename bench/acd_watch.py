"""What `bench acd` sees of one side's run, the same way for both ACDs, and the figures made from it.

Clock: wall time (`time.time()`) at the bench for AMI events, Redis' own time for the ACD feed (same host).
- queue entry: app_queue's `QueueCallerJoin`; ours: the ACD's `queued` event (after the greeting), so both
  sides' waits start when the caller enters the queue;
- an offer ringing: the agent's phone in the world gets the call (`Newchannel` for its extension);
- answered: the phone answered (`WorldAgentAnswered`); the agent's talk time for that caller is set on
  the phone as it rings;
- abandoned: the caller's patience (from queue entry) ran out before an answer; the bench hangs up the
  citizen's channel in the world then.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from acd.router import Router
from bench.acd_scenario import SKILLS, Arrival, eligible_after_s
from bench.common import median, percentile
from hotline.core.asterisk.ami import AmiClient, AmiError, AmiMessage, Subscription

SL_S = 15.0
PHONE_CONTEXT = "world-from-hotline"


@dataclass
class Caller:
    number: str
    arrival: Arrival
    world_channel: str = ""
    reached: float | None = None  # the hotline answered the call
    entered: float | None = None
    answered: float | None = None
    agent: str | None = None
    abandoned: float | None = None

    @property
    def wait_s(self) -> float | None:
        """Until an agent answered, for answered callers."""
        return self.answered - self.entered if self.answered is not None and self.entered is not None else None

    @property
    def queued_s(self) -> float | None:
        """Time in the queue: until answered, or until the caller gave up."""
        end = self.answered if self.answered is not None else self.abandoned
        return end - self.entered if end is not None and self.entered is not None else None


@dataclass
class Leg:
    """One offer on an agent's phone, as the phone saw it."""

    agent: str
    caller: str
    rang: float
    answered: float | None = None
    talked: bool = False  # the agent finished the conversation (hung up after talking)
    ended: float | None = None


@dataclass
class Seen:
    """What one side's run showed: callers by number, offers by the phone's channel."""

    callers: dict[str, Caller] = field(default_factory=dict)
    legs: dict[str, Leg] = field(default_factory=dict)

    def busy(self) -> bool:
        """Some agent's phone is still ringing or talking."""
        return any(leg.ended is None for leg in self.legs.values())

    def waiting(self) -> int:
        """Callers connected to the hotline and neither answered nor given up yet."""
        return sum(1 for c in self.callers.values() if c.world_channel and c.answered is None and c.abandoned is None)


class Watch:
    """Follows callers and agents' phones through the world and hotline AMI and the ACD's feed."""

    def __init__(self, world: AmiClient, hotline: AmiClient, acd: Router, agents: frozenset[str]) -> None:
        self.world = world
        self.hotline = hotline
        self.acd = acd
        self.agents = agents
        self.seen = Seen()
        self._call_numbers: dict[str, str] = {}  # our call id -> the caller's number
        self._subs: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._subs = [self.world.subscribe("Newchannel", self._on_ring),
                      self.world.subscribe("UserEvent", self._on_phone),
                      self.world.subscribe("Hangup", self._on_phone_hangup),
                      self.hotline.subscribe("QueueCallerJoin", self._on_queue_join),
                      self.hotline.subscribe("UserEvent", self._on_call_start)]
        self._spawn(self._follow_acd())

    async def close(self) -> None:
        for sub in self._subs:
            sub.cancel()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def expect(self, number: str, arrival: Arrival) -> Caller:
        caller = self.seen.callers[number] = Caller(number, arrival)
        return caller

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_ring(self, event: AmiMessage) -> None:
        agent = str(event.get("Exten", ""))
        if event.get("Context") != PHONE_CONTEXT or agent not in self.agents:
            return
        number = str(event.get("CallerIDNum", ""))
        self.seen.legs[str(event.get("Uniqueid", ""))] = Leg(agent, number, time.time())
        caller = self.seen.callers.get(number)
        if caller is not None:  # the phone talks to this caller for their drawn talk time
            self._spawn(self._set_talk(agent, caller.arrival.talk_s))

    async def _set_talk(self, agent: str, talk_s: int) -> None:
        with contextlib.suppress(AmiError):
            await self.world.action("Setvar", {"Variable": f"WORLD_TALK_{agent}", "Value": str(talk_s)})

    def _on_phone(self, event: AmiMessage) -> None:
        leg = self.seen.legs.get(str(event.get("WorldChannel", "")))
        if leg is None:
            return
        if event.get("UserEvent") == "WorldAgentAnswered":
            leg.answered = time.time()
            caller = self.seen.callers.get(leg.caller)
            if caller is not None and caller.answered is None and caller.abandoned is None:
                caller.answered, caller.agent = leg.answered, leg.agent
        elif event.get("UserEvent") == "WorldAgentHungUp":
            leg.talked = True

    def _on_phone_hangup(self, event: AmiMessage) -> None:
        leg = self.seen.legs.get(str(event.get("Uniqueid", "")))
        if leg is not None and leg.ended is None:
            leg.ended = time.time()

    def _on_queue_join(self, event: AmiMessage) -> None:
        self._entered(str(event.get("CallerIDNum", "")), time.time())

    def _on_call_start(self, event: AmiMessage) -> None:
        if event.get("UserEvent") == "HotlineCallStart":
            self._call_numbers[str(event.get("CallId", ""))] = str(event.get("Caller", ""))

    async def _follow_acd(self) -> None:
        async with self.acd.events() as feed:
            async for event in feed:
                if event.get("event") == "queued":
                    number = self._call_numbers.get(str(event.get("call", "")), "")
                    self._entered(number, float(event["at_ms"]) / 1000)

    def _entered(self, number: str, at: float) -> None:
        caller = self.seen.callers.get(number)
        if caller is None or caller.entered is not None:
            return
        caller.entered = at
        self._spawn(self._patience(caller))

    async def _patience(self, caller: Caller) -> None:
        """The caller hangs up once their patience is spent without an answer."""
        assert caller.entered is not None
        await asyncio.sleep(max(0.0, caller.entered + caller.arrival.patience_s - time.time()))
        if caller.answered is None and caller.world_channel:
            caller.abandoned = time.time()
            with contextlib.suppress(AmiError):
                await self.world.action("Hangup", {"Channel": caller.world_channel})



def summarize(seen: Seen, free_at: Callable[[float], float]) -> dict[str, Any]:
    """The side's figures: service level, waits, abandonment, free → offer, per skill too."""
    callers = [c for c in seen.callers.values() if c.entered is not None]
    out = _levels(callers)
    free_to_offer = _free_to_offer_ms(seen, free_at)
    out.update({
        "free_to_offer_p99_ms": round(percentile(free_to_offer, 99)),
        "free_to_offer_p50_ms": round(median(free_to_offer)),
        "free_to_offer_samples": len(free_to_offer),
        "not_queued": len(seen.callers) - len(callers),
        "answered_by_widened_seat": sum(1 for c in callers if c.agent and eligible_after_s(c.arrival.skill, c.agent)),
        "pre_queue_avg_s": _avg([c.entered - c.reached for c in callers if c.entered and c.reached]),
        "per_skill": {p.skill: _levels([c for c in callers if c.arrival.skill == p.skill]) for p in SKILLS},
    })
    return out


def _levels(callers: list[Caller]) -> dict[str, Any]:
    """`wait_*` counts every caller who queued, until answered or until they gave up: the two sides lose
    different callers, and an average over answered callers only would reward losing the long waits.
    `answered_wait_*` is the usual average speed of answer, for reference."""
    answered = [w for c in callers if (w := c.wait_s) is not None]
    waits = [w for c in callers if (w := c.queued_s) is not None]
    offered = len(callers)
    abandoned = sum(1 for c in callers if c.abandoned is not None)
    return {
        "offered": offered,
        "answered": len(answered),
        "abandoned": abandoned,
        "sl_15s": _share(sum(1 for w in answered if w <= SL_S), offered),
        "wait_avg_s": _avg(waits),
        "wait_p95_s": round(percentile(waits, 95), 2),
        "answered_wait_avg_s": _avg(answered),
        "answered_wait_p95_s": round(percentile(answered, 95), 2),
        "abandon_rate": _share(abandoned, offered),
    }


def _avg(values: list[float]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _free_to_offer_ms(seen: Seen, free_at: Callable[[float], float]) -> list[float]:
    """For every offer whose caller was already waiting, and allowed to that agent by the policy, when the
    agent became free (the previous call's end; `free_at(end)`, by the side's own wrap-up rule, after a
    finished conversation): how long until that offer rang on the agent's phone."""
    samples: list[float] = []
    by_agent: dict[str, list[Leg]] = {}
    for leg in sorted(seen.legs.values(), key=lambda leg: leg.rang):
        by_agent.setdefault(leg.agent, []).append(leg)
    for agent, legs in by_agent.items():
        for prev, nxt in itertools.pairwise(legs):
            caller = seen.callers.get(nxt.caller)
            if prev.ended is None or caller is None or caller.entered is None:
                continue
            after = eligible_after_s(caller.arrival.skill, agent)
            free = free_at(prev.ended) if prev.talked else prev.ended
            if after is not None and caller.entered + after <= free:
                samples.append(max(0.0, nxt.rang - free) * 1000)
    return samples
