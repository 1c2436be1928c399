"""Test calls over HTTP with a scripted world caller: 202 then running → done with the result of `hotline call`,
one at a time per engineer, the heard audio moved under var/ with 0600 and served (audited), swept after a day;
no world: 409 `no_test_world`; agents, supervisors and auditors refused."""

from __future__ import annotations

import asyncio
import os
import stat
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from hotline.app.web import WebParts, build_app
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.health import HealthRegistry
from hotline.core.web.models import AuditEntry
from hotline.core.web.tokens import ApiTokens
from integration.world import http as world_http
from integration.world.call import CallOutcome
from integration.world.testcalls import TestCallRunner


class ScriptedWorld:
    """Answers each call once `go` is set, with a second of heard audio written where the world writes it."""

    def __init__(self, heard: Path) -> None:
        self.heard = heard
        self.go = asyncio.Event()
        self.placed: list[tuple[str, str, str, str | None]] = []

    async def call(self, number: str, caller: str, *, dtmf: str = "", script: str | None = None) -> CallOutcome:
        self.placed.append((number, caller, dtmf, script))
        await self.go.wait()
        path = self.heard / f"{len(self.placed)}.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(bytes(16000))
        return CallOutcome(number, caller, True, "ANSWERED", "w1", "sip-1", path, dtmf or None, None, None)


@pytest.fixture
async def served(sqlite_sessions: SessionFactory, tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any],
                                                                                          ApiTokens, ScriptedWorld,
                                                                                          TestCallRunner]]:
    (tmp_path / "heard").mkdir()
    world = ScriptedWorld(tmp_path / "heard")
    present = [world]
    runner = TestCallRunner(tmp_path / "test-calls", lambda: present[0] if present else None)  # type: ignore[arg-type, return-value]
    tokens = ApiTokens(sqlite_sessions)
    app = build_app(WebParts([world_http.routes(runner)], tokens, AuditLog(sqlite_sessions), HealthRegistry(),
                             CollectorRegistry()))
    async with TestClient(TestServer(app)) as client:
        yield client, tokens, world, runner
    await runner.close()


async def bearer(tokens: ApiTokens, role: str, name: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + await tokens.create(name=name, role=role,
                                                             agent_id="8001" if role == "agent" else None)}


async def until_done(client: TestClient[Any, Any], call_id: str, who: dict[str, str]) -> dict[str, Any]:
    for _ in range(100):
        found = await (await client.get(f"/api/test-calls/{call_id}", headers=who)).json()
        if found["state"] != "running":
            return dict(found)
        await asyncio.sleep(0.02)
    raise AssertionError("the test call did not end")


async def test_a_test_call_runs_once_per_engineer_and_keeps_what_was_heard(
        served: tuple[TestClient[Any, Any], ApiTokens, ScriptedWorld, TestCallRunner],
        sqlite_sessions: SessionFactory) -> None:
    client, tokens, world, runner = served
    li, wang = await bearer(tokens, "engineer", "engineer.li"), await bearer(tokens, "admin", "admin.wang")
    r = await client.post("/api/test-calls", headers=li, json={"number": "12345", "from": "13800138000", "dtmf": "1"})
    assert r.status == 202
    placed = await r.json()
    assert (await (await client.get(f"/api/test-calls/{placed['id']}", headers=li)).json())["state"] == "running"
    again = await client.post("/api/test-calls", headers=li, json={})
    assert again.status == 409 and (await again.json())["error"]["id"] == "test_call_running"
    other = await client.post("/api/test-calls", headers=wang, json={"script": "noise/wait:3/dtmf:2/wait:5"})
    assert other.status == 202, "another engineer may call meanwhile"
    assert (await client.get(f"/api/test-calls/{placed['id']}/audio", headers=li)).status == 404
    world.go.set()
    done = await until_done(client, placed["id"], li)
    assert done["state"] == "done" and done["result"]["answered"] is True and done["from"] == "13800138000"
    assert world.placed[0] == ("12345", "13800138000", "1", None)
    assert world.placed[1][3] == "noise/wait:3/dtmf:2/wait:5"
    kept = runner.audio_of(placed["id"])
    assert done["result"]["heard_audio"] == str(kept) and done["audio_url"].endswith("/audio")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and not (world.heard / "1.wav").exists()
    audio = await client.get(done["audio_url"], headers=li)
    assert audio.status == 200 and audio.content_type == "audio/wav" and (await audio.read())[:4] == b"RIFF"
    assert (await client.post("/api/test-calls", headers=li, json={})).status == 202, "free again once done"
    async with sqlite_sessions() as s:
        actions = [(a.action, a.resource) for a in (await s.scalars(select(AuditEntry))).all()]
    assert ("test_calls.read", f"test-calls/{placed['id']}/audio") in actions
    old = time.time() - 2 * 86400
    for path in runner.folder.iterdir():
        os.utime(path, (old, old))
    assert runner.sweep() >= 2 and not kept.exists()
    assert (await client.get(f"/api/test-calls/{placed['id']}", headers=li)).status == 404


async def test_bad_requests_other_roles_and_no_world_are_refused(
        served: tuple[TestClient[Any, Any], ApiTokens, ScriptedWorld, TestCallRunner]) -> None:
    client, tokens, world, runner = served
    li = await bearer(tokens, "engineer", "engineer.li")
    for body in ({"number": "12345; rm"}, {"dtmf": "1a"}, {"script": "wait:5,Hangup()"}, {"script": "wait:999"},
                 {"script": "wait:100/wait:100"}, {"callee": "1"}):
        assert (await client.post("/api/test-calls", headers=li, json=body)).status == 422, body
    for role in ("agent", "supervisor", "auditor"):
        who = await bearer(tokens, role, f"{role}.x")
        assert (await client.post("/api/test-calls", headers=who, json={})).status == 403
        assert (await client.get(f"/api/test-calls/{'a' * 32}", headers=who)).status == 403
    runner.caller = lambda: None
    r = await client.post("/api/test-calls", headers=li, json={})
    assert r.status == 409 and (await r.json())["error"]["id"] == "no_test_world"
    assert world.placed == []
