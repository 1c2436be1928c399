"""Per agent and per team: the calls each agent answered (talk, wrap-up, ratings) and their signed-in and busy
time from the agents' state log (acd.statelog), clipped to the span. Occupancy = (on_call + wrap_up) ÷
signed-in time, where signed-in time is every logged interval (an open one runs until now)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from acd.directory.models import DirectoryAgent
from acd.statelog import AgentStateInterval
from console.reports.calls import CallFilter, by_key, call_figures
from console.reports.figures import Figures, rate
from console.reports.periods import Span
from console.reports.sql import clip, seconds
from hotline.core.clock import now

A = AgentStateInterval
BUSY = ("on_call", "wrap_up")


@dataclass
class AgentTime:
    signed_in_s: float = 0.0
    busy_s: float = 0.0


@dataclass
class Person:
    agent: str
    name: str
    team: str | None
    figures: Figures = field(default_factory=Figures)
    time: AgentTime = field(default_factory=AgentTime)


async def agent_time(s: AsyncSession, span: Span) -> dict[str, AgentTime]:
    """Signed-in and busy seconds per agent within the span."""
    dialect = s.get_bind().dialect.name
    lo, hi = span.start.timestamp(), min(span.end, now()).timestamp()
    if hi <= lo:
        return {}
    start = clip(seconds(A.started_at, dialect), lo, hi, dialect)
    end = clip(func.coalesce(seconds(A.ended_at, dialect), hi), lo, hi, dialect)
    length = end - start
    query = select(A.agent, func.sum(length), func.sum(case((A.state.in_(BUSY), length), else_=0.0))).where(
        A.started_at < span.end, (A.ended_at.is_(None)) | (A.ended_at > span.start)).group_by(A.agent)
    rows = (await s.execute(query)).all()
    return {agent: AgentTime(float(total or 0), float(busy or 0)) for agent, total, busy in rows}


async def people(s: AsyncSession, span: Span, short_abandon_s: float, teams: Mapping[str, str],
                 team: str | None = None) -> list[Person]:
    """The agents of the directory, and anyone else who answered a call or was signed in during the span; of
    `team` only (as the access checks' `teams` map says) when one is given."""
    names = {a: (n, t) for a, n, t in (await s.execute(
        select(DirectoryAgent.id, DirectoryAgent.name, DirectoryAgent.team))).all()}

    def team_of(agent: str) -> str | None:
        return teams.get(agent) or (names.get(agent) or ("", None))[1]

    members = None if team is None else sorted({a for a in [*names, *teams] if team_of(a) == team})
    figures = by_key(await call_figures(s, span, CallFilter(agents=members), short_abandon_s, key="agent"))
    times = await agent_time(s, span)
    known: dict[str, Person] = {}
    for agent in {*(members if members is not None else names), *map(str, filter(None, figures)), *times}:
        if members is None or agent in members:
            known[agent] = Person(agent, (names.get(agent) or (agent, None))[0], team_of(agent),
                                  figures.get(agent, Figures()), times.get(agent, AgentTime()))
    return sorted(known.values(), key=lambda p: p.agent)


def person_row(figures: Figures, time: AgentTime) -> dict[str, Any]:
    k = figures.kpis()
    return {"answered": k["answered"], "talk_avg_s": k["talk_avg_s"], "wrap_up_avg_s": k["wrap_up_avg_s"],
            "signed_in_s": round(time.signed_in_s), "busy_s": round(time.busy_s),
            "occupancy": rate_f(time.busy_s, time.signed_in_s), "rated": k["rated"],
            "satisfaction": k["satisfaction"], "satisfaction_rate": k["satisfaction_rate"],
            "rating_coverage": k["rating_coverage"]}


def rate_f(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def agent_rows(persons: list[Person]) -> list[dict[str, Any]]:
    return [{"agent": p.agent, "name": p.name, "team": p.team, **person_row(p.figures, p.time)} for p in persons]


def team_rows(persons: list[Person]) -> list[dict[str, Any]]:
    teams: dict[str, list[Person]] = defaultdict(list)
    for p in persons:
        teams[p.team or ""].append(p)
    rows = []
    for team, members in sorted(teams.items()):
        time = AgentTime(sum(p.time.signed_in_s for p in members), sum(p.time.busy_s for p in members))
        rows.append({"team": team or None, "agents": len(members),
                     **person_row(Figures.total([p.figures for p in members]), time)})
    return rows


__all__ = ["agent_rows", "people", "rate", "team_rows"]
