"""The ACD's routes on a real SQLite audit log, with the router replaced by a scripted one: who may act on
which agent and call, the bodies refused and why, the ACD's refusals as errors, one audit row per request."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from acd import http as acd_http
from acd.connection import ConnectionRate
from acd.emergency import EmergencyFlags
from acd.router import NotWithAgent
from acd.store import today
from acd.threeway import ThreeWayRefused
from hotline.app.plugins import upgrade_database as upgrade
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory, create_engine, session_factory
from hotline.core.web.audit import AuditLog
from hotline.core.web.tokens import ApiTokens
from tests.webapp import web_app

TEAMS = {"8001": "一组", "8002": "一组", "8003": "二组"}


class MemoryKeys:
    """The Redis commands emergency flags and phone tickets use, in memory (expiry is not modelled)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def set(self, key: str, value: str, ex: int | None = None) -> bool:
        self.values[key] = value
        return True

    async def exists(self, key: str) -> int:
        return int(key in self.values)

    async def getdel(self, key: str) -> str | None:
        return self.values.pop(key, None)


def emergency_flags(sessions: SessionFactory) -> EmergencyFlags:
    """Emergency flags over `MemoryKeys`, for route tests without a redis-server (tests/acd/test_emergency.py
    has the real one)."""
    return EmergencyFlags(MemoryKeys(), CallRecords(sessions), 24)  # type: ignore[arg-type]


@dataclass
class ScriptedAcd:
    """Agents 8001-8003; call c1 is with 8001, c3 with 8003; `refuse` makes the next ACD action fail."""

    states: dict[str, str] = field(default_factory=lambda: {"8001": "on_call", "8002": "ready", "8003": "wrap_up"})
    calls: dict[str, str] = field(default_factory=lambda: {"c1": "8001", "c3": "8003"})
    done: list[tuple[str, ...]] = field(default_factory=list)
    refuse: Exception | None = None
    feed: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    def _act(self, *what: str) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.done.append(what)

    async def agents(self) -> dict[str, dict[str, str]]:
        return {a: {"state": s, "reason": ""} for a, s in self.states.items()}

    async def waiting(self) -> list[dict[str, str]]:
        return [{"call_id": "c9", "skill": "general", "state": "waiting"}]

    async def set_agent_state(self, agent: str, state: str, reason: str = "") -> bool:
        if agent not in self.states:
            return False
        self.states[agent] = state
        return True

    async def call_agent(self, call_id: str) -> str | None:
        return self.calls.get(call_id)

    async def hand_to_silent_check(self, call_id: str) -> bool:
        self._act("silent", call_id)
        return True

    @contextlib.asynccontextmanager
    async def events(self) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        async def follow() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await self.feed.get()

        yield follow()

    async def stats(self, day: str) -> dict[str, dict[str, float]]:
        return {"general": {"offered": 2, "answered": 1, "day": float(day.replace("-", ""))}}

    async def reports(self, day: str) -> dict[str, Any]:
        return {}

    async def connection_rate(self) -> ConnectionRate:
        return ConnectionRate(datetime(2026, 11, 21, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC), 20, 19)

    async def spy(self, agent: str, phone: str, mode: str) -> None:
        self._act("spy", agent, phone, mode)

    async def transfer_to_skill(self, call_id: str, skill: str) -> None:
        self._act("skill", call_id, skill)

    async def transfer_to_linkage(self, call_id: str, number: str) -> None:
        self._act("linkage", call_id, number)

    async def three_way(self, call_id: str, *, agent: str | None = None,
                        number: str | None = None) -> dict[str, str]:
        self._act("three_way", call_id, agent or str(number))
        return {"call_id": call_id, "third": agent or str(number), "status": "ringing"}

    async def agent_leaves(self, call_id: str) -> str:
        self._act("leave", call_id)
        if call_id not in self.calls:
            raise NotWithAgent(f"call {call_id} is not with an agent")
        return self.calls[call_id]

    async def consult(self, call_id: str, *, agent: str | None = None,
                      number: str | None = None) -> dict[str, str]:
        self._act("consult", call_id, agent or str(number))
        return {"call_id": call_id, "consult": agent or str(number), "status": "ringing"}

    async def consult_complete(self, call_id: str) -> dict[str, str]:
        self._act("complete", call_id)
        return {"call_id": call_id, "transferred_to": "8002"}

    async def consult_cancel(self, call_id: str) -> dict[str, str]:
        self._act("cancel", call_id)
        return {"call_id": call_id, "back_with": "agent"}

    async def extend_wrap_up(self, agent: str, seconds: float) -> float | None:
        return seconds + 0.04 if self.states.get(agent) == "wrap_up" else None


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    acd: ScriptedAcd
    tokens: ApiTokens
    audit: AuditLog

    async def token(self, role: str, agent: str | None = None, group: str | None = None) -> dict[str, str]:
        token = await self.tokens.create(name=f"{role}-{agent or group or 'x'}", role=role, agent_id=agent,
                                         group=group)
        return {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, headers: dict[str, str], body: object = None) -> tuple[int, Any]:
        r = await self.client.post(path, headers=headers, json=body)
        return r.status, await r.json()

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, Any]:
        r = await self.client.get(path, headers=headers)
        return r.status, await r.json()


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    tokens, audit, acd = ApiTokens(sessions), AuditLog(sessions), ScriptedAcd()
    routes = acd_http.routes(acd, frozenset({"9001"}), emergency_flags(sessions))
    app = web_app(sessions, tokens, routes, teams=TEAMS, audit=audit)
    async with TestClient(TestServer(app)) as client:
        yield Api(client, acd, tokens, audit)
    await engine.dispose()


