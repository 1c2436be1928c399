"""Per agent and per team: the calls each agent answered (talk, wrap-up, ratings) and their signed-in and busy
time from the agents' state log (acd.statelog), clipped to the span. Occupancy = (on_call + wrap_up) ÷
signed-in time, where signed-in time is every logged interval (an open one runs until now)."""

from __future__ import annotations

from collections import defaultdict
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


async def people(s: AsyncSession, span: Span, short_abandon_s: float, team: str | None = None) -> list[Person]:
    """Every agent of the directory (of `team`), and anyone else who answered a call in the span."""
    query = select(DirectoryAgent.id, DirectoryAgent.name, DirectoryAgent.team)
    if team is not None:
        query = query.where(DirectoryAgent.team == team)
    known = {a: Person(a, n, t) for a, n, t in (await s.execute(query)).all()}
    which = CallFilter(agents=list(known) if team is not None else None)
    figures = by_key(await call_figures(s, span, which, short_abandon_s, key="agent"))
    times = await agent_time(s, span)
    for agent, f in figures.items():
        if agent is None:
            continue
        person = known.setdefault(str(agent), Person(str(agent), str(agent), None))
        person.figures = f
    for agent, t in times.items():
        if agent in known:
            known[agent].time = t
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
