"""The call record's report columns are written as the call happens: queued, answered, the wait and the talk,
what self-service served (console.reports reads them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.calls.models import CallRecord
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory


async def row(sessions: SessionFactory, call_id: str) -> CallRecord:
    async with sessions() as s:
        found = await s.get(CallRecord, call_id)
        assert found is not None
        return found


async def start(calls: CallRecords, call_id: str) -> datetime:
    at = datetime.now(UTC)
    await calls.start(call_id, sip_call_id=None, caller="13800138000", dialled="12345", started_at=at)
    return at


async def test_an_answered_call_has_its_wait_and_talk(sqlite_sessions: SessionFactory) -> None:
    calls = CallRecords(sqlite_sessions)
    await start(calls, "a")
    await calls.step("a", "queued", {"skill": "general"})
    queued = (await row(sqlite_sessions, "a")).queued_at
    assert queued is not None
    await calls.assign_agent("a", "8001", queued + timedelta(seconds=12))
    await calls.hung_up("a", queued + timedelta(seconds=72), "16")
    await calls.wrapped_up("a", 20.5)
    r = await row(sqlite_sessions, "a")
    assert r.connected_at == queued + timedelta(seconds=12)
    assert (r.wait_s, r.talk_s, r.wrap_up_s, r.self_service) == (12.0, 60.0, 20.5, None)
    await calls.step("a", "queued", {"skill": "experts"})  # a transfer queues it again: the first queueing stays
    assert (await row(sqlite_sessions, "a")).queued_at == queued


async def test_a_caller_who_leaves_the_queue_waited_until_the_hang_up(sqlite_sessions: SessionFactory) -> None:
    calls = CallRecords(sqlite_sessions)
    await start(calls, "b")
    await calls.step("b", "queued", {})
    queued = (await row(sqlite_sessions, "b")).queued_at
    assert queued is not None
    await calls.set_outcome("b", "abandoned_in_queue")
    await calls.hung_up("b", queued + timedelta(seconds=4), "16")
    r = await row(sqlite_sessions, "b")
    assert (r.wait_s, r.talk_s, r.connected_at) == (4.0, None, None)


async def test_self_service_is_noted_only_when_it_served(sqlite_sessions: SessionFactory) -> None:
    calls = CallRecords(sqlite_sessions)
    for call_id in ("c", "d", "e"):
        await start(calls, call_id)
    await calls.step("c", "ticket_lookup", {"digits": 8, "found": False})
    await calls.step("d", "ticket_lookup", {"digits": 8, "found": True})
    await calls.step("e", "callback_requested", {"number": "138****8000"})
    assert (await row(sqlite_sessions, "c")).self_service is None
    assert (await row(sqlite_sessions, "d")).self_service == "ticket_progress"
    assert (await row(sqlite_sessions, "e")).self_service == "callback"
