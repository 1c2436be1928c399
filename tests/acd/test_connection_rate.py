"""The 24-hour connection rate (R-ACC-3) on the real database, SQLite and PostgreSQL, from seeded call
records: who asked for an agent, who got one, and who does not count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from acd.connection import ConnectionFigures, connection_rate
from acd.store import today
from hotline.app.plugins import upgrade_database as upgrade
from hotline.calls.models import CallRecord
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from tests.postgres_server import BOTH_DATABASES

UNTIL = datetime(2020, 6, 1, 12, 0, tzinfo=UTC)  # far from any other test's calls on a shared PostgreSQL
H = timedelta(hours=1)


@pytest.fixture(params=BOTH_DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    return str(request.getfixturevalue("postgres_url"))  # the session's server (shared: hence UNTIL)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    url = database_url
    await upgrade(url)
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def call(name: str, ago: timedelta, *, agent: str | None = None, outcome: str | None = None, ended: bool = True,
         mode: str | None = "main", until: datetime = UNTIL) -> CallRecord:
    started = until - ago
    return CallRecord(call_id=f"rate-{name}", caller="13800138000", dialled="12345", started_at=started,
                      answered_at=started, ended_at=started + timedelta(minutes=3) if ended else None,
                      route_mode=mode, agent=agent, outcome=outcome, steps=[])


async def test_the_rate_counts_the_last_24_hours_of_callers_who_asked_for_an_agent(sessions: SessionFactory) -> None:
    async with sessions.begin() as s:
        s.add_all([
            call("answered", 1 * H, agent="8001", outcome="connected"),
            call("answered-early", 23.9 * H, agent="8002", outcome="ended"),
            call("silent-then-handed-on", 2 * H, agent="8001", outcome="silent_caller"),
            call("hung-up-in-queue", 3 * H, outcome="abandoned_in_queue"),
            call("queued-then-gone", 4 * H, outcome="queued"),
            call("failsafe-queued", 5 * H, outcome="queued", mode=None),
            # not counted:
            call("yesterday", 25 * H, agent="8001", outcome="connected"),
            call("after-the-window", -H, agent="8001", outcome="connected"),
            call("still-waiting", 0.1 * H, outcome="queued", ended=False),
            call("left-in-greeting", 2 * H, outcome="abandoned"),
            call("blocked", 2 * H, outcome="blocked"),
            call("voice-message", 2 * H, outcome="voice_message"),
            call("chose-callback", 2 * H, outcome="callback_requested"),
            call("revisit", 2 * H, outcome="answered", mode="revisit"),
            call("duty-call", 2 * H, agent="13900000000", outcome="connected", mode="duty_call"),
        ])
    rate = await connection_rate(sessions, UNTIL)
    assert (rate.asked, rate.answered, rate.rate) == (6, 3, 0.5)
    assert rate.since == UNTIL - 24 * H and rate.to_json()["target"] == 0.95
    assert (await connection_rate(sessions, UNTIL - 30 * 24 * H)).rate == 1.0, "nobody asked: nobody was missed"
    later = await connection_rate(sessions, UNTIL + 2 * H)  # the window rolls: answered-early out, after… in
    assert (later.asked, later.answered) == (6, 3)
    shifted = await connection_rate(sessions, UNTIL + 20 * H)  # 4 h back: answered, silent, hung up, after…
    assert (shifted.asked, shifted.answered) == (4, 3)


async def test_metrics_carry_the_24_hour_rate_beside_todays_15_s_rate(sqlite_sessions: SessionFactory) -> None:
    async with sqlite_sessions.begin() as s:
        now = datetime.now(UTC)
        s.add_all([call("m-answered", H, agent="8001", outcome="connected", until=now),
                   call("m-lost", H, outcome="abandoned_in_queue", until=now)])
    days: list[str] = []

    async def day_stats(day: str) -> dict[str, dict[str, float]]:
        days.append(day)
        return {"general": {"sl_15s": 0.8}, "tax": {"sl_15s": 1.0}}

    figures = ConnectionFigures(sqlite_sessions, day_stats)
    assert list(figures.collect()) == [], "nothing before the first refresh"
    await figures.step()
    found = {sample.name: sample for metric in figures.collect() for sample in metric.samples}
    assert days == [today()]
    assert found["hotline_connection_rate_24h"].value == 0.5
    assert (found["hotline_connection_asked_24h"].value, found["hotline_connection_answered_24h"].value) == (2, 1)
    rates = {s.labels["skill"]: s.value for m in figures.collect() for s in m.samples
             if s.name == "hotline_acd_answered_15s_rate"}
    assert rates == {"general": 0.8, "tax": 1.0}
