"""Revisit task rules on a real SQLite database: uploads all-or-nothing, one attempt at a time, retries,
quiet time, opt-outs, restarts; and the dialer's gates (calling hours, holidays, inbound first, pause)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest

from callback.campaigns import RevisitCampaigns
from callback.dialer import Dialer, RevisitPrompts
from callback.pressure import Pressure
from callback.tasks import BadUpload, RevisitTasks, check_rows
from dialplans.dialout import DialOutGuard, DialOutPolicy, HourlyCount
from dialplans.loader import load_dialplan
from dialplans.model import RevisitSettings, ServiceLevelYield
from hotline.app.plugins import upgrade_database as upgrade
from hotline.calls.models import CallerListEntry
from hotline.core.db.engine import create_engine, session_factory
from tests.dialplans.unlimited import unlimited_guard

SHIPPED = Path(__file__).resolve().parents[2] / "dialplans" / "hotline.yaml"


@pytest.fixture
async def tasks(tmp_path: Path) -> AsyncIterator[RevisitTasks]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    await upgrade(url)
    engine = create_engine(url)
    yield RevisitTasks(session_factory(engine), RevisitSettings(max_attempts=2, retry_after_s=0, quiet_s=0))
    await engine.dispose()


def test_an_upload_names_every_bad_row() -> None:
    good = check_rows([{"number": "+8613800138000", "salutation": "李女士", "topic": "噪音"}])
    assert good == [{"number": "13800138000", "salutation": "李女士", "topic": "噪音", "reason": "campaign"}]
    with pytest.raises(BadUpload) as bad:
        check_rows([{"number": "13800138000"}, {"number": "12"}, "x", {"number": "13800138001", "colour": "red"},
                    {"number": "13800138002", "topic": "长" * 101}])
    assert [r["row"] for r in bad.value.rows] == [2, 3, 4, 5]
    assert "unknown field colour" in bad.value.rows[2]["error"] and "topic" in bad.value.rows[3]["error"]
    with pytest.raises(BadUpload):
        check_rows([])


async def test_a_task_is_taken_once_retried_then_exhausted(tasks: RevisitTasks) -> None:
    [task_id] = await tasks.add(check_rows([{"number": "13800138000"}]))
    now = datetime.now(UTC)
    assert [t.id for t in await tasks.due(now, 10)] == [task_id]
    assert await tasks.begin(task_id, "c1")
    assert not await tasks.begin(task_id, "c1b"), "a task is called once at a time"
    assert await tasks.due(now, 10) == []
    assert await tasks.ended("c1", "busy", 17) == "retry"
    assert await tasks.begin(task_id, "c2")
    await tasks.answer("c2", "consent", True)
    assert await tasks.ended("c2", "hung_up") == "failed", "two attempts at most"
    [row] = await tasks.listing()
    assert (row["result"], row["attempts"], row["answers"]) == ("exhausted", 2, {"consent": True})


async def test_final_outcomes_end_the_task(tasks: RevisitTasks) -> None:
    ids = await tasks.add(check_rows([{"number": f"1380013800{i}"} for i in range(3)]))
    for task_id, (outcome, status) in zip(ids, (("invalid_number", "failed"), ("completed", "done"),
                                                ("refused", "done")), strict=True):
        assert await tasks.begin(task_id, f"call-{task_id}")
        assert await tasks.ended(f"call-{task_id}", outcome) == status
        assert await tasks.ended(f"call-{task_id}", "answered") == status, "the dialer's later word changes nothing"
    progress = await tasks.progress()
    assert (progress["total"], progress["done"], progress["pending"]) == (3, 3, 0)
    assert progress["by_result"] == {"invalid_number": 1, "completed": 1, "refused": 1}


async def test_opted_out_numbers_are_never_called_and_quiet_time_holds(tasks: RevisitTasks) -> None:
    [opted, other, same_number] = await tasks.add(check_rows(
        [{"number": "13800138009"}, {"number": "13800138010"}, {"number": "13800138010"}]))
    async with tasks.sessions.begin() as s:
        s.add(CallerListEntry(number="13800138009", kind="no_revisit", note="", added_by="t",
                              added_at=datetime.now(UTC)))
    assert not await tasks.begin(opted, "c-opted")
    assert (await tasks.listing("failed"))[0]["result"] == "opted_out"
    quiet = RevisitTasks(tasks.sessions, RevisitSettings(quiet_s=3600))
    assert await quiet.begin(other, "c-other")
    await quiet.ended("c-other", "completed")
    assert [t.id for t in await quiet.due(datetime.now(UTC), 10)] == [], "the same number was called just now"
    assert [t.id for t in await tasks.due(datetime.now(UTC), 10)] == [same_number]


async def test_a_restart_neither_repeats_nor_skips(tasks: RevisitTasks) -> None:
    [task_id] = await tasks.add(check_rows([{"number": "13800138011"}]))
    assert await tasks.begin(task_id, "c-cut")
    assert await tasks.recover() == 1  # the service died with the call up
    [row] = await tasks.listing()
    assert row["status"] == "retry" and row["attempts"] == 1
    assert [t.id for t in await tasks.due(datetime.now(UTC), 10)] == [task_id]
    assert await tasks.recover() == 0


class _Gates:
    now: Pressure | None = Pressure()

    async def pressure(self) -> Pressure:
        if self.now is None:
            raise ConnectionError("Redis is away")
        return self.now


def _dialer(tasks: RevisitTasks, at: datetime, gates: _Gates, **revisit: Any) -> Dialer:
    plan = load_dialplan(SHIPPED)
    plan = replace(plan, revisit=replace(plan.revisit, **revisit))
    return Dialer(tasks, None, None, None, plan, RevisitPrompts(Path("/nonexistent"), "/x"),  # type: ignore[arg-type]
                  gates.pressure, clock=lambda: at, dialout=unlimited_guard(plan))


async def test_the_dialer_keeps_calling_hours_holidays_inbound_first_and_pause(tasks: RevisitTasks) -> None:
    gates = _Gates()
    evening = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # 21:30 in China: after hours
    assert not _dialer(tasks, evening, gates).open_now()
    afternoon = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 15:00 on a Monday
    assert _dialer(tasks, afternoon, gates).open_now()
    national_day = datetime(2026, 10, 2, 7, 0, tzinfo=UTC)
    assert not _dialer(tasks, national_day, gates).open_now(), "no revisits on public holidays"
    assert _dialer(tasks, national_day, gates, on_holidays=True).open_now()
    assert _dialer(tasks, evening, gates, hours=((time(0), time(23, 59, 59)),)).open_now()

    dialer = _dialer(tasks, afternoon, gates, service_level=ServiceLevelYield(below=0.8, min_offered=5))
    gates.now = Pressure(waiting=1)
    assert await dialer.tick() == 0 and dialer.status()["state"] == "yielding"
    assert dialer.status()["yielding_to"] == "callers_waiting"
    gates.now = Pressure(offered=10, answered_in_time=7)  # 70 % of the recent callers answered within 15 s
    assert await dialer.tick() == 0 and dialer.status()["yielding_to"] == "service_level"
    assert dialer.status()["pressure"] == {"waiting": 0, "offered": 10, "service_level": 0.7}
    assert Pressure(offered=10, answered_in_time=8).holds_back(dialer.settings) is None
    assert Pressure(offered=4).holds_back(dialer.settings) is None, "four callers are too few to judge"
    never = replace(dialer.settings, service_level=ServiceLevelYield(below=0))
    assert Pressure(offered=10).holds_back(never) is None, "0: the service level is not looked at"
    gates.now = None  # Redis away
    assert await dialer.tick() == 0 and dialer.status()["yielding_to"] == "pressure_unknown", "inbound first, blind"
    gates.now = Pressure()
    dialer.paused = True
    assert await dialer.tick() == 0 and dialer.status()["state"] == "paused"
    dialer.paused = False
    assert await dialer.tick() == 0 and dialer.status()["state"] == "running", "nothing due: nothing placed"
    assert dialer.status()["yielding_to"] is None


async def test_the_progress_command_shows_each_campaign(tasks: RevisitTasks, tmp_path: Path) -> None:
    ids = await tasks.add(check_rows([{"number": "13800138021"}, {"number": "13800138022"}]))
    assert await tasks.begin(ids[0], "c-p")
    await tasks.ended("c-p", "completed")
    spring, _ = await RevisitCampaigns(tasks).create("春节回访", check_rows([{"number": "13800138023"}]), "sup")
    env = {**os.environ, "HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"}

    async def progress(*args: str) -> subprocess.CompletedProcess[str]:
        hotline = str(Path(sys.executable).parent / "hotline")
        return await asyncio.to_thread(subprocess.run, [hotline, "revisits", "progress", *args], env=env,
                                       capture_output=True, text=True)

    shown = (await progress()).stdout.splitlines()
    assert [text.split("  ")[0] for text in shown] == [f"#{spring.id} 春节回访 (active)", "#1 规则回访 (active)", "all"]
    assert "0/1" in shown[0] and "pending 1" in shown[0]
    assert "1/2" in shown[1] and "pending 1" in shown[1] and "completed 1" in shown[1]
    assert "1/3" in shown[2] and "pending 2" in shown[2]
    overall = json.loads((await progress("--json")).stdout)
    assert overall["by_result"] == {"completed": 1} and [c["id"] for c in overall["campaigns"]] == [spring.id, 1]
    one = json.loads((await progress("--campaign", str(spring.id), "--json")).stdout)
    assert (one["name"], one["progress"]["total"], one["progress"]["pending"]) == ("春节回访", 1, 1)
    missing = await progress("--campaign", "99")
    assert missing.returncode == 1 and "no revisit campaign 99" in missing.stderr


async def test_a_late_word_about_an_earlier_call_does_not_touch_the_next_one(tasks: RevisitTasks) -> None:
    [task_id] = await tasks.add(check_rows([{"number": "13800138031"}]))
    assert await tasks.begin(task_id, "first")
    assert await tasks.ended("first", "no_input") == "retry"  # the survey's word
    assert await tasks.begin(task_id, "second")  # the retry starts before the dialer is done with the first
    assert await tasks.ended("first", "answered") == "calling", "the first call's late report changes nothing"
    assert await tasks.ended("second", "completed") == "done"


class _Hour(HourlyCount):
    """An hour with `left` calls out still allowed; counts what was asked."""

    def __init__(self, left: int) -> None:
        self.left, self.asked = left, 0

    async def take(self, subject: str, limit: int, now: float | None = None) -> bool:
        self.asked += 1
        self.left -= 1
        return self.left >= 0


async def test_the_dialer_fails_a_task_it_may_not_dial_and_waits_out_the_hourly_limit(tasks: RevisitTasks) -> None:
    afternoon = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 15:00 on a Monday
    forbidden, allowed = await tasks.add([{"number": n, "salutation": "", "topic": "", "reason": "campaign"}
                                          for n in ("0044207946000", "13800138031")])
    plan = load_dialplan(SHIPPED)
    hour = _Hour(left=0)  # the robot's calls this hour are spent
    dialer = Dialer(tasks, None, None, None, plan, RevisitPrompts(Path("/nonexistent"), "/x"),  # type: ignore[arg-type]
                    _Gates().pressure, clock=lambda: afternoon, dialout=DialOutGuard(DialOutPolicy.of(plan), hour))
    assert await dialer.tick() == 0 and dialer.status()["state"] == "rate_limited"
    rows = {r["id"]: r for r in await tasks.listing()}
    assert (rows[forbidden]["status"], rows[forbidden]["result"], rows[forbidden]["attempts"]) == \
        ("failed", "number_not_allowed", 0), "refused, never dialled"
    assert (rows[allowed]["status"], rows[allowed]["attempts"]) == ("pending", 0), "waits for the next hour"
    assert await dialer.tick() == 0 and dialer.status()["state"] == "rate_limited"
    assert hour.asked == 1, "the limit is looked at again after a while, not on every tick"
