"""The call lifecycle's writes when the events of one call are written by different service instances."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline.calls import lifecycle
from hotline.calls.lifecycle import CallLifecycle
from hotline.calls.records import CallRecords
from tests.postgres_server import migrated_sessions

pytestmark = pytest.mark.asyncio


def _recording(call_id: str) -> dict[str, str]:
    return {"Event": "UserEvent", "UserEvent": "HotlineRecording", "CallId": call_id, "Path": f"/r/{call_id}.wav"}


async def test_a_recording_heard_before_its_call_is_written_waits_for_the_record(tmp_path: Path) -> None:
    async with migrated_sessions("sqlite", tmp_path) as sessions:
        calls = CallRecords(sessions)
        watcher = CallLifecycle(calls, Path)

        async def started_elsewhere() -> None:  # another instance claimed the call's start, and writes it late
            await asyncio.sleep(0.3)
            await calls.start("a-1.1", sip_call_id=None, caller="13800138000", dialled="12345",
                              started_at=datetime.now(UTC))

        await asyncio.gather(watcher.on_user_event(_recording("a-1.1")), started_elsewhere())
        record = await calls.get("a-1.1")
        assert record is not None and [r["path"] for r in record.recordings] == ["/r/a-1.1.wav"]
        assert record.caller == "13800138000"  # the call's own start, not one made up by the recording


async def test_a_recording_of_a_call_never_written_is_given_up_and_logged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(lifecycle, "RECORD_WAIT_S", 0.3)
    async with migrated_sessions("sqlite", tmp_path) as sessions:
        await CallLifecycle(CallRecords(sessions), Path).on_user_event(_recording("b-9.9"))
    assert "could not record HotlineRecording of call b-9.9" in caplog.text
