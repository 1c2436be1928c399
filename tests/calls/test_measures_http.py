"""`/api/caller-measures` on a real SQLite database: roles, clear 4xx refusals, the history, the audit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hotline.calls import measures_http
from hotline.calls.measures import CallerMeasures
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.routes import RouteTable
from hotline.core.web.tokens import ApiTokens
from tests.webapp import web_app

NUMBER = "13500135095"


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    tokens: ApiTokens
    audit: AuditLog

    async def as_(self, role: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        token = await self.tokens.create(name=f"{role}-m", role=role, agent_id="8001" if role == "agent" else None)
        async with self.client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"}) as r:
            return r.status, await r.json()


@pytest.fixture
async def api(sqlite_sessions: SessionFactory) -> AsyncIterator[Api]:
    tokens, audit = ApiTokens(sqlite_sessions), AuditLog(sqlite_sessions)
    table = RouteTable("measures", list(measures_http.table.routes))
    table.provide(measures_http.MEASURES, CallerMeasures(sqlite_sessions))
    async with TestClient(TestServer(web_app(sqlite_sessions, tokens, table, audit=audit))) as client:
        yield Api(client, tokens, audit)


async def test_supervisors_warn_then_suspend_for_a_period_and_auditors_read_who_and_why(api: Api) -> None:
    warning = {"number": NUMBER, "measure": "warning", "reason": "无实质诉求反复来电"}
    suspension = {"number": NUMBER, "measure": "suspend", "reason": "警告后仍辱骂话务员", "hours": 72}
    assert (await api.as_("agent", "POST", "/api/caller-measures", warning))[0] == 403
    status, body = await api.as_("supervisor", "POST", "/api/caller-measures", suspension)
    assert (status, body["error"]["id"]) == (409, "warning_first")
    assert (await api.as_("supervisor", "POST", "/api/caller-measures", warning))[0] == 201
    status, decided = await api.as_("supervisor", "POST", "/api/caller-measures", suspension)
    assert status == 201 and decided["decided_by"] == "supervisor-m" and decided["ends_at"] is not None
    ends = datetime.fromisoformat(decided["ends_at"]) - datetime.now(UTC)
    assert timedelta(hours=71) < ends <= timedelta(hours=72)

    status, seen = await api.as_("auditor", "GET", f"/api/caller-measures/{NUMBER}")
    assert status == 200 and seen["in_force"]["measure"] == "suspend"
    assert [(d["measure"], d["reason"]) for d in seen["history"]] == [
        ("warning", "无实质诉求反复来电"), ("suspend", "警告后仍辱骂话务员")]
    assert (await api.as_("auditor", "POST", f"/api/caller-measures/{NUMBER}/lift", {"reason": "x"}))[0] == 403
    status, listed = await api.as_("auditor", "GET", "/api/caller-measures")
    assert status == 200 and [m["number"] for m in listed["measures"]] == [NUMBER]

    assert (await api.as_("supervisor", "POST", f"/api/caller-measures/{NUMBER}/lift", {"reason": "已道歉"}))[0] == 201
    status, body = await api.as_("supervisor", "POST", f"/api/caller-measures/{NUMBER}/lift", {"reason": "再解除"})
    assert (status, body["error"]["id"]) == (409, "no_measure")
    rows = [r for r in await api.audit.recent() if r["action"] == "caller_measures.decide" and r["allowed"]]
    assert {r["detail"].get("reason") for r in rows} >= {"无实质诉求反复来电", "警告后仍辱骂话务员"}


@pytest.mark.parametrize("body", [
    {"number": "12-34", "measure": "warning", "reason": "x"},
    {"number": NUMBER, "measure": "blocked", "reason": "x"},
    {"number": NUMBER, "measure": "warning"},
    {"number": NUMBER, "measure": "pause", "reason": "x", "hours": 0},
    {"number": NUMBER, "measure": "pause", "reason": "x", "hours": 1, "until": "2027-01-01T00:00:00+08:00"},
    {"number": NUMBER, "measure": "pause", "reason": "x", "until": "2027-01-01T00:00:00"},  # no zone
    {"number": NUMBER, "measure": "warning", "reason": "x", "until": "2020-01-01T00:00:00+08:00"},  # past
])
async def test_bad_decisions_get_a_clear_4xx_and_leave_nothing(api: Api, body: dict[str, Any]) -> None:
    status, answer = await api.as_("supervisor", "POST", "/api/caller-measures", body)
    assert 400 <= status < 500 and answer["error"]["id"], answer
    assert (await api.as_("supervisor", "GET", f"/api/caller-measures/{NUMBER}"))[1]["history"] == []


async def test_a_bad_number_in_the_path_is_a_400(api: Api) -> None:
    status, answer = await api.as_("auditor", "GET", "/api/caller-measures/not-a-number")
    assert (status, answer["error"]["id"]) == (400, "bad_number")
    status, answer = await api.as_("supervisor", "POST", "/api/caller-measures/x1/lift", {"reason": "误判"})
    assert (status, answer["error"]["id"]) == (400, "bad_number")
