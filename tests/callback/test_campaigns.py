"""Revisit campaigns on a real database: a paused campaign is not called, an upload's campaign finishes with
its last task, progress per campaign adds up; and the migration puts earlier tasks in the standing
campaign of the rules, with their attempts, on SQLite and PostgreSQL."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from callback.campaigns import CampaignFinished, RevisitCampaigns, check_name
from callback.models import RULES_CAMPAIGN, RevisitTask
from callback.planner import RevisitPlanner
from callback.tasks import RevisitTasks, check_rows
from dialplans.model import RevisitSettings
from hotline.app.plugins import upgrade_database as upgrade
from hotline.calls.models import CallerListEntry, CallRecord
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.netutil import free_port
from tests.postgres_server import BOTH_DATABASES, PostgresServer

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def tasks(sqlite_sessions: SessionFactory) -> RevisitTasks:
    return RevisitTasks(sqlite_sessions, RevisitSettings(max_attempts=1, retry_after_s=0, quiet_s=0))


def rows(*numbers: str) -> list[dict[str, str]]:
    return check_rows([{"number": n, "salutation": "王先生", "topic": "路灯"} for n in numbers])


async def due_ids(tasks: RevisitTasks) -> list[int]:
    return [t.id for t in await tasks.due(datetime.now(UTC), 100)]


async def test_a_paused_campaign_is_not_called_and_the_others_are(tasks: RevisitTasks) -> None:
    campaigns = RevisitCampaigns(tasks)
    [standing] = await tasks.add(rows("13900000001"))
    spring, [first, second] = await campaigns.create("春节回访", rows("13900000002", "13900000003"), "sup-li")
    assert (spring.source, spring.state, spring.created_by) == ("upload", "active", "sup-li")
    assert await due_ids(tasks) == [standing, first, second]

    paused = await campaigns.set_paused(spring.id, True)
    assert paused.state == "paused" and (await campaigns.get(spring.id)) == paused
    assert await due_ids(tasks) == [standing], "a paused campaign's tasks are not due"
    assert not await tasks.begin(first, "c-late"), "nor taken by a dialer that found them due just before"
    await campaigns.set_paused(RULES_CAMPAIGN, True)
    assert await due_ids(tasks) == []
    await campaigns.set_paused(RULES_CAMPAIGN, False)
    assert (await campaigns.set_paused(spring.id, False)).state == "active"
    assert await due_ids(tasks) == [standing, first, second]
    with pytest.raises(LookupError):
        await campaigns.set_paused(99, True)


async def test_an_uploads_campaign_finishes_with_its_last_task(tasks: RevisitTasks) -> None:
    campaigns = RevisitCampaigns(tasks)
    spring, [first, second] = await campaigns.create("春节回访", rows("13900000011", "13900000012"), "sup")
    async with tasks.sessions.begin() as s:
        s.add(CallerListEntry(number="13900000012", kind="no_revisit", note="", added_by="t", added_at=NOW))
    assert not await tasks.begin(second, "c-opted")  # opted out: failed without a call
    assert await tasks.begin(first, "c-1")
    assert (await campaigns.get(spring.id)).state == "active"  # type: ignore[union-attr]
    assert await tasks.ended("c-1", "busy") == "failed"  # one attempt at most here
    assert (await campaigns.get(spring.id)).state == "finished"  # type: ignore[union-attr]
    with pytest.raises(CampaignFinished):
        await campaigns.set_paused(spring.id, True)
    [standing] = await tasks.add(rows("13900000013"))
    assert await tasks.begin(standing, "c-2") and await tasks.ended("c-2", "completed") == "done"
    assert (await campaigns.get(RULES_CAMPAIGN)).state == "active", "the rules' campaign never ends"  # type: ignore[union-attr]


async def test_progress_per_campaign_adds_up_to_the_whole(tasks: RevisitTasks) -> None:
    campaigns = RevisitCampaigns(tasks)
    [standing] = await tasks.add(rows("13900000021"))
    spring, [done, _] = await campaigns.create("春节回访", rows("13900000022", "13900000023"), "sup")
    empty, _ = await campaigns.create("空的", [], "sup")
    assert await tasks.begin(done, "c-done") and await tasks.ended("c-done", "completed") == "done"
    assert await tasks.begin(standing, "c-busy") and await tasks.ended("c-busy", "busy") == "failed"
    listed = await campaigns.with_progress(await campaigns.listing())
    assert [(c["id"], c["progress"]["total"], c["progress"]["done"], c["progress"]["reached"]) for c in listed] == [
        (empty.id, 0, 0, 0), (spring.id, 2, 1, 1), (RULES_CAMPAIGN, 1, 1, 0)]
    assert listed[1]["progress"]["by_result"] == {"completed": 1} and listed[1]["progress"]["reached_rate"] == 0.5
    whole = await tasks.progress()
    assert (whole["total"], whole["done"], whole["pending"], whole["reached"]) == (3, 2, 1, 1)
    assert whole["by_result"] == {"completed": 1, "exhausted": 1}
    assert await tasks.progress(spring.id) == listed[1]["progress"]
    assert [c.id for c in await campaigns.listing("active")] == [empty.id, spring.id, RULES_CAMPAIGN]
    assert {t["campaign_id"] for t in await tasks.listing(campaign=spring.id)} == {spring.id}
    assert len(await tasks.listing()) == 3


async def test_tasks_from_rules_join_the_standing_campaign_and_a_second_revisit_its_firsts(
        tasks: RevisitTasks) -> None:
    async with tasks.sessions.begin() as s:
        s.add(CallRecord(call_id="unrated", caller="13900000031", dialled="12345", started_at=NOW, ended_at=NOW,
                         agent="8001", rating_status="not_rated", outcome="connected", route_mode="main", steps=[]))
    assert await RevisitPlanner(tasks.sessions, RevisitSettings()).scan(NOW.replace(minute=5)) == 1
    spring, [task_id] = await RevisitCampaigns(tasks).create("回访", rows("13900000032"), "sup")
    assert await tasks.begin(task_id, "c-unhappy")
    await tasks.answer("c-unhappy", "satisfaction", {"level": 5, "label": "非常不满意"})
    assert await tasks.ended("c-unhappy", "completed") == "done"
    async with tasks.sessions() as s:
        made = {(t.number, t.reason): t.campaign_id for t in (await s.scalars(select(RevisitTask))).all()}
    assert made == {("13900000031", "unrated"): RULES_CAMPAIGN, ("13900000032", "campaign"): spring.id,
                    ("13900000032", "second_revisit"): spring.id}


def test_a_campaign_has_a_name() -> None:
    assert check_name("  春节回访 ") == "春节回访"
    for bad in ("", "   ", None, 7, "长" * 101):
        with pytest.raises(ValueError, match="1 to 100 characters"):
            check_name(bad)


@pytest.fixture(params=BOTH_DATABASES)
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of the test's own."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
        return
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="hotline-pg-")), free_port())
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


async def test_the_migration_puts_earlier_tasks_and_their_attempts_in_the_rules_campaign(fresh_url: str) -> None:
    await upgrade(fresh_url, "0007")
    engine = create_engine(fresh_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO revisit_tasks (number, reason, status, mode, created_at, attempts) "
                                    "VALUES ('13900000041', 'unrated', 'retry', 'robot', :at, 1)"), {"at": NOW})
            await conn.execute(text("INSERT INTO revisit_attempts (task_id, call_id, started_at, outcome) "
                                    "VALUES (1, 'c-before', :at, 'busy')"), {"at": NOW})
        await upgrade(fresh_url)
        tasks = RevisitTasks(session_factory(engine), RevisitSettings(quiet_s=0))
        campaigns = RevisitCampaigns(tasks)
        rules = await campaigns.get(RULES_CAMPAIGN)
        assert rules is not None and (rules.source, rules.state) == ("rules", "active")
        [earlier] = await tasks.listing()
        assert (earlier["campaign_id"], earlier["attempts"]) == (RULES_CAMPAIGN, 1)
        assert (await tasks.progress(RULES_CAMPAIGN))["total"] == 1
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT call_id FROM revisit_attempts"))).scalars().all() == ["c-before"]
        made, _ = await campaigns.create("新的", rows("13900000042"), "sup")
        assert made.id == RULES_CAMPAIGN + 1, "the id sequence knows the standing campaign"
    finally:
        await engine.dispose()
