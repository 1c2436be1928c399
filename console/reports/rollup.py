"""Daily rollups of the report figures, so a month of 3 million calls is read from a few thousand rows.

For each closed China day (`report_rollup_days` says when it was built) `report_rollups` holds the day's
Figures (JSON) per (hour, line, skill) — kind `hour` —, per agent — kind `agent` —, and ticket counts per
(request type, category) — kind `tickets`. Days not rolled up (today, or not built yet) and the slices a rollup
cannot answer (a team's calls by line, a non-whole short-abandon threshold, tickets by creator) are counted
directly; the figures are the same either way (tests/console/reports/test_rollup.py). A day is rebuilt when its
rollup was built less than `SETTLE` after its end (late wrap-ups and ratings of calls near midnight)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Hashable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Float, Index, Integer, String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from console.reports.around import ticket_counts
from console.reports.calls import CallFilter, call_figures
from console.reports.figures import LEVELS, Figures
from console.reports.periods import Span, day_of
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


COUNTS = ("offered", "answered", "self_served", "queued", "answered_15s", "abandoned", "voice_messages", "wait_n",
          "talk_n", "wrap_up_n", "rated")
SUMS = ("wait_sum", "talk_sum", "wrap_up_sum")
LEVEL_COLUMNS = tuple(f"sat_{level}" for level in LEVELS)


class ReportRollup(Base):
    """One closed day's additive figures for one slice: kind `hour` (an hour, line and skill), `agent` (the agent
    who answered; '' for calls nobody answered) or `tickets` (a request type, category and region)."""

    __tablename__ = "report_rollups"
    __table_args__ = (Index("ix_report_rollups_kind_day", "kind", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)  # days since 1970-01-01, China date
    kind: Mapped[str] = mapped_column(String(8))
    hour: Mapped[int] = mapped_column(Integer, default=-1)
    line: Mapped[str] = mapped_column(String(32), default="")
    skill: Mapped[str] = mapped_column(String(64), default="")
    agent: Mapped[str] = mapped_column(String(32), default="")
    request_type: Mapped[str] = mapped_column(String(8), default="")
    category: Mapped[str] = mapped_column(String(16), default="")
    region: Mapped[str] = mapped_column(String(32), default="")
    offered: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    self_served: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    answered_15s: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    voice_messages: Mapped[int] = mapped_column(Integer, default=0)
    wait_n: Mapped[int] = mapped_column(Integer, default=0)
    wait_sum: Mapped[float] = mapped_column(Float, default=0.0)
    talk_n: Mapped[int] = mapped_column(Integer, default=0)
    talk_sum: Mapped[float] = mapped_column(Float, default=0.0)
    wrap_up_n: Mapped[int] = mapped_column(Integer, default=0)
    wrap_up_sum: Mapped[float] = mapped_column(Float, default=0.0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    sat_1: Mapped[int] = mapped_column(Integer, default=0)
    sat_2: Mapped[int] = mapped_column(Integer, default=0)
    sat_3: Mapped[int] = mapped_column(Integer, default=0)
    sat_4: Mapped[int] = mapped_column(Integer, default=0)
    sat_5: Mapped[int] = mapped_column(Integer, default=0)
    tickets: Mapped[int] = mapped_column(Integer, default=0)


class ReportRollupSecond(Base):
    """A closed day's waits by whole second, for the whole centre (kind `centre`): answered waits (`wait`,
    rounded up: the p95) and abandoned ones (`abandon`, rounded down: short abandons for any whole threshold)."""

    __tablename__ = "report_rollup_seconds"
    __table_args__ = (Index("ix_report_rollup_seconds_kind_day", "kind", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    day: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # centre
    measure: Mapped[str] = mapped_column(String(8))  # wait | abandon
    second: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)


class ReportRollupDay(Base):
    __tablename__ = "report_rollup_days"

    day: Mapped[int] = mapped_column(Integer, primary_key=True)
    built_at: Mapped[datetime]


def _blank(value: Any) -> str:
    return "" if value is None else str(value)


def _none(value: str) -> str | None:
    return value or None


def _columns(f: Figures) -> dict[str, Any]:
    return {**{c: getattr(f, c) for c in (*COUNTS, *SUMS)},
            **{f"sat_{level}": f.satisfaction[level] for level in LEVELS}}


def _seconds(day: int, f: Figures) -> list[ReportRollupSecond]:
    return [ReportRollupSecond(day=day, kind="centre", measure=measure, second=second, n=n)
            for measure, counter in (("wait", f.waits), ("abandon", f.abandon_waits)) for second, n in counter.items()]


async def build_day(s: AsyncSession, day: int) -> int:
    """(Re)build one day's rollup rows in the session's transaction; how many rows."""
    span = Span(day_of(day), day_of(day))
    for table in (ReportRollup, ReportRollupSecond):
        await s.execute(delete(table).where(table.day == day))
    rows: list[Base] = []
    for (_, key), f in (await call_figures(s, span, CallFilter(), 0, key=HOUR_KEYS)).items():
        assert isinstance(key, tuple)
        rows.append(ReportRollup(day=day, kind="hour", hour=int(key[0]), line=_blank(key[1]), skill=_blank(key[2]),
                                 **_columns(f)))
    for (_, _none_key), f in (await call_figures(s, span, CallFilter(), 0, abandon_waits=True)).items():
        rows += _seconds(day, f)
    for (_, agent), f in (await call_figures(s, span, CallFilter(), 0, key="agent")).items():
        rows.append(ReportRollup(day=day, kind="agent", agent=_blank(agent), **_columns(f)))
    keys = (Ticket.request_type, Ticket.category, Ticket.region)
    tickets = select(*keys, func.count()).where(
        Ticket.submitted_at >= span.start, Ticket.submitted_at < span.end).group_by(*keys)
    for request_type, category, region, n in (await s.execute(tickets)).all():
        rows.append(ReportRollup(day=day, kind="tickets", request_type=_blank(request_type),
                                 category=_blank(category), region=_blank(region), tickets=n))
    s.add_all(rows)
    await s.merge(ReportRollupDay(day=day, built_at=now()))
    return len(rows)


async def due_days(s: AsyncSession, at: datetime, horizon_days: int = 400) -> list[int]:
    """Closed days since the first call (within the horizon) not rolled up yet or rolled up before they settled,
    oldest first (an index lookup and the markers: no scan of the calls)."""
    earliest = await s.scalar(select(func.min(CallRecord.started_at)))
    if earliest is None:
        return []
    last_closed = china_day_of(at - SETTLE) - timedelta(days=1)
    first = max(last_closed - timedelta(days=horizon_days), china_day_of(earliest))
    if first > last_closed:
        return []
    span = Span(first, last_closed)
    built = {d: b for d, b in (await s.execute(select(ReportRollupDay.day, ReportRollupDay.built_at).where(
        ReportRollupDay.day >= span.day_numbers[0], ReportRollupDay.day <= span.day_numbers[-1]))).all()}
    due = []
    for d in span.day_numbers:
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

    async def rebuild(self, days: Collection[int],
                      progress: Callable[[date, int, int, int], None] | None = None) -> int:
        """Build `days` again, each in its own transaction; rows written in all. `progress(day, rows, done, of)`
        after each day."""
        total = 0
        for done, day in enumerate(days, 1):
            async with self._sessions.begin() as s:
                rows = await build_day(s, day)
            total += rows
            if progress is not None:
                progress(day_of(day), rows, done, len(days))
        return total


class RolledFigures:
    """Figures from the rollups for the days that have them, counted directly for the rest."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    async def _built(self, s: AsyncSession, span: Span) -> set[int]:
        if not self.enabled:
            return set()
        days = span.day_numbers
        return set((await s.scalars(select(ReportRollupDay.day).where(
            ReportRollupDay.day >= days[0], ReportRollupDay.day <= days[-1]))).all())

    async def call_figures(self, s: AsyncSession, span: Span, which: CallFilter, short_abandon_s: float,
                           key: str | None = None, whole_span: bool = False) -> dict[DayKey, Figures]:
        """As `calls.call_figures`; with `whole_span` all under the span's first day number."""
        kind = self._kind(which, short_abandon_s, key)
        built = await self._built(s, span) if kind else set()
        out: dict[DayKey, Figures] = {}
        parts = [await call_figures(s, part, which, short_abandon_s, key, whole_span=whole_span)
                 for part in _runs(span, built, rolled=False)]
        if built and kind:
            parts.append(await self._rolled(s, sorted(built), kind, which, short_abandon_s, key, whole_span))
        first = span.day_numbers[0]
        for part in parts:
            for (day, value), f in part.items():
                k = (first if whole_span else day, value)
                if k in out:
                    out[k].add(f)
                else:
                    out[k] = f
        return out

    @staticmethod
    def _kind(which: CallFilter, short_abandon_s: float, key: str | None) -> str | None:
        """Which rollup answers: `hour` the centre's figures (a line, a skill; by hour, line or skill), `agent`
        per agent or for some agents; None: count directly (a team's calls on a line; a threshold that is not
        a whole second; whole-day figures of a line or skill need the waits, which are kept per day only)."""
        if short_abandon_s != int(short_abandon_s):
            return None
        if which.agents is None and key in ("line", "skill", "hour"):
            return "hour"
        if which.agents is None and key is None:
            return None if which.line or which.skill else "hour"
        if key == "agent" and not which.line and not which.skill:
            return "agent"
        return None  # a team's whole-day figures need their waits: counted directly (the agent index)

    async def _rolled(self, s: AsyncSession, days: list[int], kind: str, which: CallFilter, short_abandon_s: float,
                      key: str | None, whole_span: bool = False) -> dict[DayKey, Figures]:
        """The days' figures summed by the database; wait histograms (p95, short abandons) for whole days only,
        the one place the reports show them."""
        R, S = ReportRollup, ReportRollupSecond
        column = {"hour": R.hour, "line": R.line, "skill": R.skill, "agent": R.agent}.get(key or "")
        day = func.min(R.day) if whole_span else R.day  # a whole span: any one day stands for it
        group: list[Any] = [day] if column is None else [day, column]
        grouping = ([] if whole_span else [R.day]) + ([] if column is None else [column])
        filters: list[Any] = [R.kind == kind, R.day.in_(days)]
        if which.line:
            filters.append(R.line == which.line)
        if which.skill:
            filters.append(R.skill == which.skill)
        if which.agents is not None:
            filters.append(R.agent.in_(list(which.agents)))
        sums = [func.sum(getattr(R, c)) for c in (*COUNTS, *SUMS, *LEVEL_COLUMNS)]
        out: dict[DayKey, Figures] = {}
        query = select(*group, *sums).where(*filters)
        for row in (await s.execute(query.group_by(*grouping) if grouping else query)).all():
            if row[0] is None:
                continue  # no rows at all
            value: Hashable = None if column is None else row[1] if key == "hour" else _none(row[1])
            v = row[len(group):]
            f = Figures()
            for c, x in zip((*COUNTS, *SUMS), v, strict=False):
                setattr(f, c, float(x or 0) if c in SUMS else int(x or 0))
            f.satisfaction.update({level: int(n or 0) for level, n in zip(LEVELS, v[-len(LEVELS):], strict=True)})
            out[(int(row[0]), value)] = f
        if key is None and not whole_span:
            seconds = select(S.day, S.measure, S.second, func.sum(S.n)).where(S.kind == "centre", S.day.in_(days))
            for at, measure, second, n in (await s.execute(seconds.group_by(S.day, S.measure, S.second))).all():
                f = out.setdefault((int(at), None), Figures())
                (f.waits if measure == "wait" else f.abandon_waits)[int(second)] += int(n)
            for f in out.values():
                f.short_abandoned = sum(n for second, n in f.abandon_waits.items() if second < short_abandon_s)
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
            column = {"request_type": R.request_type, "category": R.category, "region": R.region}.get(key or "")
            group: list[Any] = [R.day] if column is None else [R.day, column]
            query = select(*group, func.sum(R.tickets)).where(R.kind == "tickets", R.day.in_(days)).group_by(*group)
            for row in (await s.execute(query)).all():
                out[(int(row[0]), None if column is None else _none(row[1]))] = int(row[-1] or 0)
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
