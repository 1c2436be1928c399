"""The callback work list on a real SQLite database with a movable clock: one claimer at a time (also when two
claim at once), claims that lapse, retries with their due times, the attempt cap, who sees what, the day's
figures; and the robot keeps ignoring these items."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from callback.figures import CallbackFigures
from callback.models import RevisitTask
from callback.requests import CallbackRequests
from callback.tasks import RevisitTasks
from callback.worklist import (
    AlreadyClaimed,
    CallbackClosed,
    CallInProgress,
    NoCall,
    NotClaimed,
    Viewer,
    Worklist,
)
from dialplans.model import RevisitSettings
from hotline.app.plugins import upgrade_database as upgrade
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.netutil import free_port
from tests.postgres_server import BOTH_DATABASES, PostgresServer

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in China
ALL = Viewer(None, None)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at

    def move(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=BOTH_DATABASES)
async def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionFactory]:
    """A migrated database of the test's own: SQLite, and PostgreSQL (row locks, conditional updates)."""
    server = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    else:
        server = PostgresServer(Path(tempfile.mkdtemp(prefix="hotline-pg-")), free_port())
        await server.start()
        url = server.url
    await upgrade(url)
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
        if server is not None:
            await server.stop()


@pytest.fixture
async def work(sessions: SessionFactory, clock: Clock) -> tuple[Worklist, list[dict[str, Any]]]:
    published: list[dict[str, Any]] = []

    async def publish(event: dict[str, Any]) -> None:
        published.append(event)

    return Worklist(sessions, clock, publish), published


async def item(sessions: SessionFactory, number: str = "13800138000", kind: str = "callback_request",
               at: datetime = T0) -> int:
    async with sessions.begin() as s:
        task = RevisitTask(call_id=f"in-{number}-{kind}", number=number, reason=kind, mode="human", created_at=at)
        s.add(task)
    return task.id


def agent(name: str) -> Viewer:
    return Viewer(name, frozenset({name}))