def error_id(body: dict[str, Any]) -> str:
    return str(body["error"]["id"])


async def test_agents_see_themselves_supervisors_their_team_auditors_everyone(api: Api) -> None:
    async def listed(headers: dict[str, str]) -> list[str]:
        status, body = await api.get("/api/agents", headers)
        assert status == 200
        return [a["agent"] for a in body["agents"]]

    assert await listed(await api.token("agent", "8002")) == ["8002"]
    assert await listed(await api.token("supervisor", group="二组")) == ["8003"]
    assert await listed(await api.token("supervisor")) == ["8001", "8002", "8003"]
    assert await listed(await api.token("auditor")) == ["8001", "8002", "8003"]
    assert (await api.get("/api/agents", await api.token("engineer")))[0] == 403


async def test_an_agents_state_is_theirs_or_their_supervisors_to_change(api: Api) -> None:
    mine = await api.token("agent", "8002")
    assert await api.post("/api/agents/8002/state", mine, {"state": "paused", "reason": "午饭"}) == (
        200, {"agent": "8002", "state": "paused"})
    assert api.acd.states["8002"] == "paused"
    assert (await api.post("/api/agents/8001/state", mine, {"state": "ready"}))[0] == 403
    other_team = await api.token("supervisor", group="二组")
    assert (await api.post("/api/agents/8002/state", other_team, {"state": "ready"}))[0] == 403
    assert (await api.post("/api/agents/8002/state", await api.token("auditor"), {"state": "ready"}))[0] == 403
    team = await api.token("supervisor", group="一组")
    assert (await api.post("/api/agents/8002/state", team, {"state": "ready"}))[0] == 200
    admin = await api.token("admin")
    status, body = await api.post("/api/agents/7777/state", admin, {"state": "ready"})
    assert status == 404 and error_id(body) == "agent_not_found"
    for bad in ({"state": "dancing"}, {"state": "ready", "mood": "good"}, {"reason": "no state"}):
        status, body = await api.post("/api/agents/8002/state", team, bad)
        assert status == 400 and error_id(body) == "bad_state", bad
    status, body = await api.post("/api/agents/8002/state", team, ["ready"])
    assert status == 400 and error_id(body) == "bad_json"


