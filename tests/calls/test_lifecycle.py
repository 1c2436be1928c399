"""The call lifecycle's writes when the events of one call are written by different service instances: a
recording heard before its call's record waits in the background (calls.late), and is never lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline.calls import late
from hotline.calls.lifecycle import CallLifecycle
from hotline.calls.models import CallRecord
from hotline.calls.records import CallNotFound, CallRecords
from tests.postgres_server import BOTH_DATABASES, migrated_sessions

pytestmark = pytest.mark.asyncio


def _recording(call_id: str) -> dict[str, str]:
    return {"Event": "UserEvent", "UserEvent": "HotlineRecording", "CallId": call_id, "Path": f"/r/{call_id}.wav",
            "Caller": "13900139000", "Dialled": "12345", "Skill": "general", "SipCallId": f"sip-{call_id}"}


def _start(call_id: str) -> dict[str, str]:
    return {"Event": "UserEvent", "UserEvent": "HotlineCallStart", "CallId": call_id, "Caller": "13800138000",
            "Dialled": "12345", "Mode": "ivr", "Skill": "general"}


@pytest.mark.parametrize("db", BOTH_DATABASES)
async def test_a_recording_of_a_call_without_a_record_is_refused_by_the_foreign_key(db: str, tmp_path: Path) -> None:
    async with migrated_sessions(db, tmp_path) as sessions:
        calls = CallRecords(sessions)
        with pytest.raises(CallNotFound):
            await calls.add_recording("none-1.1", "/r/none.wav", "wav")
        await calls.start("c-1.1", sip_call_id=None, caller="1", dialled="12345", started_at=datetime.now(UTC))
        first = await calls.add_recording("c-1.1", "/r/c.wav", "wav")
        assert await calls.add_recording("c-1.1", "/r/c.wav", "wav") == first  # once per path


@pytest.mark.parametrize("db", BOTH_DATABASES)
async def test_a_recording_heard_before_its_call_waits_in_the_background_for_the_record(
        db: str, tmp_path: Path) -> None:
    async with migrated_sessions(db, tmp_path) as sessions:
        calls = CallRecords(sessions)
        watcher = CallLifecycle(calls, Path)
        await asyncio.wait_for(watcher.on_user_event(_recording("a-1.1")), 1)  # returns at once
        assert watcher.late.waiting == 1
        await watcher.late.step()
        assert watcher.late.waiting == 1  # still no record: it keeps waiting
        # another instance claimed the call's start, and writes it late
        await calls.start("a-1.1", sip_call_id=None, caller="13800138000", dialled="12345",
                          started_at=datetime.now(UTC))
        await watcher.late.step()
        assert watcher.late.waiting == 0
        record = await calls.get("a-1.1")
        assert record is not None and [r["path"] for r in record.recordings] == ["/r/a-1.1.wav"]
        assert record.caller == "13800138000"  # the call's own start, not one made up by the recording
        assert "opened_late" not in [s["step"] for s in record.steps]


@pytest.mark.parametrize("db", BOTH_DATABASES)
async def test_a_recording_heard_while_the_start_is_being_written_is_linked_once(db: str, tmp_path: Path) -> None:
    """The databases differ here: SQLite's one writer makes the recording wait for the start's commit, PostgreSQL's
    foreign key refuses it at once (the call's row is not committed yet); either way it is linked, once."""
    async with migrated_sessions(db, tmp_path) as sessions:
        calls = CallRecords(sessions)
        watcher = CallLifecycle(calls, Path)
        async with sessions.begin() as s:  # another instance's start, in the middle of its transaction
            s.add(CallRecord(call_id="d-4.4", caller="13800138000", dialled="12345", started_at=datetime.now(UTC),
                             steps=[]))
            await s.flush()
            heard = asyncio.create_task(watcher.on_user_event(_recording("d-4.4")))
            await asyncio.sleep(0.5)
        await heard
        assert watcher.late.waiting == (1 if db == "postgres" else 0)
        await watcher.late.step()
        record = await calls.get("d-4.4")
        assert record is not None and [r["path"] for r in record.recordings] == ["/r/d-4.4.wav"]
        assert watcher.late.waiting == 0 and watcher.late.opened_total == 0


async def test_a_waiting_recording_does_not_hold_up_the_events_behind_it(tmp_path: Path) -> None:
    async with migrated_sessions("sqlite", tmp_path) as sessions:
        calls = CallRecords(sessions)
        watcher = CallLifecycle(calls, Path)
        for event in (_recording("a-2.1"), _start("b-2.2")):
            watcher._queue.put_nowait(event)
        await asyncio.wait_for(watcher.step(), 1)
        await asyncio.wait_for(watcher.step(), 1)
        assert await calls.get("b-2.2") is not None
        assert watcher.late.waiting == 1


@pytest.mark.parametrize("db", BOTH_DATABASES)
async def test_a_call_whose_start_never_comes_is_opened_from_its_recording(
        db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(late, "WAIT_S", 0.0)
    async with migrated_sessions(db, tmp_path) as sessions:
        calls = CallRecords(sessions)
        watcher = CallLifecycle(calls, Path)
        await watcher.on_user_event(_recording("b-9.9"))
        await watcher.on_hangup({"Event": "Hangup", "Uniqueid": "b-9.9", "Cause": "16", "Cause-txt": "Normal"})
        await watcher.late.step()
        assert watcher.late.waiting == 0 and watcher.late.opened_total == 1
        record = await calls.get("b-9.9")
        assert record is not None
        assert [r["path"] for r in record.recordings] == ["/r/b-9.9.wav"]  # not lost
        assert (record.caller, record.dialled, record.sip_call_id, record.route["skill"]) == \
            ("13900139000", "12345", "sip-b-9.9", "general")
        assert [s["step"] for s in record.steps] == ["opened_late"]  # marked: its start was never seen
        assert record.ended_at is not None and record.hangup_cause == "16 Normal"  # its hang-up, heard meanwhile
        assert not await calls.start("b-9.9", sip_call_id=None, caller="x", dialled="12345",
                                     started_at=datetime.now(UTC))  # a start arriving after all changes nothing


async def test_recordings_still_waiting_get_their_record_when_the_service_stops(tmp_path: Path) -> None:
    async with migrated_sessions("sqlite", tmp_path) as sessions:
        calls = CallRecords(sessions)
        watcher = CallLifecycle(calls, Path)
        await watcher.on_user_event(_recording("c-3.3"))
        await watcher.close()
        record = await calls.get("c-3.3")
        assert record is not None and [r["path"] for r in record.recordings] == ["/r/c-3.3.wav"]
