"""Which calls become revisit tasks (R-REV-2), on a real SQLite database; and the second revisit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from callback.models import RevisitTask
from callback.planner import RevisitPlanner, sampled
from callback.tasks import RevisitTasks, check_rows
from dialplans.model import RevisitSettings
from hotline.calls.models import CallerListEntry, CallRecord
from hotline.core.db.engine import SessionFactory

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def sessions(sqlite_sessions: SessionFactory) -> SessionFactory:
    return sqlite_sessions


async def call(sessions: SessionFactory, call_id: str, caller: str, *, agent: str | None = "8001",
               rating: int | None = None, rating_status: str | None = None, outcome: str = "connected",
               mode: str | None = "main", ended_ago: timedelta = timedelta(minutes=5)) -> None:
    async with sessions.begin() as s:
        s.add(CallRecord(call_id=call_id, caller=caller, dialled="12345", started_at=NOW - ended_ago,
                         ended_at=NOW - ended_ago, agent=agent, rating=rating, rating_status=rating_status,
                         outcome=outcome, route_mode=mode, steps=[]))


async def test_calls_become_tasks_once_each_by_the_rules(sessions: SessionFactory) -> None:
    kept = next(f"c-{i}" for i in range(1000) if not sampled(f"c-{i}", 0.05))
    await call(sessions, "unrated", "13800000001", rating_status="not_rated")
    await call(sessions, "bad", "13800000002", rating=5, rating_status="rated")
    await call(sessions, "gave-up", "13800000003", agent=None, outcome="abandoned_in_queue")
    await call(sessions, kept, "13800000004", rating=1, rating_status="rated")
    await call(sessions, "robot-call", "13800000005", rating_status="not_rated", mode="revisit")
    await call(sessions, "withheld", "anonymous", rating_status="not_rated")
    await call(sessions, "opted-out", "13800000006", rating_status="not_rated")
    await call(sessions, "old", "13800000007", rating_status="not_rated", ended_ago=timedelta(days=2))
    await call(sessions, "just-now", "13800000008", rating_status="not_rated", ended_ago=timedelta(seconds=1))
    async with sessions.begin() as s:
        s.add(CallerListEntry(number="13800000006", kind="no_revisit", note="", added_by="t", added_at=NOW))
    planner = RevisitPlanner(sessions, RevisitSettings())
    assert await planner.scan(NOW) == 3
    assert await RevisitPlanner(sessions, RevisitSettings()).scan(NOW) == 0, "a rescan plans nothing twice"
    async with sessions() as s:
        tasks = {t.call_id: (t.reason, t.mode, t.number) for t in (await s.scalars(select(RevisitTask))).all()}
    assert tasks == {"unrated": ("unrated", "robot", "13800000001"), "bad": ("bad_rating", "robot", "13800000002"),
                     "gave-up": ("abandoned", "human", "13800000003")}
    assert await planner.scan(NOW + timedelta(seconds=10)) == 1, "the call that just ended, on the next pass"
    everyone = RevisitPlanner(sessions, RevisitSettings(sample_rate=1.0))
    assert await everyone.scan(NOW + timedelta(seconds=10)) == 1, "sampling: the rated-good call"


async def test_a_dissatisfied_revisit_gets_a_second_one_by_a_person(sessions: SessionFactory) -> None:
    tasks = RevisitTasks(sessions, RevisitSettings())
    [task_id] = await tasks.add(check_rows([{"number": "13800000009", "salutation": "刘先生"}]))
    assert await tasks.begin(task_id, "rv-1")
    await tasks.answer("rv-1", "satisfaction", {"level": 4, "label": "不满意"})
    assert await tasks.ended("rv-1", "completed") == "done"
    async with sessions() as s:
        second = (await s.scalars(select(RevisitTask).where(RevisitTask.reason == "second_revisit"))).all()
    assert [(t.number, t.mode, t.salutation, t.status) for t in second] == [
        ("13800000009", "human", "刘先生", "pending")]
