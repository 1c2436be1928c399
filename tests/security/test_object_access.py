"""Threat: a principal the access table lets in acting on objects that are not theirs (elevation of privilege,
information disclosure): an agent linking another agent's call to their ticket or reading the history of a
caller they never took, a team supervisor seeing, listening to or steering another team's agents, calls,
tickets and recordings, listening in from a phone that is not a supervisor's, an auditor lifting a legal hold.
Each refusal is a 403, audited, and says the same for an object that does not exist. Rows seeded on a real
SQLite database (tests/security/whole_app.py); the ACD is scripted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditFilter, AuditLog
from hotline.core.web.tokens import ApiTokens
from tests.acd.test_http import ScriptedAcd
from tests.security.whole_app import whole_app


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    bearer: dict[str, str]
    acd: ScriptedAcd
    audit: AuditLog
    calls: CallRecords

    async def call(self, method: str, path: str, who: str, body: Any = None) -> tuple[int, Any]:
        async with self.client.request(method, path, headers={"Authorization": self.bearer[who]}, json=body) as r:
            return r.status, (await r.json() if r.content_type == "application/json" else await r.read())

    async def status(self, method: str, path: str, who: str, body: Any = None) -> int:
        return (await self.call(method, path, who, body))[0]

    async def took(self, call_id: str, caller: str, agent: str, *, ended: bool = True) -> None:
        """A call `agent` answered (and, unless not `ended`, finished)."""
        now = datetime.now(UTC)
        await self.calls.start(call_id, sip_call_id=None, caller=caller, dialled="12345", started_at=now)
        await self.calls.assign_agent(call_id, agent, now)
        if ended:
            await self.calls.end(call_id, "answered", now)

    async def refusals(self, action: str) -> list[dict[str, Any]]:
        return await self.audit.search(AuditFilter(action=action, allowed=False), 100)


@pytest.fixture
async def api(sqlite_sessions: SessionFactory, tmp_path: Path) -> AsyncIterator[Api]:
    audit = AuditLog(sqlite_sessions)
    app, acd, bearer = await whole_app(sqlite_sessions, ApiTokens(sqlite_sessions), audit, tmp_path)
    async with TestClient(TestServer(app)) as client:
        yield Api(client, bearer, acd, audit, CallRecords(sqlite_sessions))


async def test_an_agent_links_to_their_ticket_only_calls_they_took(api: Api) -> None:
    await api.took("c2", "13800000002", "8001")
    refused = [await api.call("POST", "/api/tickets/1/calls", "agent-8001", {"call_id": c}) for c in ("c3", "c404")]
    assert [s for s, _ in refused] == [403, 403] and {b["error"]["id"] for _, b in refused} == {"forbidden"}, \
        "another agent's call and no call at all: the same answer"
    assert await api.status("POST", "/api/tickets/3/calls", "agent-8001", {"call_id": "c2"}) == 403, "not their ticket"
    assert await api.call("GET", "/api/calls/c3", "agent-8001") == await api.call("GET", "/api/calls/c404",
                                                                                 "agent-8001"), "no probing"
    assert await api.status("GET", "/api/calls/c404", "admin") == 404
    status, ticket = await api.call("POST", "/api/tickets/1/calls", "agent-8001", {"call_id": "c2"})
    assert status == 200 and ticket["calls"] == ["c1", "c2"]
    ticket_body = {"channel": "电话", "calls": ["c3"]}
    assert await api.status("POST", "/api/tickets", "agent-8001", ticket_body) == 403
    assert await api.status("PATCH", "/api/tickets/1", "agent-8001", ticket_body) == 403
    assert await api.status("POST", "/api/tickets/1/calls", "supervisor-一组", {"call_id": "c3"}) == 403
    assert await api.status("POST", "/api/tickets/3/calls", "supervisor-centre", {"call_id": "c2"}) == 200
    refusals = await api.refusals("tickets.link_call")
    assert [(r["actor"], r["resource"], r["detail"].get("call_id")) for r in reversed(refusals)] == [
        ("agent-8001", "tickets/1", "c3"), ("agent-8001", "tickets/1", "c404"), ("agent-8001", "tickets/3", None),
        ("supervisor-一组", "tickets/1", "c3")]


async def test_an_agent_reads_the_history_only_of_callers_they_take_or_took(api: Api) -> None:
    never = await api.call("GET", "/api/callers/13800000003/history", "agent-8001")
    unknown = await api.call("GET", "/api/callers/13900000404/history", "agent-8001")
    assert never[0] == unknown[0] == 403 and never[1]["error"]["id"] == unknown[1]["error"]["id"], \
        "a caller of another agent and a number never heard of: the same answer"
    status, history = await api.call("GET", "/api/callers/13800000001/history", "agent-8001")
    assert status == 200 and [c["call_id"] for c in history["calls"]] == ["c1"]
    assert [t["number"] for t in history["tickets"]] == ["T1"]
    await api.took("c5", "13700000005", "8001", ended=False)  # on the line now
    assert await api.status("GET", "/api/callers/13700000005/history", "agent-8001") == 200
    assert await api.status("GET", "/api/callers/13800000003/history", "supervisor-一组") == 403
    assert await api.status("GET", "/api/callers/13800000001/history", "supervisor-一组") == 200
    assert await api.status("GET", "/api/callers/13800000003/history", "supervisor-centre") == 200
    assert [r["resource"] for r in reversed(await api.refusals("callers.history"))] == [
        "callers/13800000003", "callers/13900000404", "callers/13800000003"]


OTHER_TEAM = (  # 二组's agent 8003, their call c3, ticket 3, recording 3
    ("GET", "/api/calls/c3", None), ("POST", "/api/agents/8003/spy", {"phone": "9001"}),
    ("POST", "/api/agents/8003/state", {"state": "paused"}), ("POST", "/api/agents/8003/wrap-up", {"extend_s": 30}),
    ("POST", "/api/calls/c3/transfer", {"skill": "general"}), ("POST", "/api/calls/c3/three-way", {"agent": "8002"}),
    ("POST", "/api/calls/c3/consult", {"agent": "8002"}), ("POST", "/api/calls/c3/leave", None),
    ("POST", "/api/calls/c3/silent", None), ("POST", "/api/calls/c3/consult/complete", None),
    ("GET", "/api/tickets/3", None), ("GET", "/api/tickets/3/timeline", None),
    ("PATCH", "/api/tickets/3", {"title": "x"}), ("POST", "/api/tickets/3/submit", None),
    ("POST", "/api/tickets/3/duty-call", {"phone": "9001"}),
    ("PUT", "/api/tickets/3/legal-hold", {"hold": True, "reason": "证据"}),
    ("GET", "/api/recordings/3/audio", None), ("GET", "/api/recordings/3/waveform", None),
)


async def test_a_team_supervisor_stays_within_their_team(api: Api) -> None:
    for method, path, body in OTHER_TEAM:
        assert await api.status(method, path, "supervisor-一组", body) == 403, path
    assert api.acd.done == [] and api.acd.states["8003"] == "wrap_up", "nothing reached the ACD"
    listed = {
        "calls": [c["call_id"] for c in (await api.call("GET", "/api/calls", "supervisor-一组"))[1]["calls"]],
        "agents": [a["agent"] for a in (await api.call("GET", "/api/agents", "supervisor-一组"))[1]["agents"]],
        "recordings": [r["id"] for r in (await api.call("GET", "/api/recordings", "supervisor-一组"))[1]["recordings"]],
    }
    assert listed == {"calls": ["c1"], "agents": ["8001", "8002"], "recordings": [1]}
    for method, path, body in OTHER_TEAM:  # the same for their own team, and a whole-centre supervisor
        own = path.replace("c3", "c1").replace("8003", "8001").replace("/3", "/1")
        assert await api.status(method, own, "supervisor-一组", body) != 403, own
        assert await api.status(method, path, "supervisor-centre", body) != 403, path
    refused = await api.audit.search(AuditFilter(actor="supervisor-一组", allowed=False), 100)
    assert len(refused) == len(OTHER_TEAM)


async def test_listening_in_rings_only_a_supervisors_phone(api: Api) -> None:
    for phone in ("8002", "12345", "110"):  # an agent's phone, any number, a linkage line
        status, body = await api.call("POST", "/api/agents/8001/spy", "supervisor-centre",
                                      {"mode": "barge", "phone": phone})
        assert status == 422 and body["error"]["id"] == "not_a_supervisor_phone" and \
            body["error"]["fields"][0]["field"] == "phone", phone
    assert api.acd.done == []
    assert await api.status("POST", "/api/agents/8001/spy", "supervisor-centre", {"mode": "barge", "phone": "9001"}) \
        == 202
    assert api.acd.done == [("spy", "8001", "9001", "barge")]
    assert await api.status("POST", "/api/agents/8001/spy", "supervisor-9002", {"phone": "9001"}) == 403, \
        "a token made for phone 9002 rings no other supervisor's phone"
    assert await api.status("POST", "/api/agents/8001/spy", "supervisor-9002", {"phone": "9002"}) == 202
    spied = await api.audit.search(AuditFilter(action="agents.spy.barge"), 10)
    assert [r["detail"]["phone"] for r in reversed(spied)] == ["8002", "12345", "110", "9001"]
    assert [(r["detail"]["phone"], r["allowed"]) for r in reversed(
        await api.audit.search(AuditFilter(actor="supervisor-9002"), 10))] == [("9001", False), ("9002", True)]


async def test_an_auditor_places_a_legal_hold_but_does_not_release_it(api: Api) -> None:
    hold = {"hold": True, "reason": "行政复议证据"}
    status, held = await api.call("PUT", "/api/tickets/3/legal-hold", "auditor", hold)
    assert status == 200 and held["legal_hold"] is True
    status, refused = await api.call("PUT", "/api/tickets/3/legal-hold", "auditor", {"hold": False})
    assert status == 403 and "release" in refused["error"]["message"]
    timeline = (await api.call("GET", "/api/tickets/3/timeline", "admin"))[1]["timeline"]
    assert [e["kind"] for e in timeline if e["kind"].startswith("legal_hold")] == ["legal_hold"], "still held"
    assert await api.status("PUT", "/api/tickets/3/legal-hold", "supervisor-一组", {"hold": False}) == 403
    status, released = await api.call("PUT", "/api/tickets/3/legal-hold", "admin", {"hold": False})
    assert status == 200 and released["legal_hold"] is False
    rows = await api.audit.search(AuditFilter(resource="tickets/3"), 10)
    assert [(r["actor"], r["action"], r["allowed"]) for r in reversed(rows)] == [
        ("auditor", "tickets.legal_hold", True), ("auditor", "tickets.legal_hold_release", False),
        ("admin", "tickets.timeline", True), ("supervisor-一组", "tickets.legal_hold_release", False),
        ("admin", "tickets.legal_hold_release", True)]
