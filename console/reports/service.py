"""The reports: KPIs over a span by period with the previous period and last year's, volumes by one
dimension, agents and teams, and the monthly report to the city government."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from console.reports.agents import Person, agent_rows, people, team_rows
from console.reports.around import TICKET_KEYS, around_figures
from console.reports.calls import CallFilter, by_day, by_key
from console.reports.figures import FORMULAS, Figures
from console.reports.periods import By, Span, day_of, month_span, split
from console.reports.rollup import RolledFigures
from hotline.core.db.engine import SessionFactory

DIMENSIONS = ("line", "skill", "request_type", "category", "region", "hour")
SHORT_ABANDON_S = 5.0


@dataclass(frozen=True)
class Slice:
    """Which calls a KPI report counts: a line, a skill, the agents of a team or one agent (None: all)."""

    line: str | None = None
    skill: str | None = None
    agents: Collection[str] | None = None
    short_abandon_s: float = SHORT_ABANDON_S

    @property
    def calls(self) -> CallFilter:
        return CallFilter(self.line, self.skill, self.agents)


class Reports:
    def __init__(self, sessions: SessionFactory, source: RolledFigures | None = None) -> None:
        self.sessions = sessions
        self.source = source or RolledFigures()

    async def _days(self, s: AsyncSession, span: Span, which: Slice) -> dict[int, Figures]:
        days = by_day(await self.source.call_figures(s, span, which.calls, which.short_abandon_s))
        if which.agents is None and not which.line and not which.skill:  # the rows around calls are the centre's
            for (day, _), n in (await self.source.ticket_counts(s, span)).items():
                days.setdefault(day, Figures()).tickets += n
            for day, f in (await around_figures(s, span)).items():
                days.setdefault(day, Figures()).add(f)
        elif which.agents is not None:
            for (day, _), n in (await self.source.ticket_counts(s, span, creators=which.agents)).items():
                days.setdefault(day, Figures()).tickets += n
        return days

    async def _total(self, s: AsyncSession, span: Span, which: Slice) -> dict[str, Any]:
        days = await self._days(s, span, which)
        return {**span.to_json(), **Figures.total(list(days.values())).kpis()}

    async def kpis(self, span: Span, by: By, which: Slice) -> dict[str, Any]:
        async with self.sessions() as s:
            days = await self._days(s, span, which)
            periods = []
            for name, part in split(span, by):
                f = Figures.total([days[d] for d in part.day_numbers if d in days])
                periods.append({"period": name, **part.to_json(), **f.kpis()})
            total = Figures.total(list(days.values())).kpis()
            previous = await self._total(s, span.previous(), which)
            last_year = await self._total(s, span.last_year(), which)
        return {**span.to_json(), "by": by, "totals": total, "periods": periods, "previous": previous,
                "last_year": last_year, "formulas": FORMULAS}

    async def volumes(self, span: Span, dimension: str, agents: Collection[str] | None = None,
                      short_abandon_s: float = SHORT_ABANDON_S) -> dict[str, Any]:
        async with self.sessions() as s:
            rows = await self._volume_rows(s, span, dimension, agents, short_abandon_s)
        return {"dimension": dimension, **span.to_json(), "rows": rows}

    async def _volume_rows(self, s: AsyncSession, span: Span, dimension: str, agents: Collection[str] | None,
                           short_abandon_s: float) -> list[dict[str, Any]]:
        if dimension in TICKET_KEYS:
            counts: dict[Any, int] = {}
            for (_, key), n in (await self.source.ticket_counts(s, span, dimension, creators=agents)).items():
                counts[key or None] = counts.get(key or None, 0) + n  # '' (no region) and NULL alike
            return [{"key": key, "label": key or "未填", "offered": None, "answered": None, "abandoned": None,
                     "answer_rate_15s": None, "tickets": n}
                    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))]
        parts = by_key(await self.source.call_figures(s, span, CallFilter(agents=agents), short_abandon_s,
                                                      key=dimension, whole_span=True))
        keys: list[Any] = list(range(24)) if dimension == "hour" else sorted(parts, key=str)
        rows = []
        for key in keys:
            k = parts.get(key, Figures()).kpis()
            rows.append({"key": key, "label": f"{key:02d}:00" if dimension == "hour" else (key or "未知"),
                         "offered": k["offered"], "answered": k["answered"], "abandoned": k["abandoned"],
                         "answer_rate_15s": k["answer_rate_15s"], "queued": k["queued"],
                         "connection_rate": k["connection_rate"]})
        return rows

    async def _people(self, span: Span, teams: Mapping[str, str], team: str | None) -> list[Person]:
        async with self.sessions() as s:
            return await people(s, span, SHORT_ABANDON_S, teams, team, self.source)

    async def agents(self, span: Span, teams: Mapping[str, str], team: str | None = None) -> dict[str, Any]:
        return {**span.to_json(), "rows": agent_rows(await self._people(span, teams, team))}

    async def teams(self, span: Span, teams: Mapping[str, str], team: str | None = None) -> dict[str, Any]:
        return {**span.to_json(), "rows": team_rows(await self._people(span, teams, team))}

    async def monthly(self, month: str, teams: Mapping[str, str], team: str | None = None) -> dict[str, Any]:
        span = month_span(month)
        report = await self.kpis(span, "day", Slice())
        async with self.sessions() as s:
            parts = {d: await self._volume_rows(s, span, d, None, SHORT_ABANDON_S)
                     for d in ("line", "request_type", "category", "region")}
            team_figures = team_rows(await people(s, span, SHORT_ABANDON_S, teams, team, self.source))
        return {"month": month, **span.to_json(), "totals": report["totals"], "previous": report["previous"],
                "last_year": report["last_year"], "daily": report["periods"], "lines": parts["line"],
                "request_types": parts["request_type"], "categories": parts["category"][:10],
                "regions": parts["region"], "teams": team_figures, "formulas": FORMULAS}


__all__ = ["DIMENSIONS", "Reports", "Slice", "day_of"]
