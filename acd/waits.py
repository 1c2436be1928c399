"""The expected wait told to a queued caller (R-ACC-9), from the last half hour, not from the day.

Every answered caller leaves one sample: how long they waited, how many places they were from the front
when they joined (themselves included) and how many agents could take them when they were answered.
`waited × agents ÷ places` is then the time one agent needed per caller ahead — the recent pace, in which
talk time, wrap-up and missed offers are all already counted. A caller with `ahead` callers in front of
them and `agents` able to take them now is told

    expected = (ahead + 1) × mean(waited × agents_then ÷ places) ÷ agents_now

over the samples of the last `WINDOW_S` (30 minutes) for the skill. "Able to take them" is every agent
ready, ringing, talking or in wrap-up with one of the caller's pools (the skill and, widened, the skills
it overflows to at their minimum level); paused and signed-out agents do not count. With nobody able to
take the call now the pace is not divided (the estimate of the last half hour's staffing stands); with no
sample in the window nothing is promised (None) — never a whole-day average.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

WINDOW_S = 30 * 60
SERVING = frozenset({"ready", "offered", "on_call", "wrap_up"})


@dataclass(frozen=True)
class AnsweredWait:
    """One answered caller: when (ms), how long they waited (ms), their place at entry (1 = first), and the
    agents able to take them at the answer."""

    at_ms: int
    waited_ms: int
    places: int
    agents: int

    def member(self, call_id: str) -> str:
        """Its form in the Redis sorted set (scored by `at_ms`)."""
        return f"{call_id}|{self.waited_ms}|{self.places}|{self.agents}"

    @classmethod
    def parse(cls, member: str, at_ms: float) -> AnsweredWait:
        _, waited, places, agents = member.rsplit("|", 3)
        return cls(int(at_ms), int(waited), max(1, int(places)), max(1, int(agents)))


def pace_s(history: Iterable[AnsweredWait], now_ms: int, window_s: int = WINDOW_S) -> float | None:
    """Seconds one agent needed per caller in line, over the window's answered callers; None without any."""
    since = now_ms - window_s * 1000
    per_place = [w.waited_ms * w.agents / w.places for w in history if since < w.at_ms <= now_ms]
    if not per_place:
        return None
    return sum(per_place) / len(per_place) / 1000


def expected_wait_s(history: Iterable[AnsweredWait], *, ahead: int, agents_now: int, now_ms: int,
                    window_s: int = WINDOW_S) -> float | None:
    """(ahead + 1) × the recent pace ÷ the agents able to take the caller now (see the module's docstring)."""
    pace = pace_s(history, now_ms, window_s)
    if pace is None:
        return None
    return (ahead + 1) * pace / max(1, agents_now)


def pool_skills(pools: str) -> dict[str, int]:
    """`skill:min_level:after_ms,…` (see acd.policy) as skill → minimum level."""
    out: dict[str, int] = {}
    for pool in filter(None, pools.split(",")):
        skill, level, *_ = pool.split(":")
        out[skill] = min(out.get(skill, int(level)), int(level))
    return out


def able_agents(agents: Iterable[dict[str, str]], pools: dict[str, int]) -> int:
    """Agents ready or serving (not paused, not signed out) with one of the pools' skills at its level."""
    return sum(1 for a in agents if a.get("state") in SERVING
               and any(int(a.get(f"lvl:{skill}", "0") or 0) >= level for skill, level in pools.items()))
