"""Measures on nuisance callers (R-ACC-7) on real SQLite and PostgreSQL databases: warning first, set periods
that expire by time, lifts, the history with who and why, and what a call's standing says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.calls.caller_lists import CallerLists
from hotline.calls.measures import CallerMeasures, MeasureRefused
from hotline.core.db.engine import SessionFactory
from tests.postgres_server import BOTH_DATABASES, migrated_sessions

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
NUMBER = "13500135090"


@pytest.fixture(params=BOTH_DATABASES)
async def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionFactory]:
    """A migrated database of the test's own: SQLite, or a PostgreSQL server started for it."""
    async with migrated_sessions(request.param, tmp_path) as sessions:
        yield sessions


async def refused(measures: CallerMeasures, *args: object, **kwargs: object) -> str:
    with pytest.raises(MeasureRefused) as caught:
        await measures.decide(*args, **kwargs)  # type: ignore[arg-type]
    return caught.value.error_id


async def test_a_refusal_needs_a_warning_first_a_reason_and_a_set_period(sessions: SessionFactory) -> None:
    m = CallerMeasures(sessions)
    assert await refused(m, NUMBER, "suspend", "辱骂话务员", "sup", ends_at=T0 + timedelta(days=7), now=T0) \
        == "warning_first"
    assert await refused(m, NUMBER, "warning", "  ", "sup", ends_at=None, now=T0) == "reason_required"
    assert await refused(m, NUMBER, "block", "x", "sup", ends_at=None, now=T0) == "bad_measure"
    await m.decide(NUMBER, "warning", "无实质诉求反复来电", "sup", ends_at=None, now=T0)
    assert await refused(m, NUMBER, "pause", "再次骚扰", "sup", ends_at=None, now=T0) == "period_required"
    assert await refused(m, NUMBER, "stop", "再次骚扰", "sup", ends_at=T0 + timedelta(days=400), now=T0) == "bad_period"
    assert await refused(m, NUMBER, "stop", "再次骚扰", "sup", ends_at=T0 - timedelta(hours=1), now=T0) == "bad_period"
    assert [d.measure for d in await m.history(NUMBER)] == ["warning"]  # refusals leave nothing behind


async def test_a_suspension_lasts_its_period_then_the_warning_applies_again(sessions: SessionFactory) -> None:
    m = CallerMeasures(sessions)
    warning = await m.decide(NUMBER, "warning", "辱骂话务员", "sup-a", ends_at=None, now=T0)
    suspension = await m.decide(NUMBER, "suspend", "警告后仍辱骂", "sup-b", ends_at=T0 + timedelta(hours=25),
                                now=T0 + timedelta(hours=1))
    assert await m.in_force(NUMBER, T0 + timedelta(minutes=30)) == warning
    assert await m.in_force(NUMBER, T0 + timedelta(hours=2)) == suspension and suspension.refuses
    assert await m.in_force(NUMBER, T0 + timedelta(hours=25)) == warning  # expired by time, no worker
    assert [d.number for d in await m.all_in_force(T0 + timedelta(hours=2))] == [NUMBER]


async def test_a_lift_ends_every_earlier_measure_and_is_recorded_with_who_and_why(
        sessions: SessionFactory) -> None:
    m = CallerMeasures(sessions)
    with pytest.raises(MeasureRefused, match="no measure"):
        await m.lift(NUMBER, "误判", "sup", now=T0)
    await m.decide(NUMBER, "warning", "辱骂话务员", "sup-a", ends_at=None, now=T0)
    await m.decide(NUMBER, "pause", "再次辱骂", "sup-a", ends_at=T0 + timedelta(days=3), now=T0 + timedelta(hours=1))
    lifted = await m.lift(NUMBER, "来电人已道歉", "sup-b", now=T0 + timedelta(hours=2))
    assert await m.in_force(NUMBER, T0 + timedelta(hours=3)) is None
    assert await m.all_in_force(T0 + timedelta(hours=3)) == []
    history = [(d.measure, d.decided_by, d.reason) for d in await m.history(NUMBER)]
    assert history == [("warning", "sup-a", "辱骂话务员"), ("pause", "sup-a", "再次辱骂"),
                       ("lift", "sup-b", "来电人已道歉")]
    assert lifted.to_json()["measure"] == "lift"


async def test_a_calls_standing_carries_the_measure_refusing_or_warning(sessions: SessionFactory) -> None:
    m, lists = CallerMeasures(sessions), CallerLists(sessions)
    await m.decide(NUMBER, "warning", "辱骂话务员", "sup", ends_at=None, now=T0)
    warned = await lists.standing(NUMBER, exclude_call="c1", now=T0 + timedelta(minutes=1))
    assert warned.watched and not warned.refused and not warned.blocked and warned.labels() == ["watch"]
    await m.decide(NUMBER, "stop", "再次辱骂", "sup", ends_at=T0 + timedelta(hours=1), now=T0 + timedelta(minutes=2))
    stopped = await lists.standing(NUMBER, exclude_call="c1", now=T0 + timedelta(minutes=3))
    assert stopped.refused and stopped.measure is not None and stopped.measure.measure == "stop"
    after = await lists.standing(NUMBER, exclude_call="c1", now=T0 + timedelta(hours=2))
    assert not after.refused and after.watched
    other = await lists.standing("13500135091", exclude_call="c1", now=T0)
    assert other.measure is None and not other.watched
