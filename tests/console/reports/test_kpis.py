"""The KPI formulas on hand-made rows, each figure counted by hand (docs/kpis.md), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from acd.statelog import AgentStateInterval
from callback.models import RevisitTask
from console.reports.periods import Span
from console.reports.service import Reports, Slice
from hotline.calls.models import CallRecord
from hotline.core.clock import CHINA
from hotline.core.db.engine import SessionFactory
from tests.postgres_server import BOTH_DATABASES, migrated_sessions
from tickets.models import Ticket

DAY = date(2026, 11, 27)
pytestmark = pytest.mark.asyncio(loop_scope="module")


def at(hh: int, mm: int, ss: float = 0, day: date = DAY) -> datetime:
    return (datetime(day.year, day.month, day.day, hh, mm, tzinfo=CHINA) + timedelta(seconds=ss)).astimezone(UTC)


def call(call_id: str, start: datetime, *, wait: float | None = None, talk: float | None = None,
         agent: str | None = None, outcome: str = "ended", line: str = "12345", rating: int | None = None,
         wrap_up: float | None = None, mode: str | None = "skill", self_service: str | None = None,
         queued: bool = True) -> CallRecord:
    """A call queued 5 s after it started; answered after `wait` when it has an agent, else left after `wait`."""
    queued_at = start + timedelta(seconds=5) if queued else None
    connected = queued_at + timedelta(seconds=wait) if agent and queued_at and wait is not None else None
    if connected is not None:
        ended = connected + timedelta(seconds=talk or 0)
    else:
        ended = (queued_at or start) + timedelta(seconds=wait or 0)
    return CallRecord(call_id=call_id, caller="13800138000", dialled=line, started_at=start, answered_at=start,
                      ended_at=ended, route_mode=mode, route_skill="general", agent=agent, rating=rating,
                      rating_status="rated" if rating else None, outcome=outcome, steps=[], queued_at=queued_at,
                      connected_at=connected, wait_s=wait if queued else None, talk_s=talk if connected else None,
                      wrap_up_s=wrap_up, self_service=self_service)


def seeded_day() -> list[Any]:
    return [
        call("c1", at(10, 0), wait=10, talk=60, agent="8001", rating=1, wrap_up=20, outcome="connected"),
        call("c2", at(11, 0), wait=30, talk=100, agent="8002", rating=4, wrap_up=10, outcome="connected"),
        call("c3", at(12, 0), wait=5, talk=20, agent="8001", line="12366", outcome="connected"),  # merged number
        call("c4", at(13, 0), wait=40, outcome="abandoned_in_queue"),
        call("c5", at(13, 30), wait=3, outcome="abandoned_in_queue"),  # a short abandon
        call("c6", at(14, 0), wait=8, outcome="callback_requested", self_service="callback"),  # self-served
        call("c7", at(15, 0), wait=1, talk=30, agent="8002", mode="revisit", outcome="connected"),  # our own call
        call("c8", at(23, 59, 40), wait=15, talk=40, agent="8002", outcome="connected"),  # across midnight
        call("c9", at(9, 0, day=DAY + timedelta(days=1)), wait=2, talk=10, agent="8001", outcome="connected"),
        call("c10", at(16, 0), outcome="abandoned", queued=False),  # hung up in the greeting: not offered
        call("c11", at(17, 0), wait=20, outcome="voice_message"),  # left a message: counted apart
        AgentStateInterval(agent="8001", state="ready", reason="", started_at=at(9, 0), ended_at=at(10, 0, 15)),
        AgentStateInterval(agent="8001", state="on_call", reason="", call_id="c1", started_at=at(10, 0, 15),
                           ended_at=at(10, 1, 15)),
        AgentStateInterval(agent="8001", state="wrap_up", reason="", call_id="c1", started_at=at(10, 1, 15),
                           ended_at=at(10, 1, 35)),
        AgentStateInterval(agent="8001", state="paused", reason="lunch", started_at=at(10, 1, 35),
                           ended_at=at(11, 0)),
        Ticket(id=1, number="T1", status="received", channel="电话", request_type="投诉", category="010101",
               region="东城区", urgency="normal", created_by="8001", created_at=at(10, 2), updated_at=at(10, 2),
               submitted_at=at(10, 3)),
        Ticket(id=2, number="T2", status="draft", channel="电话", urgency="normal", created_by="8002",
               created_at=at(11, 2), updated_at=at(11, 2)),
        RevisitTask(ticket_id=1, number="13800138000", reason="closed", status="done", result="completed",
                    created_at=at(12, 0)),
        RevisitTask(ticket_id=1, number="13800138000", reason="expired", status="pending", created_at=at(12, 5)),
        RevisitTask(number="13800138000", reason="callback_request", mode="human", status="done", result="reached",
                    created_at=at(14, 1), call_id="c6"),
    ]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BOTH_DATABASES)
async def reports(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Reports]:
    """One seeded database per module and kind: the tests only read it."""
    async with migrated_sessions(request.param, tmp_path_factory.mktemp("db")) as sessions:
        await seed(sessions, seeded_day())
        yield Reports(sessions)


async def seed(sessions: SessionFactory, rows: list[Any]) -> None:
    async with sessions.begin() as s:
        for row in rows:
            s.add(row)
            await s.flush()


async def test_each_kpi_of_a_seeded_day_equals_the_hand_count(reports: Reports) -> None:
    report = await reports.kpis(Span(DAY, DAY), "day", Slice())
    k = report["totals"]
    # offered: answered c1 c2 c3 c8, self-served c6, abandoned c4 c5 (not: c7 ours, c10 greeting, c11 message)
    assert (k["offered"], k["answered"], k["self_served"], k["abandoned"]) == (7, 4, 1, 2)
    assert k["connection_rate"] == round(5 / 7, 4)
    assert (k["queued"], k["answered_15s"]) == (8, 3)  # c1 c2 c3 c4 c5 c6 c8 c11; ≤ 15 s: c1 c3 c8
    assert k["answer_rate_15s"] == round(3 / 8, 4)
    assert (k["short_abandoned"], k["abandon_rate"], k["abandon_rate_excl_short"]) == (1, 0.25, round(1 / 7, 4))
    assert k["voice_messages"] == 1
    assert (k["wait_avg_s"], k["wait_p95_s"]) == (15.0, 30)  # (10 + 30 + 5 + 15) / 4; 4 waits → the 4th
    assert (k["talk_avg_s"], k["wrap_up_avg_s"]) == (55.0, 15.0)  # (60 + 100 + 20 + 40) / 4; (20 + 10) / 2
    assert (k["rated"], k["rating_coverage"]) == (2, 0.5)
    assert k["satisfaction"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0}
    assert k["satisfaction_rate"] == 0.5
    assert (k["revisits_due"], k["revisits_done"], k["revisit_coverage"]) == (2, 1, 0.5)
    assert k["revisit_results"] == {"completed": 1}
    assert (k["callbacks_requested"], k["callbacks_done"], k["callbacks_reached"]) == (1, 1, 1)
    assert k["tickets"] == 1  # the draft is not a ticket yet
    assert [p["period"] for p in report["periods"]] == ["2026-11-27"]
    assert report["periods"][0]["offered"] == 7
    assert report["previous"]["from"] == "2026-11-26" and report["previous"]["offered"] == 0
    assert report["last_year"]["from"] == "2025-11-27" and report["last_year"]["connection_rate"] is None
    assert report["formulas"]["connection_rate"]["name"] == "接通率"


async def test_a_call_across_midnight_counts_on_the_day_it_started(reports: Reports) -> None:
    report = await reports.kpis(Span(DAY, DAY + timedelta(days=1)), "day", Slice())
    days = {p["period"]: p for p in report["periods"]}
    assert days["2026-11-27"]["answered"] == 4 and days["2026-11-28"]["answered"] == 1
    assert report["totals"]["answered"] == 5


async def test_no_calls_give_zero_counts_and_no_rates(reports: Reports) -> None:
    k = (await reports.kpis(Span(date(2026, 1, 1), date(2026, 1, 31)), "week", Slice()))["totals"]
    assert k["offered"] == 0 and k["connection_rate"] is None and k["wait_avg_s"] is None
    assert k["wait_p95_s"] is None and k["satisfaction_rate"] is None


async def test_the_short_abandon_threshold_moves_abandons_between_the_counts(reports: Reports) -> None:
    k = (await reports.kpis(Span(DAY, DAY), "total", Slice(short_abandon_s=60)))["totals"]
    assert k["short_abandoned"] == 2 and k["abandon_rate_excl_short"] == 0.0


async def test_filters_by_line_and_agent(reports: Reports) -> None:
    merged = (await reports.kpis(Span(DAY, DAY), "total", Slice(line="12366")))["totals"]
    assert (merged["offered"], merged["answered"]) == (1, 1)
    one = (await reports.kpis(Span(DAY, DAY), "total", Slice(agents=["8001"])))["totals"]
    assert (one["answered"], one["rated"], one["tickets"]) == (2, 1, 1)


async def test_volumes_by_line_and_hour(reports: Reports) -> None:
    lines = {r["key"]: r for r in (await reports.volumes(Span(DAY, DAY), "line"))["rows"]}
    assert (lines["12345"]["offered"], lines["12366"]["offered"]) == (6, 1)
    hours = (await reports.volumes(Span(DAY, DAY), "hour"))["rows"]
    assert len(hours) == 24 and hours[13]["abandoned"] == 2 and hours[23]["answered"] == 1
    types = (await reports.volumes(Span(DAY, DAY), "request_type"))["rows"]
    assert [(r["key"], r["tickets"]) for r in types] == [("投诉", 1)]


async def test_agents_occupancy_from_the_state_log(reports: Reports) -> None:
    rows = {r["agent"]: r for r in (await reports.agents(Span(DAY, DAY), {}))["rows"]}
    me = rows["8001"]
    assert me["answered"] == 2 and me["signed_in_s"] == 2 * 3600 and me["busy_s"] == 80
    assert me["occupancy"] == round(80 / 7200, 4)
    assert me["satisfaction"]["1"] == 1 and me["satisfaction_rate"] == 1.0
    teams = (await reports.teams(Span(DAY, DAY), {}))["rows"]
    assert sum(t["answered"] for t in teams) == 4
