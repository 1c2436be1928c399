"""Agents' emergency flags (R-ACD-1): on the caller's number, for the dialplan's hours, noted on the call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from acd.emergency import KEY, EmergencyFlags, NoCallerNumber, UnknownCall
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory
from hotline.core.embedded.redis_server import RedisServer
from hotline.core.netutil import free_port
from hotline.core.redis_client import redis_client


@pytest.fixture
async def flags(tmp_path: Path, sqlite_sessions: SessionFactory) -> AsyncIterator[EmergencyFlags]:
    server = RedisServer(tmp_path / "redis", free_port())
    await server.start()
    client = redis_client(server.url)
    calls = CallRecords(sqlite_sessions)
    now = datetime.now(UTC)
    await calls.start("c1", sip_call_id=None, caller="13800138001", dialled="12345", started_at=now)
    await calls.start("c2", sip_call_id=None, caller="anonymous", dialled="12345", started_at=now)
    try:
        yield EmergencyFlags(client, calls, hours=6)
    finally:
        await client.aclose()
        await server.stop()


async def test_a_flag_lasts_the_configured_hours_and_is_noted_on_the_call(flags: EmergencyFlags) -> None:
    assert not await flags.flagged("13800138001")
    until = await flags.flag_caller_of("c1", by="a1", note="燃气泄漏")
    assert await flags.flagged("13800138001") and not await flags.flagged("13800138002")
    assert abs(until - datetime.now(UTC) - timedelta(hours=6)) < timedelta(seconds=5)
    assert 6 * 3600 - 5 <= await flags._redis.ttl(KEY + "13800138001") <= 6 * 3600  # ends by itself
    record = await flags._calls.get("c1")
    assert record is not None
    assert [s["detail"]["by"] for s in record.steps if s["step"] == "emergency_flagged"] == ["a1"]


async def test_an_unknown_call_or_a_withheld_number_cannot_be_flagged(flags: EmergencyFlags) -> None:
    with pytest.raises(UnknownCall):
        await flags.flag_caller_of("nope", by="a1", note="")
    with pytest.raises(NoCallerNumber):
        await flags.flag_caller_of("c2", by="a1", note="")
    assert await flags._redis.keys(KEY + "*") == []
