"""The callback work list's routes on a real SQLite database (the ACD's side scripted, no Asterisk behind the
AMI): who sees and does what, every refusal with its status and id and an audit row, the voice message's
audio for the claimer only."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from callback.http import RevisitOps
from callback.http import routes as callback_routes
from callback.models import RevisitTask
from dialplans.loader import load_dialplan
from hotline.app.settings import Settings
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry
from hotline.core.web.tokens import ApiTokens
from tests.callback.desk import ScriptedAgents, callback_desk
from tests.callback.test_http import revisit_app
from tests.webapp import web_app

TEAMS = {"8001": "一组", "8002": "一组", "8003": "二组"}
WHO = {"8001": ("agent", "8001", None), "8002": ("agent", "8002", None), "8003": ("agent", "8003", None),
       "sup1": ("supervisor", None, "一组"), "sup2": ("supervisor", None, "二组"), "auditor": ("auditor", None, None),
       "admin": ("admin", None, None)}


@dataclass
class Desk:
    client: TestClient[web.Request, web.Application]
    bearer: dict[str, str]
    agents: ScriptedAgents
    sessions: SessionFactory

    async def call(self, method: str, path: str, who: str, body: Any = None) -> tuple[int, Any]:
        async with self.client.request(method, path, json=body,
                                       headers={"Authorization": f"Bearer {self.bearer[who]}"}) as r:
            if r.content_type.startswith("audio/"):
                return r.status, await r.read()
            return r.status, await r.json()

    async def item(self, number: str, kind: str = "callback_request", call_id: str | None = None) -> int:
        async with self.sessions.begin() as s:
            task = RevisitTask(call_id=call_id, number=number, reason=kind, mode="human", created_at=datetime.now(UTC))
            s.add(task)
        return task.id


@pytest.fixture
async def desk(sqlite_sessions: SessionFactory) -> AsyncIterator[Desk]:
    tokens = ApiTokens(sqlite_sessions)
    agents = ScriptedAgents(busy={"8002"})
    plan = load_dialplan(Settings().core.dialplan_file)
    _, ops = revisit_app(sqlite_sessions, tokens)
    app = web_app(sqlite_sessions, tokens, callback_routes(RevisitOps(ops.tasks, ops.dialer), callback_desk(
        sqlite_sessions, CallRecords(sqlite_sessions), plan, agents=agents)), teams=TEAMS)
    bearer = {name: await tokens.create(name=name, role=role, agent_id=agent, group=group)
              for name, (role, agent, group) in WHO.items()}
    async with TestClient(TestServer(app)) as client:
        yield Desk(client, bearer, agents, sqlite_sessions)


def error(body: Any) -> str:
    return str(body["error"]["id"])


async def test_claims_one_at_a_time_and_who_sees_what(desk: Desk) -> None:
    one = await desk.item("13800138001")
    other = await desk.item("13800138002", "voice_message")
    assert (await desk.call("POST", f"/api/callbacks/{one}/claim", "8001"))[0] == 200
    status, body = await desk.call("POST", f"/api/callbacks/{one}/claim", "8003")
    assert (status, error(body)) == (409, "already_claimed")
    assert (await desk.call("POST", f"/api/callbacks/{one}/claim", "sup1"))[0] == 403, "supervisors do not dial"
    assert (await desk.call("POST", f"/api/callbacks/{other}/claim", "8003"))[0] == 200

    def ids(body: Any) -> list[int]:
        return [i["id"] for i in body["callbacks"]]

    assert ids((await desk.call("GET", "/api/callbacks", "8001"))[1]) == [one]
    assert ids((await desk.call("GET", "/api/callbacks", "8002"))[1]) == [], "both taken by others"
    assert ids((await desk.call("GET", "/api/callbacks", "sup1"))[1]) == [one]
    assert ids((await desk.call("GET", "/api/callbacks", "admin"))[1]) == [one, other]
    assert ids((await desk.call("GET", "/api/callbacks?kind=voice_message", "admin"))[1]) == [other]
    status, seen = await desk.call("GET", "/api/callbacks?status=claimed", "auditor")
    assert [i["number"] for i in seen["callbacks"]] == ["138****8001", "138****8002"]
    assert (await desk.call("GET", f"/api/callbacks/{other}", "8001"))[0] == 404, "not on agent 8001's list"
    assert (await desk.call("GET", "/api/callbacks?status=everything", "8001"))[0] == 400
    status, _ = await desk.call("POST", f"/api/callbacks/{other}/release", "sup1")
    assert status == 403, "agent 8003 is not in team 一组"
    assert (await desk.call("POST", f"/api/callbacks/{other}/release", "sup2"))[0] == 200
    status, body = await desk.call("POST", f"/api/callbacks/{one}/release", "8003")
    assert (status, error(body)) == (409, "not_claimed")


async def test_dial_and_outcome_refusals(desk: Desk) -> None:
    one = await desk.item("13800138001")
    odd = await desk.item("16001234567")  # premium: never dialled as a national number
    status, body = await desk.call("POST", f"/api/callbacks/{one}/dial", "8001")
    assert (status, error(body)) == (409, "not_claimed")
    status, body = await desk.call("POST", f"/api/callbacks/{one}/outcome", "8001", {"outcome": "reached"})
    assert (status, error(body)) == (409, "not_claimed")
    await desk.call("POST", f"/api/callbacks/{one}/claim", "8001")
    status, body = await desk.call("POST", f"/api/callbacks/{one}/outcome", "8001", {"outcome": "reached"})
    assert (status, error(body)) == (409, "no_call"), "dial first"
    assert (await desk.call("POST", f"/api/callbacks/{one}/outcome", "8001", {"outcome": "maybe"}))[0] == 422
    status, body = await desk.call("POST", f"/api/callbacks/{one}/dial", "8001")
    assert status == 202 and body["call_id"].startswith("callback-"), body
    # nothing behind the AMI here: the agent's phone never rang, the item is back with its claimer
    for _ in range(100):
        if desk.agents.freed:  # the last thing the call does
            break
        await asyncio.sleep(0.05)
    assert desk.agents.freed == [("8001", False)]
    status, item = await desk.call("GET", f"/api/callbacks/{one}", "8001")
    assert (item["status"], item["attempt_list"][0]["dial_status"]) == ("claimed", "FAILED"), item

    await desk.call("POST", f"/api/callbacks/{odd}/claim", "8001")
    status, body = await desk.call("POST", f"/api/callbacks/{odd}/dial", "8001")
    assert (status, error(body)) == (403, "number_not_allowed")
    assert desk.agents.freed[-1] == ("8001", False), "taken from the ACD and given back: nothing rang"
    busy = await desk.item("13800138003")
    await desk.call("POST", f"/api/callbacks/{busy}/claim", "8002")
    status, body = await desk.call("POST", f"/api/callbacks/{busy}/dial", "8002")
    assert (status, error(body)) == (409, "agent_busy")
    async with desk.sessions() as s:
        refused = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "callbacks.dial",
                                                            AuditEntry.allowed.is_(False)))).all()
    assert {r.detail.get("refused") for r in refused} == {"number_not_allowed"}, "a toll-fraud refusal is audited"


async def test_the_voice_message_is_heard_by_the_claimer(desk: Desk, tmp_path: Path) -> None:
    calls = CallRecords(desk.sessions)
    await calls.start("vm-1", sip_call_id=None, caller="13800138005", dialled="12345",
                      started_at=datetime.now(UTC))
    wav = tmp_path / "vm-1-message.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 8000)
    await calls.add_recording("vm-1", str(tmp_path / "vm-1.wav"), "wav")  # the call's own recording
    await calls.add_recording("vm-1", str(wav), "wav")
    message = await desk.item("13800138005", "voice_message", call_id="vm-1")
    request = await desk.item("13800138006")
    [listed] = [i for i in (await desk.call("GET", "/api/callbacks", "8001"))[1]["callbacks"] if i["id"] == message]
    assert listed["has_message"] is True
    assert (await desk.call("GET", f"/api/callbacks/{message}/message", "8001"))[0] == 403, "claim it first"
    await desk.call("POST", f"/api/callbacks/{message}/claim", "8001")
    status, audio = await desk.call("GET", f"/api/callbacks/{message}/message", "8001")
    assert status == 200 and audio == wav.read_bytes()
    assert (await desk.call("GET", f"/api/callbacks/{message}/message", "8003"))[0] == 403
    assert (await desk.call("GET", f"/api/callbacks/{message}/message", "sup1"))[0] == 200
    assert (await desk.call("GET", f"/api/callbacks/{message}/message", "sup2"))[0] == 403
    assert (await desk.call("GET", f"/api/callbacks/{message}/message", "auditor"))[0] == 403
    status, body = await desk.call("GET", f"/api/callbacks/{request}/message", "admin")
    assert (status, error(body)) == (404, "no_message")
    async with desk.sessions() as s:
        heard = (await s.scalars(select(AuditEntry).where(AuditEntry.resource == f"callbacks/{message}",
                                                          AuditEntry.action == "callbacks.message"))).all()
    assert [(h.actor, h.allowed) for h in heard] == [("8001", False), ("8001", True), ("8003", False),
                                                     ("sup1", True), ("sup2", False), ("auditor", False)]