async def test_an_agent_on_a_call_is_not_made_ready_by_a_request(api: Api) -> None:
    """As with the phone's feature codes, the call decides when its agent is free (issue 15)."""
    status, body = await api.post("/api/agents/8001/state", await api.token("admin"), {"state": "ready"})
    assert status == 409 and error_id(body) == "agent_busy" and "on_call" in body["error"]["message"]
    assert api.acd.states["8001"] == "on_call"
    assert (await api.post("/api/agents/8003/state", await api.token("admin"), {"state": "ready"}))[0] == 200, \
        "wrap-up may be cut short"


async def test_wrap_up_is_extended_by_one_to_six_hundred_seconds(api: Api) -> None:
    mine = await api.token("agent", "8003")
    for bad in (0, 601, True, "30", None):
        status, body = await api.post("/api/agents/8003/wrap-up", mine, {"extend_s": bad})
        assert status == 400 and error_id(body) == "bad_json" and body["error"]["fields"], bad
    assert await api.post("/api/agents/8003/wrap-up", mine, {"extend_s": 30}) == (
        200, {"agent": "8003", "state": "wrap_up", "left_s": 30.0})
    status, body = await api.post("/api/agents/8002/wrap-up", await api.token("agent", "8002"), {"extend_s": 30})
    assert status == 409 and error_id(body) == "not_in_wrap_up"
    assert (await api.post("/api/agents/8003/wrap-up", await api.token("agent", "8001"), {"extend_s": 30}))[0] == 403


async def test_supervisors_listen_in_on_their_teams_agents(api: Api) -> None:
    sup = await api.token("supervisor", group="一组")
    assert (await api.post("/api/agents/8001/spy", await api.token("agent", "8001"), {"phone": "9001"}))[0] == 403
    assert (await api.post("/api/agents/8003/spy", sup, {"phone": "9001"}))[0] == 403
    for bad in ({"mode": "shout", "phone": "9001"}, {"mode": "listen"}, {"phone": "9a"}):
        status, body = await api.post("/api/agents/8001/spy", sup, bad)
        assert status == 400 and error_id(body) == "bad_json", bad
    assert await api.post("/api/agents/8001/spy", sup, {"mode": "whisper", "phone": "9001"}) == (
        202, {"agent": "8001", "phone": "9001", "mode": "whisper", "ringing": True})
    assert api.acd.done == [("spy", "8001", "9001", "whisper")]
    api.acd.refuse = NotWithAgent("agent 8001 is not on a call")
    status, body = await api.post("/api/agents/8001/spy", sup, {"phone": "9001"})
    assert status == 409 and error_id(body) == "cannot_spy" and body["error"]["message"] == str(api.acd.refuse)
    api.acd.refuse = ValueError("supervisor phone 9001 could not be called")
    status, body = await api.post("/api/agents/8001/spy", sup, {"phone": "9001"})
    assert status == 400 and error_id(body) == "cannot_spy"
    actions = [(e["action"], e["allowed"]) for e in reversed(await api.audit.recent())
               if not e["action"].startswith("tokens.")]
    assert actions == [("agents.spy", False), ("agents.spy", False), ("agents.spy", True), ("agents.spy", True),
                       ("agents.spy", True), ("agents.spy.whisper", True), ("agents.spy.listen", True),
                       ("agents.spy.listen", True)]


