"""The 24-hour connection rate (R-ACC-3), from the call records.

GB/T 003 5.2.3.3: "12345 热线电话受理时，应在 15 秒之内接听，连续 24 小时内呼叫接通率应大于或等于 95%".
Here 呼叫接通率 over the 24 hours ending now (a rolling window, not the calendar day) is

    answered ÷ asked

where `asked` are the inbound calls started in the window that asked for an agent — answered by one
(`agent` set), or left the queue without one (`abandoned_in_queue`, or still `queued` when the call ended) —
and `answered` those an agent took. Not counted: calls still waiting now (not decided yet), callers who
hung up in the greeting or menu before queueing, blocked numbers, callers who chose a callback or a voice
message instead of waiting (deflected: served otherwise, as in the 15-s service level), and the hotline's
own outgoing calls (revisits, duty calls). With nobody asking the rate is 1.0 (nobody was left unanswered).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import and_, func, or_, select

from acd.store import today
from hotline.calls.models import CallRecord
from hotline.calls.records import OUTBOUND_MODES
from hotline.core.clock import now
from hotline.core.db.engine import SessionFactory
from hotline.core.workers import LoopWorker

WINDOW = timedelta(hours=24)
TARGET = 0.95  # the standard's floor
DayStats = Callable[[str], Awaitable[dict[str, dict[str, float]]]]


@dataclass(frozen=True)
class ConnectionRate:
    since: datetime
    until: datetime
    asked: int
    answered: int

    @property
    def rate(self) -> float:
        return round(self.answered / self.asked, 4) if self.asked else 1.0

    def to_json(self) -> dict[str, object]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "asked": self.asked,
                "answered": self.answered, "rate": self.rate, "target": TARGET}


async def connection_rate(sessions: SessionFactory, until: datetime | None = None) -> ConnectionRate:
    """The connection rate of the 24 hours ending `until` (now when absent); see the module's docstring."""
    end = until or now()
    since = end - WINDOW
    answered = CallRecord.agent.is_not(None)
    left = or_(CallRecord.outcome == "abandoned_in_queue",
               and_(CallRecord.outcome == "queued", CallRecord.ended_at.is_not(None)))
    query = select(func.count(), func.count().filter(answered)).where(
        CallRecord.started_at > since, CallRecord.started_at <= end,
        or_(CallRecord.route_mode.is_(None), CallRecord.route_mode.not_in(OUTBOUND_MODES)),
        or_(answered, left))
    async with sessions() as s:
        asked, took = (await s.execute(query)).one()
    return ConnectionRate(since, end, int(asked), int(took))


class ConnectionFigures(LoopWorker, Collector):
    """`hotline_connection_rate_24h` (and its counts) for /metrics, refreshed every `every_s` (a scrape never
    waits for the database)."""

    name = "acd-connection-figures"
    per_instance = True  # read-only figures for this instance's metrics: every instance runs it

    def __init__(self, sessions: SessionFactory, day_stats: DayStats, every_s: float = 30.0) -> None:
        super().__init__()
        self._sessions, self._day_stats, self._every_s = sessions, day_stats, every_s
        self.last: ConnectionRate | None = None
        self.today: dict[str, dict[str, float]] = {}

    async def step(self) -> float:
        self.last = await connection_rate(self._sessions)
        self.today = await self._day_stats(today())
        return self._every_s

    def collect(self) -> Iterator[Metric]:
        last = self.last
        if last is None:
            return
        answered_15s = GaugeMetricFamily("hotline_acd_answered_15s_rate", "answered within 15 s of the callers who "
                                         "wanted an agent, today (China time), per skill", labels=["skill"])
        for skill, figures in sorted(self.today.items()):
            answered_15s.add_metric([skill], figures["sl_15s"])
        yield answered_15s
        yield GaugeMetricFamily("hotline_connection_rate_24h", "calls answered by an agent of those that asked for "
                                "one, the last 24 hours (R-ACC-3, target 0.95)", value=last.rate)
        yield GaugeMetricFamily("hotline_connection_asked_24h", "calls that asked for an agent, the last 24 hours",
                                value=last.asked)
        yield GaugeMetricFamily("hotline_connection_answered_24h", "calls an agent answered, the last 24 hours",
                                value=last.answered)
