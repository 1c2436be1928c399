"""Daily rollups of the report figures, so a month of 3 million calls is read from a few thousand rows.

For each closed China day (`report_rollup_days` says when it was built) `report_rollups` holds the day's
Figures (JSON) per (hour, line, skill) — kind `hour` —, per agent — kind `agent` —, and ticket counts per
(request type, category) — kind `tickets`. Days not rolled up (today, or not built yet) and the slices a rollup
cannot answer (a team's calls by line, a non-whole short-abandon threshold, tickets by creator) are counted
directly; the figures are the same either way (tests/console/reports/test_rollup.py). A day is rebuilt when its
rollup was built less than `SETTLE` after its end (late wrap-ups and ratings of calls near midnight)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Hashable
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from console.reports.around import ticket_counts
from console.reports.calls import CallFilter, call_figures
from console.reports.figures import Figures
from console.reports.periods import Span, day_of
from console.reports.sql import china_day
from hotline.calls.models import CallRecord
from hotline.core.clock import china_day as china_day_of
from hotline.core.clock import now
from hotline.core.db.base import Base
from hotline.core.db.engine import SessionFactory
from hotline.core.workers import LoopWorker
from tickets.models import Ticket

log = logging.getLogger(__name__)
SETTLE = timedelta(hours=1)
HOUR_KEYS = ("hour", "line", "skill")
DayKey = tuple[int, Hashable]


class ReportRollup(Base):
    __tablename__ = "report_rollups"
    __table_args__ = (Index("ix_report_rollups_day_kind", "day", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)  # days since 1970-01-01, China date
    kind: Mapped[str] = mapped_column(String(8))  # hour | agent | tickets
    hour: Mapped[int] = mapped_column(Integer, default=-1)
    line: Mapped[str] = mapped_column(String(32), default="")
    skill: Mapped[str] = mapped_column(String(64), default="")
    agent: Mapped[str] = mapped_column(String(32), default="")
    request_type: Mapped[str] = mapped_column(String(8), default="")
    category: Mapped[str] = mapped_column(String(16), default="")
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReportRollupDay(Base):
    __tablename__ = "report_rollup_days"

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    built_at: Mapped[datetime]


def to_json(f: Figures) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fd in fields(f):
        value = getattr(f, fd.name)
        if isinstance(value, Counter):
            if value:
                out[fd.name] = {str(k): v for k, v in value.items()}
        elif value:
            out[fd.name] = value
    return out


INT_KEYED = ("waits", "abandon_waits")


def from_json(data: dict[str, Any]) -> Figures:
    f = Figures()
    for name, value in data.items():
        if isinstance(value, dict):
            getattr(f, name).update({int(k) if name in INT_KEYED else k: v for k, v in value.items()})
        else:
            setattr(f, name, value)
    return f


def _blank(value: Any) -> str:
    return "" if value is None else str(value)


def _none(value: str) -> str | None:
    return value or None


async def build_day(s: AsyncSession, day: int) -> int:
    """(Re)build one day's rollup rows in the session's transaction; how many rows."""
    span = Span(day_of(day), day_of(day))
    await s.execute(delete(ReportRollup).where(ReportRollup.day == day))
    rows: list[ReportRollup] = []
    by_hour = await call_figures(s, span, CallFilter(), 0, key=HOUR_KEYS, abandon_waits=True)
    for (_, key), f in by_hour.items():
        assert isinstance(key, tuple)
        rows.append(ReportRollup(day=day, kind="hour", hour=int(key[0]), line=_blank(key[1]), skill=_blank(key[2]),
                                 figures=to_json(f)))
    for (_, agent), f in (await call_figures(s, span, CallFilter(), 0, key="agent", abandon_waits=True)).items():
        rows.append(ReportRollup(day=day, kind="agent", agent=_blank(agent), figures=to_json(f)))
    tickets = select(Ticket.request_type, Ticket.category, func.count()).where(
        Ticket.submitted_at >= span.start, Ticket.submitted_at < span.end).group_by(Ticket.request_type,
                                                                                    Ticket.category)
    for request_type, category, n in (await s.execute(tickets)).all():
        rows.append(ReportRollup(day=day, kind="tickets", request_type=_blank(request_type),
                                 category=_blank(category), figures={"tickets": n}))
    s.add_all(rows)
    await s.merge(ReportRollupDay(day=day, built_at=now()))
    return len(rows)


async def due_days(s: AsyncSession, at: datetime, horizon_days: int = 400) -> list[int]:
    """Closed days with calls, not rolled up yet or rolled up before they settled, oldest first."""
    dialect = s.get_bind().dialect.name
    last_closed = china_day_of(at - SETTLE) - timedelta(days=1)
    first = last_closed - timedelta(days=horizon_days)
    span = Span(first, last_closed)
    day = china_day(CallRecord.started_at, dialect)
    with_calls = set((await s.scalars(select(day).where(CallRecord.started_at >= span.start,
                                                         CallRecord.started_at < span.end).distinct())).all())
    built = {d: b for d, b in (await s.execute(select(ReportRollupDay.day, ReportRollupDay.built_at).where(
        ReportRollupDay.day.in_(list(span.day_numbers))))).all()}
    due = []
    for d in sorted(with_calls):
        settled_at = Span(day_of(d), day_of(d)).end + SETTLE
        if d not in built or built[d] < settled_at:
            due.append(int(d))
    return due


class Rollups(LoopWorker):
    """Builds the rollups of closed days as they settle (and of past days not built yet)."""

    name = "report-rollups"

    def __init__(self, sessions: SessionFactory, every_s: float = 600.0, per_step: int = 5) -> None:
        super().__init__()
        self._sessions, self._every_s, self._per_step = sessions, every_s, per_step

    async def step(self) -> float:
        async with self._sessions() as s:
            due = await due_days(s, now())
        for day in due[:self._per_step]:
            async with self._sessions.begin() as s:
                built = await build_day(s, day)
            log.info("report rollup of %s: %d rows", day_of(day), built)
        return 1.0 if len(due) > self._per_step else self._every_s

    async def rebuild(self, days: Collection[int]) -> None:
        for day in days:
            async with self._sessions.begin() as s:
                await build_day(s, day)


class RolledFigures:
    """Figures from the rollups for the days that have them, counted directly for the rest."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    async def _built(self, s: AsyncSession, span: Span) -> set[int]:
        if not self.enabled:
            return set()
        days = list(span.day_numbers)
        return set((await s.scalars(select(ReportRollupDay.day).where(
            ReportRollupDay.day >= days[0], ReportRollupDay.day <= days[-1]))).all())

    async def call_figures(self, s: AsyncSession, span: Span, which: CallFilter, short_abandon_s: float,
                           key: str | None = None) -> dict[DayKey, Figures]:
        kind = self._kind(which, short_abandon_s, key)
        built = await self._built(s, span) if kind else set()
        out: dict[DayKey, Figures] = {}
        for part in _runs(span, built, rolled=False):
            out.update(await call_figures(s, part, which, short_abandon_s, key))
        if built and kind:
            out.update(await self._rolled(s, sorted(built), kind, which, short_abandon_s, key))
        return out

    @staticmethod
    def _kind(which: CallFilter, short_abandon_s: float, key: str | None) -> str | None:
        if short_abandon_s != int(short_abandon_s):
            return None
        if which.agents is None and key in (None, "line", "skill", "hour"):
            return "hour"
        if key in (None, "agent") and not which.line and not which.skill:
            return "agent"
        return None

    async def _rolled(self, s: AsyncSession, days: list[int], kind: str, which: CallFilter, short_abandon_s: float,
                      key: str | None) -> dict[DayKey, Figures]:
        R = ReportRollup
        query = select(R.day, R.hour, R.line, R.skill, R.agent, R.figures).where(
            R.kind == kind, R.day >= days[0], R.day <= days[-1])
        if which.line:
            query = query.where(R.line == which.line)
        if which.skill:
            query = query.where(R.skill == which.skill)
        if which.agents is not None:
            query = query.where(R.agent.in_(list(which.agents)))
        elif kind == "agent" and key is None:
            raise AssertionError("agent rollups answer only agent-keyed or agent-filtered figures")
        wanted = set(days)
        out: dict[DayKey, Figures] = {}
        for day, hour, line, skill, agent, data in (await s.execute(query)).all():
            if day not in wanted:
                continue
            value: Hashable = {"hour": hour, "line": _none(line), "skill": _none(skill),
                               "agent": _none(agent), None: None}[key]
            f = from_json(data)
            f.short_abandoned = sum(n for second, n in f.abandon_waits.items() if second < short_abandon_s)
            out.setdefault((int(day), value), Figures()).add(f)
        return out

    async def ticket_counts(self, s: AsyncSession, span: Span, key: str | None = None,
                            creators: Collection[str] | None = None) -> dict[DayKey, int]:
        built = await self._built(s, span) if creators is None else set()
        out: dict[DayKey, int] = {}
        for part in _runs(span, built, rolled=False):
            out.update(await ticket_counts(s, part, key, creators))
        if built:
            R = ReportRollup
            days = sorted(built)
            query = select(R.day, R.request_type, R.category, R.figures).where(
                R.kind == "tickets", R.day >= days[0], R.day <= days[-1])
            for day, request_type, category, data in (await s.execute(query)).all():
                if day in built:
                    value = {"request_type": _none(request_type), "category": _none(category), None: None}[key]
                    k = (int(day), value)
                    out[k] = out.get(k, 0) + int(data.get("tickets", 0))
        return out


def _runs(span: Span, built: set[int], rolled: bool) -> list[Span]:
    """The span's stretches of consecutive days that are (`rolled`) or are not in `built`."""
    runs: list[Span] = []
    for number in span.day_numbers:
        if (number in built) != rolled:
            continue
        day = day_of(number)
        if runs and runs[-1].last == day - timedelta(days=1):
            runs[-1] = Span(runs[-1].first, day)
        else:
            runs.append(Span(day, day))
    return runs
