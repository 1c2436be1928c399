"""The wallboard's figures from call records: offered, answered, answered within 15 s, abandoned and the
service level per line and skill, today and over the last 30 minutes (console.wallboard.figures), counted by
hand against seeded records on the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from console.wallboard.figures import QueuedCall, Tally, queued_calls, tally
from hotline.calls.models import CallRecord
from hotline.core.db.engine import SessionFactory

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
S = timedelta(seconds=1)
M = timedelta(minutes=1)


def steps(queued: datetime | None, answered: datetime | None = None, skill: str = "general") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"at": (queued or NOW).isoformat(), "step": "greeting", "detail": {}}]
    if queued is not None:
        out.append({"at": queued.isoformat(), "step": "queued", "detail": {"skill": skill, "priority": 0}})
    if answered is not None:
        out.append({"at": answered.isoformat(), "step": "agent", "detail": {"agent": "8001"}})
    return out


def record(name: str, line: str, queued: datetime | None, *, answered_after_s: float | None = None,
           outcome: str | None = "connected", ended: bool = True, skill: str = "general",
           mode: str | None = "main") -> CallRecord:
    started = (queued or NOW) - 10 * S
    answered = queued + answered_after_s * S if queued is not None and answered_after_s is not None else None
    return CallRecord(call_id=f"wb-{name}", caller="13800138000", dialled=line, started_at=started,
                      answered_at=started, ended_at=NOW if ended else None, route_mode=mode, route_skill=skill,
                      agent="8001" if answered else None, outcome=outcome, steps=steps(queued, answered, skill))


def call(line: str = "12345", ago_s: float = 60, waited: float | None = 5, outcome: str | None = "connected",
         ended: bool = True, skill: str = "general") -> QueuedCall:
    return QueuedCall(line, skill, NOW - ago_s * S, waited, outcome, ended)


def test_the_service_level_is_answered_in_15_s_over_the_decided_callers() -> None:
    figures = tally([
        call(waited=3), call(waited=15), call(waited=16),  # answered: two in time
        call(waited=None, outcome="abandoned_in_queue"),  # abandoned
        call(waited=None, outcome="queued", ended=True),  # ended while queued: abandoned too
        call(waited=None, outcome="callback_requested"),  # deflected: not offered
        call(waited=None, outcome="queued", ended=False, ago_s=40),  # waiting 40 s: missed already
        call(waited=None, outcome="queued", ended=False, ago_s=5),  # waiting 5 s: not decided yet
    ], NOW - 30 * M, NOW)
    line = figures.lines["12345"]
    assert (line.offered, line.answered, line.answered_15s, line.abandoned, line.undecided) == (7, 3, 2, 2, 1)
    assert line.sl_15s == round(2 / 6, 4)
    assert figures.skills["general"] == line


def test_only_calls_queued_in_the_window_count_and_nobody_decided_is_full_service() -> None:
    figures = tally([call(ago_s=31 * 60), call(line="12329", skill="housing_fund", ago_s=60)], NOW - 30 * M, NOW)
    assert "12345" not in figures.lines
    assert figures.lines["12329"].offered == 1 and figures.skills["housing_fund"].sl_15s == 1.0
    assert Tally().sl_15s == 1.0


async def test_the_figures_come_from_the_stored_records(sqlite_sessions: SessionFactory) -> None:
    async with sqlite_sessions.begin() as s:
        s.add_all([
            record("fast", "12345", NOW - 5 * M, answered_after_s=4),
            record("slow", "12345", NOW - 6 * M, answered_after_s=40),
            record("gone", "12345", NOW - 7 * M, outcome="abandoned_in_queue"),
            record("tax", "12366", NOW - 8 * M, answered_after_s=2, skill="tax"),
            record("old", "12345", NOW - 50 * M, answered_after_s=2),  # before the 30 minutes
            record("greeting-only", "12345", None, outcome="abandoned"),  # never queued
            record("revisit", "12345", NOW - 5 * M, answered_after_s=1, mode="revisit"),  # the hotline's own
        ])
    calls = await queued_calls(sqlite_sessions, NOW - 60 * M)
    assert len(calls) == 5
    recent = tally(calls, NOW - 30 * M, NOW)
    main = recent.lines["12345"]
    assert (main.offered, main.answered, main.answered_15s, main.abandoned) == (3, 2, 1, 1)
    assert recent.lines["12366"].sl_15s == 1.0 and recent.skills["tax"].answered == 1
    assert tally(calls, NOW - 60 * M, NOW).lines["12345"].offered == 4
