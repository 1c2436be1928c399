"""Inbound pressure on the revisit dialer (R-ACC-8), read from the ACD's live state: callers waiting for an
agent now, and the inbound service level over a recent window.

The ACD counts, per day and skill, the callers queued (`offered`) and those an agent answered within 15 s
(`answered_15s`). Sampling these counters every few seconds gives the same figures over the last
`window_s`: the service level is the share answered in time among the window's callers whose fate is
known (one still waiting or ringing an agent for less than 15 s counts neither way yet; one waiting
longer has already missed). Petitioners the robot handed to a person (the revisit skill) are the robot's
own work and count for nothing. The samples live in the service, so right after a restart the window
covers only the time since.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from acd.store import SL_THRESHOLD_MS, today
from dialplans.model import RevisitSettings

SAMPLE_S = 5.0  # the counters are kept this often
REFRESH_S = 0.5  # the service level is read again at most this often (waiting callers on every call)
UNDECIDED = ("waiting", "offered")


class AcdFigures(Protocol):
    """What the pressure reads from the ACD (`acd.store.AcdStore` has it)."""

    async def waiting(self) -> list[dict[str, str]]: ...

    async def calls(self) -> dict[str, dict[str, str]]: ...

    async def stats(self, day: str) -> dict[str, dict[str, float]]: ...


@dataclass(frozen=True)
class Pressure:
    """What inbound callers ask of the dialer now."""

    waiting: int = 0  # inbound callers waiting for an agent
    offered: int = 0  # inbound callers of the window whose fate is known
    answered_in_time: int = 0  # of those, answered by an agent within 15 s

    @property
    def service_level(self) -> float | None:
        return round(self.answered_in_time / self.offered, 3) if self.offered else None

    def holds_back(self, settings: RevisitSettings) -> str | None:
        """Why no new revisit call may start now (callers_waiting, service_level); None when one may."""
        if self.waiting >= settings.yield_waiting:
            return "callers_waiting"
        if settings.service_level.breached(self.offered, self.answered_in_time):
            return "service_level"
        return None

    def as_json(self) -> dict[str, Any]:
        return {"waiting": self.waiting, "offered": self.offered, "service_level": self.service_level}


@dataclass(frozen=True)
class _Sample:
    at: float  # the clock's seconds
    day: str
    offered: int
    answered: int


class InboundPressure:
    """The dialer's pressure signal: `await pressure()` reads it now."""

    def __init__(self, acd: AcdFigures, settings: RevisitSettings, clock: Callable[[], float] = time.time,
                 day: Callable[[], str] = today) -> None:
        self._acd, self._skill, self._gate = acd, settings.skill, settings.service_level
        self._clock, self._day = clock, day
        self._samples: deque[_Sample] = deque()
        self._window = (0, 0)
        self._read_at = -math.inf

    async def __call__(self) -> Pressure:
        waiting = sum(1 for c in await self._acd.waiting() if c.get("skill") != self._skill)
        now = self._clock()
        if self._gate.below > 0 and now - self._read_at >= REFRESH_S:
            self._window, self._read_at = await self._service_level(now), now
        return Pressure(waiting, *self._window)

    async def _service_level(self, now: float) -> tuple[int, int]:
        """Inbound callers of the window whose fate is known, and how many of them were answered in time."""
        day = self._day()
        skills = [figures for skill, figures in (await self._acd.stats(day)).items() if skill != self._skill]
        sample = _Sample(now, day, sum(int(f["offered"]) for f in skills), sum(int(f["answered_15s"]) for f in skills))
        last = self._samples[-1] if self._samples else None
        if last is not None and (last.day != day or sample.offered < last.offered or sample.answered < last.answered):
            self._samples.clear()  # a new day, or counters lost with Redis: a new window
        if not self._samples or now - self._samples[-1].at >= SAMPLE_S:
            self._samples.append(sample)
        while len(self._samples) > 1 and self._samples[1].at <= now - self._gate.window_s:
            self._samples.popleft()
        since = self._samples[0]
        undecided = sum(1 for c in (await self._acd.calls()).values()
                        if c.get("skill") != self._skill and c.get("state") in UNDECIDED
                        and int(c.get("entered") or 0) >= max(since.at * 1000, now * 1000 - SL_THRESHOLD_MS))
        offered = max(0, sample.offered - since.offered - undecided)
        return offered, min(sample.answered - since.answered, offered)
