"""The spine on real parts: a citizen calls 12345 from the world instance and is served."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from hotline.app.stack import Stack
from hotline.core.netutil import free_port
from hotline.core.web.models import AuditEntry
from integration.world.call import WorldCaller

pytestmark = [pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="module")]

CITIZEN = "13800138000"


async def test_citizen_hears_greeting_presses_key_and_is_recorded(stack: Stack, world_caller: WorldCaller) -> None:
    outcome = await world_caller.call("12345", CITIZEN, dtmf="1", listen_s=15)

    assert outcome.answered, outcome.originate_result
    assert outcome.speech is not None and outcome.speech.has_speech, outcome.speech
    assert outcome.dtmf_sent == "1"
    data = outcome.to_json()
    assert data["digit_received"] == "1"
    assert data["steps"][:2] == ["greeting", "digit"]
    record = outcome.record
    assert record is not None
    assert record.caller == CITIZEN and record.dialled == "12345"
    assert record.answered_at is not None and record.ended_at is not None
    assert record.outcome == "connected", "an agent's phone answered"
    assert record.agent in ("8001", "8002", "8003"), "a general-skilled agent"
    assert data["steps"] == ["greeting", "digit", "queued", "emergency_hint", "agent"]
    queued_at = datetime.fromisoformat(next(s["at"] for s in record.steps if s["step"] == "queued"))
    assert (queued_at - record.answered_at).total_seconds() <= 5, "R-ACC-3: in the queue within about 5 s"
    assert len(record.recordings) == 1 and record.route["mode"] == "main"
    wav = Path(record.recordings[0]["path"])
    assert wav.suffix == ".wav"

    # The recording worker (its own process) stores a compact, hashed, read-only copy and deletes the WAV.
    stored = await stored_recording(stack, record.call_id)
    path = Path(stored["path"])
    assert stored["format"] == "opus" and path.suffix == ".opus" and path.exists()
    assert stored["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert stored["duration_s"] > 5 and path.stat().st_size < stored["duration_s"] * 2500, "≤ 150 KB a minute"
    assert not path.stat().st_mode & 0o222, "read-only once stored"
    assert not wav.exists(), "the WAV is deleted once the stored copy verifies"
    # Both sides kept as two channels, and analysed: the caller heard the greeting and the agent.
    assert stored["channels"] == 2 and stored["analysis"]["heard_speech_s"] > 1, stored

    # Listening: a supervisor streams it with a range request; another agent is refused, and both are audited.
    assert stack.tokens is not None and stack.calls is not None and record.agent is not None
    supervisor = await stack.tokens.create(name="sup-rec", role="supervisor")
    other = next(a for a in ("8001", "8002", "8003") if a != record.agent)
    stranger = await stack.tokens.create(name="other-agent", role="agent", agent_id=other)
    own = await stack.tokens.create(name="own-agent", role="agent", agent_id=record.agent)
    team = {"8001": "一组", "8002": "一组", "8003": "二组"}[record.agent]  # the shipped dialplan's teams
    other_team = await stack.tokens.create(name="sup-other-team", role="supervisor",
                                           group="二组" if team == "一组" else "一组")
    base = f"http://127.0.0.1:{stack.settings.core.ports.http}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/recordings?call_id={record.call_id}",
                            headers={"Authorization": f"Bearer {supervisor}"}) as r:
            listed = (await r.json())["recordings"]
        assert [x["id"] for x in listed] == [stored["id"]] and listed[0]["sha256"] == stored["sha256"]
        audio = f"{base}/api/recordings/{stored['id']}/audio"
        async with http.get(audio, headers={"Authorization": f"Bearer {supervisor}", "Range": "bytes=0-99"}) as r:
            assert r.status == 206 and r.headers["Content-Type"] == "audio/ogg"
            assert await r.read() == path.read_bytes()[:100]
        async with http.get(audio, headers={"Authorization": f"Bearer {stranger}"}) as r:
            assert r.status == 403
        async with http.get(audio, headers={"Authorization": f"Bearer {other_team}"}) as r:
            assert r.status == 403, "a team supervisor hears only their own team's calls"
        async with http.get(audio.replace("/audio", "/waveform"),
                            headers={"Authorization": f"Bearer {supervisor}"}) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "image/png"
            assert (await r.read()).startswith(b"\x89PNG")
        async with http.get(f"{base}/api/recordings?call_id={record.call_id}",
                            headers={"Authorization": f"Bearer {stranger}"}) as r:
            assert (await r.json())["recordings"] == [], "other agents' calls are not listed"
        async with http.get(audio + "?download=1", headers={"Authorization": f"Bearer {own}"}) as r:
            assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]
    async with stack.calls.sessions() as s:
        seen = (await s.scalars(select(AuditEntry).where(AuditEntry.resource == f"recordings/{stored['id']}")
                                .order_by(AuditEntry.id))).all()
    assert [(e.actor, e.action, e.allowed) for e in seen] == [
        ("sup-rec", "recordings.listen", True), ("other-agent", "recordings.listen", False),
        ("sup-other-team", "recordings.listen", False),
        ("sup-rec", "recordings.waveform", True), ("own-agent", "recordings.download", True)]
    assert seen[0].detail["range"] == "bytes=0-99" and seen[0].remote


async def stored_recording(stack: Stack, call_id: str, timeout: float = 20) -> dict[str, Any]:
    assert stack.calls is not None
    for _ in range(int(timeout * 5)):
        call = await stack.calls.get(call_id)
        if call is not None and call.recordings and call.recordings[0]["status"] == "stored":
            return call.recordings[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"the recording of {call_id} was not stored within {timeout}s")


async def test_health_reports_every_part_up(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{stack.settings.core.ports.http}/api/health") as resp:
            body = await resp.json()
    assert resp.status == 200, body
    for part in ("asterisk", "ami", "agi", "redis", "db"):
        assert body["parts"][part]["ok"], (part, body)


async def test_calls_api_serves_the_record_to_a_supervisor(stack: Stack, world_caller: WorldCaller) -> None:
    outcome = await world_caller.call("12345", "13900139000", dtmf="2", listen_s=15)
    assert stack.tokens is not None
    token = await stack.tokens.create(name="sup", role="supervisor")
    base = f"http://127.0.0.1:{stack.settings.core.ports.http}"
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/api/calls", params={"caller": "13900139000", "limit": "5"}, headers=headers) as r:
            listing = await r.json()
        async with http.get(f"{base}/api/calls/{outcome.call_id}", headers=headers) as r2:
            one = await r2.json()
        async with http.get(f"{base}/api/calls") as anonymous:
            assert anonymous.status == 401
    assert r.status == 200 and r2.status == 200
    assert listing["calls"][0]["call_id"] == outcome.call_id
    for key in ("call_id", "caller", "dialled", "started_at", "answered_at", "ended_at", "route", "agent",
                "rating", "recordings"):
        assert key in one, key
    assert one["route"]["mode"] == "main"
    assert one["recordings"]


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp comes from scripts/setup-system.sh")
async def test_any_sip_client_on_loopback_can_call_without_registering(stack: Stack) -> None:
    proc = await asyncio.create_subprocess_exec(
        "sipp", "-sn", "uac", "-s", "12345", f"127.0.0.1:{stack.settings.core.ports.hotline_sip}",
        "-i", "127.0.0.1", "-p", str(free_port()), "-m", "1", "-l", "1", "-d", "3000", "-timeout", "20s", "-nostdin",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 40)
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]


async def test_with_the_recording_store_down_calls_connect_and_recordings_wait(stack: Stack,
                                                                              world_caller: WorldCaller) -> None:
    store = stack.settings.recordings.store_dir(stack.settings.core.home)
    aside = store.with_name("recordings-aside")
    store.rename(aside)
    store.write_text("not a folder: the storage is down")  # like a full or unmounted disk
    health = f"http://127.0.0.1:{stack.settings.core.ports.http}/api/health"
    try:
        outcome = await world_caller.call("12345", "13900139077", dtmf="1", listen_s=10)
        assert outcome.record is not None and outcome.record.outcome == "connected", "calls still connect"
        for _ in range(100):
            async with aiohttp.ClientSession() as http, http.get(health) as r:
                part = (await r.json())["parts"]["recordings"]
            if not part["ok"]:
                break
            await asyncio.sleep(0.2)
        assert not part["ok"] and "failing 1" in part["detail"], "the operator sees the failing recording"
    finally:
        store.unlink()
        aside.rename(store)
    assert outcome.call_id is not None
    stored = await stored_recording(stack, outcome.call_id, timeout=30)  # retried once the storage is back
    assert stored["sha256"] and Path(stored["path"]).exists()
