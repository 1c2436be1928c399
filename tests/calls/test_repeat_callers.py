"""A repeat caller (priority) is someone who called in the last 24 hours; the calls the hotline placed to them
(an agent's callback, a revisit, a duty call) do not make them one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.calls.caller_lists import CallerLists
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


async def test_only_their_own_calls_make_a_repeat_caller(sqlite_sessions: SessionFactory) -> None:
    calls, lists = CallRecords(sqlite_sessions), CallerLists(sqlite_sessions)
    for mode in ("callback", "revisit", "duty_call"):
        await calls.start(f"out-{mode}", sip_call_id=None, caller="13800138001", dialled="12345", started_at=T0,
                          route_mode=mode)
    assert not (await lists.standing("13800138001", exclude_call="now", now=T0 + timedelta(hours=1))).repeat_caller
    await calls.start("in-1", sip_call_id=None, caller="13800138001", dialled="12345", started_at=T0)
    assert (await lists.standing("13800138001", exclude_call="now", now=T0 + timedelta(hours=1))).repeat_caller
