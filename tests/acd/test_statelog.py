"""The agents' state log: each `agent` event of the ACD's feed closes the open interval and opens the next; a
wrap-up gives the call it followed its wrap-up seconds."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from acd.statelog import AgentStateInterval, AgentStateLog
from hotline.calls.models import CallRecord
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory

T0 = 1_795_000_000_000  # ms


async def test_intervals_follow_the_events_and_wrap_up_reaches_the_call(sqlite_sessions: SessionFactory) -> None:
    calls = CallRecords(sqlite_sessions)
    await calls.start("k1", sip_call_id=None, caller="13800138000", dialled="12345",
                      started_at=datetime.fromtimestamp(T0 / 1000, UTC))
    log = AgentStateLog(sqlite_sessions, calls)
    for event in (
        {"event": "agent", "agent": "8001", "state": "ready", "at_ms": T0},
        {"event": "offered", "call": "k1", "agent": "8001", "at_ms": T0 + 1000},
        {"event": "agent", "agent": "8001", "state": "offered", "at_ms": T0 + 1000},
        {"event": "connected", "call": "k1", "agent": "8001", "at_ms": T0 + 3000},
        {"event": "agent", "agent": "8001", "state": "on_call", "at_ms": T0 + 3000},
        {"event": "agent", "agent": "8001", "state": "wrap_up", "at_ms": T0 + 63000},
        {"event": "agent", "agent": "8001", "state": "paused", "reason": "break", "at_ms": T0 + 78500},
        {"event": "agent", "agent": "8001", "state": "signed_out", "at_ms": T0 + 100000},
    ):
        await log.record(event)
    async with sqlite_sessions() as s:
        rows = (await s.scalars(select(AgentStateInterval).order_by(AgentStateInterval.id))).all()
        call = await s.get(CallRecord, "k1")
    spans = [(r.state, r.reason, r.call_id, (r.ended_at - r.started_at).total_seconds() if r.ended_at else None)
             for r in rows]
    assert spans == [("ready", "", None, 1.0), ("offered", "", None, 2.0), ("on_call", "", "k1", 60.0),
                     ("wrap_up", "", "k1", 15.5), ("paused", "break", None, 21.5)]
    assert call is not None and call.wrap_up_s == 15.5
