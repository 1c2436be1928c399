"""The directory's routes on a real SQLite database: who reaches which agent, clear refusals, the phone's
password shown once and never listed or audited."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from acd.directory import http as directory_http
from acd.directory.follow import TeamsFollow
from acd.directory.secrets import PhoneSecrets
from acd.directory.service import AgentDirectory, Rules
from hotline.app.web import WebParts, build_app
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.health import HealthRegistry
from hotline.core.web.models import AuditEntry
from hotline.core.web.policy import Teams
from hotline.core.web.tokens import ApiTokens
from tests.acd.test_directory import PLAN

NEW = {"id": "8100", "name": "陈晨", "seat": "general", "team": "一组", "skills": {"general": 3}}


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    tokens: ApiTokens
    sessions: SessionFactory

    async def as_(self, role: str, agent: str | None = None, group: str | None = None) -> dict[str, str]:
        token = await self.tokens.create(name=f"{role}-{agent or group or 'all'}", role=role, agent_id=agent,
                                         group=group)
        return {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, who: dict[str, str], body: Any = None) -> tuple[int, Any]:
        r = await self.client.request(method, path, headers=who, json=body)
        return r.status, await r.json()


@pytest.fixture
async def api(sqlite_sessions: SessionFactory, tmp_path: Path) -> AsyncIterator[Api]:
    directory = AgentDirectory(sqlite_sessions, Rules.of(PLAN), PhoneSecrets(tmp_path / "secrets.json", {}))
    members: dict[str, str] = {}
    directory.listeners.append(TeamsFollow(members))
    members.update({a.id: a.team for a in await directory.seed(PLAN.agents) if a.team})
    tokens = ApiTokens(sqlite_sessions)
    app = build_app(WebParts([directory_http.routes(directory)], tokens, AuditLog(sqlite_sessions), HealthRegistry(),
                             CollectorRegistry(), Teams(members)))
    async with TestClient(TestServer(app)) as client:
        yield Api(client, tokens, sqlite_sessions)


def ids(body: dict[str, Any]) -> list[str]:
    return [a["id"] for a in body["agents"]]


async def test_agents_read_themselves_supervisors_their_team_engineers_and_auditors_all(api: Api) -> None:
    agent = await api.as_("agent", "8002")
    assert ids((await api.call("GET", "/api/directory/agents", agent))[1]) == ["8002"]
    assert (await api.call("GET", "/api/directory/agents/8001", agent))[0] == 403
    assert (await api.call("GET", "/api/directory/agents/8002", agent))[1]["skills"] == {"general": 3, "revisit": 3}
    team = await api.as_("supervisor", group="二组")
    assert ids((await api.call("GET", "/api/directory/agents", team))[1]) == ["8003", "8004"]
    for role in ("engineer", "auditor"):
        who = await api.as_(role)
        assert len(ids((await api.call("GET", "/api/directory/agents", who))[1])) == 4
        assert (await api.call("POST", "/api/directory/agents", who, NEW))[0] == 403
    assert (await api.call("PATCH", "/api/directory/agents/8002", agent, {"name": "x"}))[0] == 403
    assert (await api.call("GET", "/api/directory/teams", agent))[0] == 403


async def test_a_team_supervisor_manages_their_own_team_only(api: Api) -> None:
    team = await api.as_("supervisor", group="一组")
    status, body = await api.call("POST", "/api/directory/agents", team, NEW)
    assert status == 201 and body["team"] == "一组" and body["active"] is True
    assert ids((await api.call("GET", "/api/directory/agents", team))[1]) == ["8001", "8002", "8100"]
    assert (await api.call("POST", "/api/directory/agents", team, {**NEW, "id": "8101", "team": "二组"}))[0] == 403
    assert (await api.call("PATCH", "/api/directory/agents/8003", team, {"name": "x"}))[0] == 403
    assert (await api.call("PATCH", "/api/directory/agents/8100", team, {"team": "二组"}))[0] == 403
    status, body = await api.call("PATCH", "/api/directory/agents/8100", team,
                                  {"skills": {"general": 4, "revisit": 2}, "phone": "webrtc"})
    assert status == 200 and body["skills"] == {"general": 4, "revisit": 2} and body["phone"] == "webrtc"
    status, body = await api.call("POST", "/api/directory/agents/8100/deactivate", team)
    assert status == 200 and body["active"] is False
    assert (await api.call("POST", "/api/directory/agents/8003/deactivate", team))[0] == 403
    centre = await api.as_("supervisor")
    assert (await api.call("PATCH", "/api/directory/agents/8100", centre, {"team": "二组", "active": True}))[0] == 200
    assert (await api.call("GET", "/api/directory/agents/8100", team))[0] == 403, "moved out of their reach"


async def test_refusals_are_clear_and_name_their_fields(api: Api) -> None:
    admin = await api.as_("admin")
    bad = {**NEW, "id": "81a", "skills": {"general": 6}}
    status, body = await api.call("POST", "/api/directory/agents", admin, bad)
    assert status == 422 and {f["field"] for f in body["error"]["fields"]} == {"id", "skills.general"}
    status, body = await api.call("POST", "/api/directory/agents", admin, {**NEW, "id": "8001"})
    assert status == 409 and body["error"]["id"] == "exists_agent"
    status, body = await api.call("POST", "/api/directory/agents", admin, {**NEW, "skills": {"plumbing": 2}})
    assert status == 422 and [f["field"] for f in body["error"]["fields"]] == ["skills"]
    assert "plumbing" in body["error"]["message"]
    status, body = await api.call("POST", "/api/directory/agents", admin, {**NEW, "team": "九组"})
    assert status == 422 and "POST /api/directory/teams" in body["error"]["message"]
    assert (await api.call("PATCH", "/api/directory/agents/8001", admin, {}))[0] == 422
    assert (await api.call("PATCH", "/api/directory/agents/8001", admin, {"name": None}))[0] == 422
    assert (await api.call("PATCH", "/api/directory/agents/8999", admin, {"name": "x"}))[0] == 404
    assert (await api.call("GET", "/api/directory/agents/123456789", admin))[0] == 404
    assert (await api.call("POST", "/api/directory/agents", admin, {**NEW, "level": 3}))[0] == 422


async def test_a_bulk_add_is_checked_as_a_whole(api: Api) -> None:
    admin = await api.as_("admin")
    rows = [{**NEW, "id": f"85{n:02d}", "team": None} for n in range(30)]
    bad = [*rows[:3], {**NEW, "id": "8001"}, {**NEW, "id": "9001"}, {**NEW, "id": "8599", "skills": {"x": 1}}]
    status, body = await api.call("POST", "/api/directory/agents/bulk", admin, {"agents": bad})
    assert status == 422 and body["error"]["id"] == "bad_agents"
    assert [f["field"] for f in body["error"]["fields"]] == ["agents.3.id", "agents.4.id", "agents.5.skills"]
    assert len(ids((await api.call("GET", "/api/directory/agents", admin))[1])) == 4, "nothing was added"
    status, body = await api.call("POST", "/api/directory/agents/bulk", admin, {"agents": rows})
    assert status == 201 and body["added"] == 30
    assert (await api.call("POST", "/api/directory/agents/bulk", admin, {"agents": []}))[0] == 422


async def test_a_phone_password_is_shown_once_never_listed_nor_audited(api: Api) -> None:
    admin = await api.as_("admin")
    r = await api.client.post("/api/directory/agents/8001/phone-secret", headers=admin)
    body = await r.json()
    assert r.status == 200 and r.headers["Cache-Control"] == "no-store" and body["username"] == "8001"
    listed = json.dumps([(await api.call("GET", path, admin))[1] for path in (
        "/api/directory/agents", "/api/directory/agents/8001")])
    assert body["secret"] not in listed
    async with api.sessions() as s:
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.action.like("directory.%")))).all()
    assert {r.action for r in rows} >= {"directory.agents.phone_secret", "directory.agents.list"}
    assert all(body["secret"] not in json.dumps(r.detail) for r in rows)
    agent = await api.as_("agent", "8001")
    assert (await api.call("POST", "/api/directory/agents/8001/phone-secret", agent))[0] == 403


async def test_teams_are_listed_and_added(api: Api) -> None:
    sup = await api.as_("supervisor")
    status, body = await api.call("GET", "/api/directory/teams", sup)
    assert status == 200 and [(t["name"], t["agents"]) for t in body["teams"]] == [("一组", 2), ("二组", 2)]
    assert (await api.call("POST", "/api/directory/teams", sup, {"name": "三组"}))[0] == 201
    assert (await api.call("POST", "/api/directory/teams", sup, {"name": "三组"}))[0] == 409
    assert (await api.call("POST", "/api/directory/teams", sup, {"name": ""}))[0] == 422
