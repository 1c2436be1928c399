"""How people calling back are doing: the day's figures for `/api/acd/stats` and counters for /metrics.

Per kind (callback_request, voice_message) and for `all`: received (items made that day, China time),
called back (items an agent dialled that day), reached (items closed as reached that day), closed (items
closed that day: reached, wrong number, attempts used up) and the success rate reached ÷ closed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute

from callback.models import RevisitAttempt, RevisitTask
from callback.worklist import CLOSED, KINDS
from hotline.core.clock import CHINA
from hotline.core.db.engine import SessionFactory
from hotline.core.workers import LoopWorker

FIGURES = ("received", "called_back", "reached", "closed")
_HUMAN = (RevisitTask.mode == "human", RevisitTask.reason.in_(KINDS))


def _day_span(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), CHINA)
    return start, start + timedelta(days=1)


def _figures(counts: dict[str, Counter[str]], kind: str | None) -> dict[str, float | int | None]:
    got = {f: (counts[f][kind] if kind else sum(counts[f].values())) for f in FIGURES}
    closed = got["closed"]
    return {**got, "success_rate": round(got["reached"] / closed, 3) if closed else None}


class CallbackFigures(LoopWorker, Collector):
    """The day's figures on demand; the all-time counters for /metrics, refreshed every `every_s` (a scrape
    never waits for the database)."""

    name = "callback-figures"
    per_instance = True  # read-only figures for this instance's metrics: every instance runs it

    def __init__(self, sessions: SessionFactory, every_s: float = 30.0) -> None:
        super().__init__()
        self._sessions, self._every_s = sessions, every_s
        self.totals: dict[str, Counter[str]] = {f: Counter() for f in FIGURES}

    async def _counts(self, since: datetime | None, until: datetime | None) -> dict[str, Counter[str]]:
        def within(column: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None]
                   ) -> list[ColumnElement[bool]]:
            return [] if since is None or until is None else [column >= since, column < until]

        kind = RevisitTask.reason
        queries = {
            "received": select(kind, func.count()).where(*_HUMAN, *within(RevisitTask.created_at)),
            "called_back": select(kind, func.count(func.distinct(RevisitTask.id)))
            .join(RevisitAttempt, RevisitAttempt.task_id == RevisitTask.id)
            .where(*_HUMAN, RevisitAttempt.agent.is_not(None), *within(RevisitAttempt.started_at)),
            "reached": select(kind, func.count()).where(*_HUMAN, RevisitTask.result == "reached",
                                                        *within(RevisitTask.finished_at)),
            "closed": select(kind, func.count()).where(*_HUMAN, RevisitTask.status.in_(CLOSED),
                                                       RevisitTask.finished_at.is_not(None),
                                                       *within(RevisitTask.finished_at)),
        }
        counts: dict[str, Counter[str]] = {}
        async with self._sessions() as s:
            for name, query in queries.items():
                counts[name] = Counter({k: int(n) for k, n in await s.execute(query.group_by(kind))})
        return counts

    async def day(self, day: str) -> dict[str, dict[str, float | int | None]]:
        """The figures of `day` (YYYY-MM-DD, China time), per kind and `all`."""
        counts = await self._counts(*_day_span(date.fromisoformat(day)))
        return {**{k: _figures(counts, k) for k in KINDS}, "all": _figures(counts, None)}

    async def step(self) -> float:
        self.totals = await self._counts(None, None)
        return self._every_s

    def collect(self) -> Iterator[Metric]:
        helps = {"received": "callback requests and voice messages received",
                 "called_back": "callback items an agent dialled",
                 "reached": "callback items closed with the citizen reached",
                 "closed": "callback items closed (reached, wrong number, attempts used up)"}
        for name, text in helps.items():
            family = CounterMetricFamily(f"hotline_callbacks_{name}", text, labels=["kind"])
            for kind in KINDS:
                family.add_metric([kind], self.totals[name][kind])
            yield family