async def test_the_calls_agent_or_a_supervisor_transfers_it(api: Api) -> None:
    mine, other = await api.token("agent", "8001"), await api.token("agent", "8002")
    path = "/api/calls/c1/transfer"
    assert (await api.post(path, other, {"skill": "tax"}))[0] == 403
    assert (await api.post(path, await api.token("supervisor", group="二组"), {"skill": "tax"}))[0] == 403
    for bad in ({}, {"skill": "tax", "linkage": "110"}, {"linkage": "999"}, {"skill": " "}, None):
        status, body = await api.post(path, mine, bad)
        assert status == 400 and error_id(body) == "bad_json", bad
    assert await api.post(path, mine, {"skill": "tax"}) == (
        200, {"call_id": "c1", "skill": "tax", "linkage": None, "transferred": True})
    assert (await api.post(path, await api.token("supervisor", group="一组"), {"linkage": "110"}))[0] == 200
    assert api.acd.done == [("skill", "c1", "tax"), ("linkage", "c1", "110")]
    api.acd.refuse = ValueError("no skill nope")
    status, body = await api.post(path, mine, {"skill": "nope"})
    assert status == 400 and error_id(body) == "cannot_transfer"
    api.acd.refuse = NotWithAgent("call c1 is not with an agent now")
    status, body = await api.post(path, mine, {"skill": "tax"})
    assert status == 409 and error_id(body) == "cannot_transfer"
    (last, *_) = await api.audit.recent()
    assert (last["action"], last["resource"], last["allowed"]) == ("calls.transfer", "calls/c1", True)
    assert last["detail"] == {"agent": "8001", "skill": "tax", "linkage": None, "refused": "cannot_transfer"}


async def test_a_call_without_an_agent_is_not_an_agents_to_act_on(api: Api) -> None:
    status, body = await api.post("/api/calls/nope/silent", await api.token("agent", "8001"))
    assert status == 403 and error_id(body) == "forbidden"
    status, body = await api.post("/api/calls/nope/silent", await api.token("supervisor"))
    assert status == 409 and error_id(body) == "not_connected"
    assert await api.post("/api/calls/c1/silent", await api.token("agent", "8001")) == (
        200, {"call_id": "c1", "handed_over": True})


@pytest.mark.parametrize(("path", "what", "key"), [("three-way", "three_way", "third"),
                                                   ("consult", "consult", "consult")])
async def test_a_second_party_is_a_seat_or_an_outside_number(api: Api, path: str, what: str, key: str) -> None:
    mine = await api.token("agent", "8001")
    url = f"/api/calls/c1/{path}"
    for bad in ({}, {"agent": "8003", "number": "12366"}, {"number": "12"}, {"number": "123x5"}):
        status, body = await api.post(url, mine, bad)
        assert status == 400 and error_id(body) == "bad_json", bad
    assert await api.post(url, mine, {"agent": "8003"}) == (202, {"call_id": "c1", key: "8003", "status": "ringing"})
    assert (await api.post(url, mine, {"number": "02512366001"}))[0] == 202
    assert api.acd.done == [(what, "c1", "8003"), (what, "c1", "02512366001")]
    assert (await api.post(url, await api.token("agent", "8003"), {"agent": "8002"}))[0] == 403
    api.acd.refuse = ThreeWayRefused("agent 8003 is not ready")
    status, body = await api.post(url, mine, {"agent": "8003"})
    assert status == 409 and error_id(body) == f"cannot_{what}"
    api.acd.refuse = ValueError("the call's own agent is already on it")
    status, body = await api.post(url, mine, {"agent": "8001"})
    assert status == 400 and error_id(body) == f"cannot_{what}"


async def test_a_consultation_ends_completed_or_cancelled_and_the_agent_leaves_a_three_way_call(api: Api) -> None:
    mine = await api.token("agent", "8001")
    assert await api.post("/api/calls/c1/consult/complete", mine) == (
        200, {"call_id": "c1", "transferred_to": "8002"})
    assert await api.post("/api/calls/c1/consult/cancel", mine) == (200, {"call_id": "c1", "back_with": "agent"})
    assert await api.post("/api/calls/c1/leave", mine) == (200, {"call_id": "c1", "agent_left": "8001"})
    assert (await api.post("/api/calls/c1/consult/complete", await api.token("agent", "8002")))[0] == 403
    api.acd.refuse = ThreeWayRefused("call c1 has no consultation going on")
    for how in ("complete", "cancel"):
        status, body = await api.post(f"/api/calls/c1/consult/{how}", mine)
        assert status == 409 and error_id(body) == f"cannot_{how}"
    status, body = await api.post("/api/calls/c1/leave", mine)
    assert status == 409 and error_id(body) == "cannot_leave"
    assert (await api.post("/api/calls/c1/consult/other", mine))[0] == 404
    actions = [(e["action"], e["allowed"]) for e in reversed(await api.audit.recent())
               if not e["action"].startswith("tokens.")]
    assert actions == [("calls.consult_complete", True), ("calls.consult_cancel", True), ("calls.leave", True),
                       ("calls.consult_complete", False), ("calls.consult_complete", True),
                       ("calls.consult_cancel", True), ("calls.leave", True)]


