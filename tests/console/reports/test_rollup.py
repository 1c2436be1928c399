"""The rollups give the same figures as counting the call records directly, for every report and slice, on
SQLite and PostgreSQL (generated calls over several days, across midnights)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from console.reports.periods import Span
from console.reports.rollup import ReportRollupDay, RolledFigures, Rollups, due_days
from console.reports.service import Reports, Slice
from hotline.app.cli import main
from hotline.core.clock import CHINA
from hotline.core.db.engine import SessionFactory
from tests.console.reports.test_kpis import call, seed
from tests.postgres_server import BOTH_DATABASES, migrated_sessions
from tickets.models import Ticket

FIRST = date(2026, 11, 1)
DAYS = 4
TEAMS = {"8001": "一组", "8002": "一组", "8003": "二组"}


def generated(seed_: int = 17) -> list[Any]:
    rnd = random.Random(seed_)
    rows: list[Any] = []
    base = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=CHINA)
    for i in range(320):
        start = base + timedelta(seconds=rnd.randrange(DAYS * 86400))
        kind = rnd.choice(["answered", "answered", "answered", "abandoned", "self", "greeting", "ours"])
        agent = rnd.choice(["8001", "8002", "8003", "8009"]) if kind in ("answered", "ours") else None
        rows.append(call(
            f"g{i}", start, wait=round(rnd.uniform(0, 40), 2), talk=round(rnd.uniform(5, 300), 1), agent=agent,
            line=rnd.choice(["12345", "12345", "12315", "12366"]), rating=rnd.choice([None, 1, 2, 3, 4, 5]),
            wrap_up=rnd.choice([None, 3.5, 10.0]), mode="revisit" if kind == "ours" else "skill",
            outcome={"abandoned": "abandoned_in_queue", "self": "callback_requested", "greeting": "abandoned"}
            .get(kind, "connected"), self_service="callback" if kind == "self" else None,
            queued=kind != "greeting"))
        rows[-1].route_skill = rnd.choice(["general", "tax"])
        if rnd.random() < 0.3:
            at = start + timedelta(minutes=3)
            rows.append(Ticket(id=i + 1, number=f"T{i}", status="received", channel="电话",
                               request_type=rnd.choice(["咨询", "投诉", "求助"]),
                               category=rnd.choice(["010101", "0201"]), region=rnd.choice(["", "东城区", "西城区"]),
                               urgency="一般", created_by=agent or "8001",
                               created_at=at, updated_at=at,
                               submitted_at=at))
    return rows


@pytest.fixture(params=BOTH_DATABASES)
async def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionFactory]:
    async with migrated_sessions(request.param, tmp_path) as s:
        await seed(s, generated())
        yield s


async def test_rollups_equal_the_direct_count(sessions: SessionFactory) -> None:
    rolled, direct = Reports(sessions, RolledFigures()), Reports(sessions, RolledFigures(enabled=False))
    async with sessions() as s:
        due = await due_days(s, datetime(2026, 11, 28, tzinfo=CHINA))
    first = (FIRST - date(1970, 1, 1)).days
    assert due == list(range(first, first + 26))  # from the first call's day to the last closed one (26th)
    await Rollups(sessions).rebuild(due[:DAYS - 1])  # the last day stays live: both sources in one report
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(ReportRollupDay)) == DAYS - 1
    span = Span(FIRST, FIRST + timedelta(days=DAYS))
    slices = [Slice(), Slice(line="12315"), Slice(skill="tax"), Slice(short_abandon_s=12),
              Slice(short_abandon_s=7.5), Slice(agents=["8001", "8002"]), Slice(agents=["8003"], line="12345")]
    for which in slices:
        for by in ("day", "total"):
            assert await rolled.kpis(span, by, which) == await direct.kpis(span, by, which), (which, by)
    for dimension in ("line", "skill", "hour", "request_type", "category", "region"):
        assert await rolled.volumes(span, dimension) == await direct.volumes(span, dimension), dimension
    assert await rolled.agents(span, TEAMS) == await direct.agents(span, TEAMS)
    assert await rolled.teams(span, TEAMS, "一组") == await direct.teams(span, TEAMS, "一组")
    assert await rolled.monthly("2026-11", TEAMS) == await direct.monthly("2026-11", TEAMS)
    total = (await direct.kpis(span, "total", Slice()))["totals"]
    assert total["offered"] > 100 and total["short_abandoned"] > 0 and total["tickets"] > 50


async def test_a_day_rolled_up_before_it_settled_is_due_again(sessions: SessionFactory) -> None:
    await Rollups(sessions).rebuild([(FIRST - date(1970, 1, 1)).days])
    async with sessions() as s:
        due = await due_days(s, datetime(2026, 11, 28, tzinfo=CHINA))
    assert (FIRST - date(1970, 1, 1)).days not in due  # built now, long after the day closed


async def test_the_rebuild_command_builds_closed_days_again_and_refuses_the_open_day(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`hotline reports rebuild` on the deployment's database: a corrected past call shows in the rolled figures."""
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")  # migrated_sessions' file
    async with migrated_sessions("sqlite", tmp_path) as sessions:
        await seed(sessions, generated())
        span = Span(FIRST, FIRST + timedelta(days=DAYS - 2))
        rolled = Reports(sessions, RolledFigures())
        await Rollups(sessions).rebuild(span.day_numbers)
        before = (await rolled.kpis(span, "total", Slice()))["totals"]["offered"]
        async with sessions.begin() as s:  # a past day's call found missing and added later
            s.add(call("late", datetime(FIRST.year, FIRST.month, FIRST.day, 10, tzinfo=CHINA), wait=3.0, talk=60.0,
                       agent="8001", line="12345", rating=5, wrap_up=None, mode="skill", outcome="connected",
                       self_service=None, queued=True))
        assert (await rolled.kpis(span, "total", Slice()))["totals"]["offered"] == before  # frozen rollup
        code = await asyncio.to_thread(main, ["reports", "rebuild", "--from", str(FIRST),
                                              "--to", str(FIRST + timedelta(days=DAYS - 2))])
        assert code == 0
        out = capsys.readouterr()
        assert f"{FIRST}: " in out.err and f"(1/{DAYS - 1})" in out.err
        assert f"rebuilt the rollups of {DAYS - 1} day(s)" in out.out
        assert (await rolled.kpis(span, "total", Slice()))["totals"]["offered"] == before + 1
        today = datetime.now(CHINA).date()
        assert await asyncio.to_thread(main, ["reports", "rebuild", "--from", str(FIRST), "--to", str(today)]) == 2
        assert "is not closed yet" in capsys.readouterr().err
        assert await asyncio.to_thread(main, ["reports", "rebuild", "--from", "2026-11-05", "--to", "2026-11-02"]) == 2
        with pytest.raises(SystemExit):
            main(["reports", "rebuild", "--from", "11/05/2026"])
