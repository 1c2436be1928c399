"""The HTTP API on a real SQLite database: roles, an agent's own calls, the audit log, health, OpenAPI."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update

from hotline.calls.models import CallRecord
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.health import HealthRegistry, PartHealth
from hotline.core.web.pages import Pages
from hotline.core.web.pages import routes as page_routes
from hotline.core.web.tokens import ApiTokens
from tests.webapp import web_app


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    app: web.Application
    calls: CallRecords
    tokens: ApiTokens
    audit: AuditLog
    health: HealthRegistry

    async def token(self, role: str, agent: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.tokens.create(name=f'{role}-x', role=role, agent_id=agent)}"}


@pytest.fixture
async def api(sqlite_sessions: SessionFactory) -> AsyncIterator[Api]:
    sessions = sqlite_sessions
    calls, tokens, audit = CallRecords(sessions), ApiTokens(sessions), AuditLog(sessions)
    health = HealthRegistry(timeout=0.3)
    base = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    for i, (caller, agent) in enumerate([("13800000001", "8001"), ("13800000002", "8002"), ("13800000001", None)]):
        await calls.start(f"c{i}", sip_call_id=f"s{i}", caller=caller, dialled="12345",
                          started_at=base + timedelta(minutes=i))
        async with sessions.begin() as s:
            await s.execute(update(CallRecord).where(CallRecord.call_id == f"c{i}").values(agent=agent))
    app = web_app(sessions, tokens, health=health, audit=audit)
    async with TestClient(TestServer(app)) as client:
        yield Api(client, app, calls, tokens, audit, health)


async def test_tokens_are_required_and_checked(api: Api) -> None:
    assert (await api.client.get("/api/calls")).status == 401
    bad = await api.client.get("/api/calls", headers={"Authorization": "Bearer nope"})
    assert bad.status == 401 and (await bad.json())["error"]["id"] == "auth_invalid"
    headers = await api.token("supervisor")
    (row,) = [t for t in await api.tokens.list() if t["role"] == "supervisor"]
    assert (await api.client.get("/api/calls", headers=headers)).status == 200
    await api.tokens.revoke(int(str(row["id"])))
    assert (await api.client.get("/api/calls", headers=headers)).status == 401
    engineer = await api.client.get("/api/calls", headers=await api.token("engineer"))
    assert engineer.status == 403


async def test_supervisors_list_newest_first_with_validated_filters(api: Api) -> None:
    headers = await api.token("supervisor")
    body = await (await api.client.get("/api/calls", headers=headers)).json()
    assert [c["call_id"] for c in body["calls"]] == ["c2", "c1", "c0"]
    body = await (await api.client.get("/api/calls?caller=13800000001&limit=1", headers=headers)).json()
    assert [c["call_id"] for c in body["calls"]] == ["c2"]
    for bad in ("0", "501", "x"):
        r = await api.client.get(f"/api/calls?limit={bad}", headers=headers)
        assert r.status == 400 and (await r.json())["error"]["id"] == "bad_param"
    missing = await api.client.get("/api/calls/nope", headers=headers)
    assert missing.status == 404 and (await missing.json())["error"]["id"] == "call_not_found"
    unknown = await api.client.get("/api/nothing", headers=headers)
    assert unknown.status == 404 and (await unknown.json())["error"]["id"] == "not_found"


async def test_an_agent_sees_only_their_own_calls(api: Api) -> None:
    headers = await api.token("agent", agent="8001")
    body = await (await api.client.get("/api/calls", headers=headers)).json()
    assert [c["call_id"] for c in body["calls"]] == ["c0"]
    assert (await api.client.get("/api/calls/c0", headers=headers)).status == 200
    assert (await api.client.get("/api/calls/c1", headers=headers)).status == 403


async def test_a_team_supervisor_pages_through_their_teams_calls_only(api: Api) -> None:
    """The team is filtered by the database, before the limit: a page is full of the team's calls."""
    app = web_app(api.calls.sessions, api.tokens, teams={"8001": "一组", "8002": "二组"})
    async with TestClient(TestServer(app)) as client:
        token = await api.tokens.create(name="sup-1", role="supervisor", group="一组")
        headers = {"Authorization": f"Bearer {token}"}
        body = await (await client.get("/api/calls?limit=1", headers=headers)).json()
        assert [c["call_id"] for c in body["calls"]] == ["c0"], "c2 (no agent) and c1 (二组) are newer"
        assert (await client.get("/api/calls/c1", headers=headers)).status == 403
        everyone = {"Authorization": f"Bearer {await api.tokens.create(name='sup-all', role='supervisor')}"}
        body = await (await client.get("/api/calls", headers=everyone)).json()
        assert [c["call_id"] for c in body["calls"]] == ["c2", "c1", "c0"]


async def test_every_access_is_audited_allowed_or_not(api: Api) -> None:
    await api.client.get("/api/calls/c1", headers=await api.token("agent", agent="8001"))
    await api.client.get("/api/calls?caller=13800000001", headers=await api.token("auditor"))
    entries = [e for e in await api.audit.recent() if not e["action"].startswith("tokens.")]
    assert [(e["action"], e["allowed"], e["role"]) for e in entries] == [
        ("calls.list", True, "auditor"), ("calls.get", False, "agent")]
    assert entries[1]["resource"] == "calls/c1" and entries[1]["remote"] == "127.0.0.1"
    assert entries[0]["resource"] == "calls?caller=13800000001"


async def test_health_is_degraded_by_a_failing_or_hung_part(api: Api) -> None:
    async def ok() -> PartHealth:
        return PartHealth(True, "fine")

    async def hung() -> PartHealth:
        await asyncio.sleep(10)
        return PartHealth(True, "never")

    api.health.register("db", ok)
    assert (await api.client.get("/api/health")).status == 200
    api.health.register("redis", hung)
    r = await api.client.get("/api/health")
    body = await r.json()
    assert r.status == 503 and body["status"] == "degraded"
    assert body["parts"]["db"]["ok"] and not body["parts"]["redis"]["ok"]
    assert "no answer" in body["parts"]["redis"]["detail"]


async def test_metrics_and_openapi_are_public_and_complete(api: Api) -> None:
    await api.client.get("/api/health")
    metrics = await (await api.client.get("/metrics")).text()
    assert 'hotline_http_requests_total{method="GET",route="/api/health",status="200"}' in metrics
    doc = await (await api.client.get("/api/openapi.json")).json()
    pages = {re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path) for path, _ in page_routes(Pages())}  # files, not the API
    routes = {r.canonical for r in api.app.router.resources()} - pages
    assert routes <= set(doc["paths"]), routes - set(doc["paths"])