async def test_one_agent_at_a_time_and_a_claim_lapses_after_15_minutes(
        work: tuple[Worklist, list[dict[str, Any]]], sessions: SessionFactory, clock: Clock) -> None:
    worklist, published = work
    one = await item(sessions)
    results = await asyncio.gather(worklist.claim(one, "8001"), worklist.claim(one, "8002"), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["AlreadyClaimed", "dict"], results
    winner = next(r["claimed_by"] for r in results if isinstance(r, dict))
    loser = "8002" if winner == "8001" else "8001"
    with pytest.raises(AlreadyClaimed):
        await worklist.claim(one, loser)
    assert await worklist.claim(one, winner), "one's own claim is renewed"
    [shown] = await worklist.listing(agent(winner))
    assert (shown["status"], shown["claimed_by"]) == ("claimed", winner)
    assert await worklist.listing(agent(loser)) == [], "another agent's claim is not on my list"
    clock.move(minutes=15, seconds=1)
    assert (await worklist.listing(agent(loser)))[0]["status"] == "open", "the claim lapsed"
    assert (await worklist.claim(one, loser))["claimed_by"] == loser
    with pytest.raises(NotClaimed):
        await worklist.begin_call(one, winner, "cb-x")
    await worklist.release(one, loser)
    with pytest.raises(NotClaimed):
        await worklist.release(one, loser)
    assert [e["event"] for e in published] == ["callback_claimed", "callback_claimed", "callback_claimed",
                                               "callback_released"]


async def test_no_answer_and_busy_come_back_due_later_and_the_third_attempt_closes(
        work: tuple[Worklist, list[dict[str, Any]]], sessions: SessionFactory, clock: Clock) -> None:
    worklist, _ = work
    one = await item(sessions)
    await worklist.claim(one, "8001")
    with pytest.raises(NoCall):
        await worklist.outcome(one, "8001", "no_answer")  # dial first
    dues = []
    for n, (said, dial) in enumerate((("no_answer", "NOANSWER"), ("busy", "BUSY"), ("no_answer", "NOANSWER")), 1):
        await worklist.claim(one, "8001")
        await worklist.begin_call(one, "8001", f"cb-{n}")
        with pytest.raises(CallInProgress):
            await worklist.begin_call(one, "8001", f"cb-{n}b")
        with pytest.raises(CallInProgress):
            await worklist.release(one, "8001")
        await worklist.call_ended(f"cb-{n}", dial)
        with pytest.raises(NoCall):
            await worklist.outcome(one, "8001", "reached")  # the citizen never answered that call
        result = await worklist.outcome(one, "8001", said)  # type: ignore[arg-type]
        dues.append((result["status"], result["due_at"]))
        if n < 3:
            [shown] = await worklist.listing(agent("8002"))
            assert (shown["status"], shown["claimed_by"], shown["attempts"]) == ("open", None, n)
            clock.move(minutes=1)
    assert dues == [("retry", (T0 + timedelta(minutes=10)).isoformat()),
                    ("retry", (T0 + timedelta(minutes=1, seconds=0) + timedelta(minutes=30)).isoformat()),
                    ("failed", None)]
    with pytest.raises(CallbackClosed):
        await worklist.claim(one, "8001")
    [done] = await worklist.listing(agent("8001"), "done")
    assert (done["status"], done["outcome"], done["attempts"]) == ("failed", "exhausted", 3)
    detail = await worklist.get(one, agent("8001"))
    assert [(a["call_id"], a["dial_status"], a["outcome"]) for a in detail["attempt_list"]] == [
        ("cb-1", "NOANSWER", "no_answer"), ("cb-2", "BUSY", "busy"), ("cb-3", "NOANSWER", "no_answer")]


async def test_due_items_come_first_and_reached_or_wrong_number_close_them(
        work: tuple[Worklist, list[dict[str, Any]]], sessions: SessionFactory, clock: Clock) -> None:
    worklist, _ = work
    later = await item(sessions, "13800138001", at=T0)
    first = await item(sessions, "13800138002", "voice_message", at=T0 - timedelta(minutes=5))
    await worklist.claim(later, "8001")
    await worklist.begin_call(later, "8001", "cb-1")
    await worklist.call_ended("cb-1", "BUSY")
    await worklist.outcome(later, "8001", "busy")
    assert [i["id"] for i in await worklist.listing(ALL, "open")] == [first, later]
    assert [i["id"] for i in await worklist.listing(ALL, kind="voice_message")] == [first]
    await worklist.claim(first, "8002")
    await worklist.begin_call(first, "8002", "cb-2")
    said = await worklist.outcome(first, "8002", "reached", "已答复")  # during the call: the end keeps it
    await worklist.call_ended("cb-2", "ANSWER")
    assert said["status"] == "done"
    [done] = await worklist.listing(ALL, "done")
    assert (done["id"], done["outcome"], done["claimed_by"]) == (first, "reached", "8002")
    clock.move(minutes=10)
    await worklist.claim(later, "8001")
    await worklist.begin_call(later, "8001", "cb-3")
    await worklist.call_ended("cb-3", "ANSWER")
    assert (await worklist.outcome(later, "8001", "wrong_number"))["status"] == "failed"


async def test_who_sees_what(work: tuple[Worklist, list[dict[str, Any]]], sessions: SessionFactory) -> None:
    worklist, _ = work
    mine, theirs, free = [await item(sessions, f"1380013800{i}") for i in range(3)]
    await worklist.claim(mine, "8001")
    await worklist.claim(theirs, "8003")
    assert {i["id"] for i in await worklist.listing(agent("8001"))} == {mine, free}
    team_one = Viewer(None, frozenset({"8001", "8002"}))
    assert {i["id"] for i in await worklist.listing(team_one)} == {mine, free}
    assert {i["id"] for i in await worklist.listing(ALL)} == {mine, theirs, free}
    assert {i["id"] for i in await worklist.listing(ALL, "claimed")} == {mine, theirs}
    with pytest.raises(Exception, match="no callback"):
        await worklist.get(theirs, agent("8001"))
    assert (await worklist.get(theirs, ALL))["claimed_by"] == "8003"


async def test_the_robot_ignores_them_and_a_restart_gives_calls_back(
        work: tuple[Worklist, list[dict[str, Any]]], sessions: SessionFactory, clock: Clock) -> None:
    worklist, _ = work
    one = await item(sessions)
    robot = RevisitTasks(sessions, RevisitSettings(quiet_s=0))
    assert await robot.due(clock() + timedelta(days=1), 10) == []
    await worklist.claim(one, "8001")
    await worklist.begin_call(one, "8001", "cb-1")
    assert await robot.recover() == 0, "the robot's restart leaves a person's call alone"
    assert await worklist.recover() == 1
    [shown] = await worklist.listing(agent("8001"))
    assert (shown["status"], shown["claimed_by"]) == ("claimed", "8001")
    assert (await worklist.get(one, ALL))["attempt_list"][0]["dial_status"] == "INTERRUPTED"


async def test_new_items_are_published(work: tuple[Worklist, list[dict[str, Any]]],
                                       sessions: SessionFactory) -> None:
    worklist, published = work
    requests = CallbackRequests(sessions, worklist._publish)
    await requests.request_callback("in-1", "+8613800138001")
    await requests.voice_message("in-2", "13800138002")
    assert [(e["event"], e["kind"]) for e in published] == [("callback_new", "callback_request"),
                                                            ("callback_new", "voice_message")]
    assert [i["number"] for i in await worklist.listing(ALL)] == ["13800138001", "13800138002"]


async def test_the_days_figures(work: tuple[Worklist, list[dict[str, Any]]], sessions: SessionFactory,
                                clock: Clock) -> None:
    worklist, _ = work
    reached, busy = [await item(sessions, f"1380013800{i}") for i in range(2)]
    await item(sessions, "13800138009", "voice_message")
    await item(sessions, "13800138008", at=T0 - timedelta(days=1))  # another day
    for n, (one, dial, said) in enumerate(((reached, "ANSWER", "reached"), (busy, "BUSY", "busy"))):
        await worklist.claim(one, "8001")
        await worklist.begin_call(one, "8001", f"cb-{n}")
        await worklist.call_ended(f"cb-{n}", dial)
        await worklist.outcome(one, "8001", said)  # type: ignore[arg-type]
    figures = await CallbackFigures(sessions).day("2026-11-27")
    assert figures["all"] == {"received": 3, "called_back": 2, "reached": 1, "closed": 1, "success_rate": 1.0}
    assert figures["voice_message"] == {"received": 1, "called_back": 0, "reached": 0, "closed": 0,
                                        "success_rate": None}
    counters = CallbackFigures(sessions)
    await counters.step()
    got = {(m.name, s.labels["kind"]): s.value for m in counters.collect() for s in m.samples
           if s.name.endswith("_total")}
    assert got[("hotline_callbacks_received", "callback_request")] == 3
    assert got[("hotline_callbacks_reached", "callback_request")] == 1


async def test_a_lapsed_claim_is_announced_once(work: tuple[Worklist, list[dict[str, Any]]],
                                                sessions: SessionFactory, clock: Clock) -> None:
    worklist, published = work
    one = await item(sessions)
    await worklist.claim(one, "8001")
    since = await worklist.announce_lapsed(clock())
    clock.move(minutes=16)
    since = await worklist.announce_lapsed(since)
    clock.move(minutes=1)
    await worklist.announce_lapsed(since)
    assert [(e["event"], e.get("lapsed")) for e in published] == [("callback_claimed", None),
                                                                   ("callback_released", True)]