async def test_the_queue_and_statistics_are_for_supervisors_and_auditors(api: Api) -> None:
    auditor = await api.token("auditor")
    status, body = await api.get("/api/acd/queue", auditor)
    assert status == 200 and [c["call_id"] for c in body["waiting"]] == ["c9"]
    assert (await api.get("/api/acd/queue", await api.token("agent", "8001")))[0] == 403
    status, body = await api.get("/api/acd/stats?day=2026-11-22", auditor)
    assert status == 200 and body["day"] == "2026-11-22" and body["skills"]["general"]["day"] == 20261122
    assert body["connection_24h"]["rate"] == 0.95 and body["connection_24h"]["asked"] == 20
    assert (await api.get("/api/acd/stats", auditor))[1]["day"] == today()
    status, body = await api.get("/api/acd/stats?day=22.11.2026", auditor)
    assert status == 400 and error_id(body) == "bad_param" and body["error"]["fields"][0]["field"] == "day"
    assert (await api.get("/api/acd/stats", await api.token("agent", "8001")))[0] == 403


async def test_the_live_feed_shows_an_agent_their_own_and_a_supervisor_their_team(api: Api) -> None:
    async def watch(headers: dict[str, str]) -> list[dict[str, Any]]:
        async with api.client.ws_connect("/api/acd/events", headers=headers) as ws:
            await asyncio.sleep(0.1)  # subscribed
            for event in ({"event": "queued", "call": "c9"}, {"event": "offered", "call": "c9", "agent": "8003"},
                          {"event": "agent", "agent": "8001", "state": "ready"}, {"event": "urgent_ticket"}):
                api.acd.feed.put_nowait(event)
            seen: list[dict[str, Any]] = []
            with contextlib.suppress(TimeoutError):
                while True:
                    seen.append(await ws.receive_json(timeout=0.5))
            return seen

    assert [e["event"] for e in await watch(await api.token("agent", "8001"))] == ["agent"]
    assert [e["event"] for e in await watch(await api.token("supervisor", group="二组"))] == [
        "queued", "offered", "urgent_ticket"]
    assert len(await watch(await api.token("supervisor"))) == 4
    refused = await api.client.get("/api/acd/events", headers=await api.token("engineer"))
    assert refused.status == 403
    rows = [(e["role"], e["action"], e["allowed"]) for e in await api.audit.recent()  # written as each opened
            if not e["action"].startswith("tokens.")]
    assert sorted(rows, key=str) == sorted([("agent", "acd.events", True), ("supervisor", "acd.events", True),
                                            ("supervisor", "acd.events", True), ("engineer", "acd.events", False)],
                                           key=str)


async def test_the_openapi_document_describes_the_acd_routes(api: Api) -> None:
    doc = await (await api.client.get("/api/openapi.json")).json()
    spy = doc["paths"]["/api/agents/{agent}/spy"]["post"]
    assert spy["x-access-action"] == "agents.spy" and "202" in spy["responses"]
    assert doc["components"]["schemas"]["SpyRequest"]["properties"]["mode"]["enum"] == ["listen", "whisper", "barge"]
    assert set(doc["components"]["schemas"]["TransferRequest"]["properties"]["linkage"]["anyOf"][0]["enum"]) == {
        "110", "119", "120", "122"}
    for how in ("complete", "cancel"):
        assert doc["paths"][f"/api/calls/{{call_id}}/consult/{how}"]["post"]["x-access-action"] == "calls.consult_end"
    stats = doc["paths"]["/api/acd/stats"]["get"]
    assert [p["name"] for p in stats["parameters"]] == ["day"] and "400" in stats["responses"]
