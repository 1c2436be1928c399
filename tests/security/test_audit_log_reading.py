"""Threat: the audit log read by those it watches (information disclosure) or read unseen (repudiation).
`GET /api/audit` answers auditors and admins only, filters by actor, role, action, resource prefix, outcome
and time, pages newest first by a cursor that does not skip or repeat entries while new ones arrive, refuses
bad parameters with a 400, and every reading is itself an entry. Real SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hotline.app.web import api_document
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.audit_api import PAGE_MAX
from hotline.core.web.tokens import ApiTokens
from tests.webapp import web_app

ROLES = ("agent", "supervisor", "engineer", "auditor", "admin")


class Api:
    def __init__(self, client: TestClient[web.Request, web.Application], audit: AuditLog,
                 bearer: dict[str, str]) -> None:
        self.client, self.audit, self.bearer = client, audit, bearer

    async def read(self, who: str, **query: Any) -> tuple[int, Any]:
        path = "/api/audit" + ("?" + urlencode(query) if query else "")
        async with self.client.get(path, headers={"Authorization": self.bearer[who]}) as r:
            return r.status, await r.json()


@pytest.fixture
async def api(sqlite_sessions: SessionFactory) -> AsyncIterator[Api]:
    tokens, audit = ApiTokens(sqlite_sessions), AuditLog(sqlite_sessions)
    bearer = {role: "Bearer " + await tokens.create(name=f"{role}-a", role=role,
                                                    agent_id="8001" if role == "agent" else None) for role in ROLES}
    for n in range(7):  # the past: listening to recordings, one refused
        await audit.record(actor=f"agent-{n % 2}", role="agent", action="recordings.listen",
                           resource=f"recordings/{n}", allowed=n != 3, remote="10.0.0.1", detail={"n": n})
    async with TestClient(TestServer(web_app(sqlite_sessions, tokens, audit=audit))) as client:
        yield Api(client, audit, bearer)


async def test_only_auditors_and_admins_read_it_and_each_reading_is_an_entry(api: Api) -> None:
    for role in ("agent", "supervisor", "engineer"):
        status, body = await api.read(role)
        assert status == 403 and "entries" not in body, role
    for role in ("auditor", "admin"):
        status, body = await api.read(role, action="recordings.listen")
        assert status == 200 and len(body["entries"]) == 7, role
    status, body = await api.read("admin", resource="audit")
    readings = [(e["role"], e["action"], e["allowed"]) for e in reversed(body["entries"])]
    assert readings == [("agent", "audit.read", False), ("supervisor", "audit.read", False),
                        ("engineer", "audit.read", False), ("auditor", "audit.read", True),
                        ("admin", "audit.read", True)]
    assert body["entries"][0]["resource"] == "audit?action=recordings.listen"
    assert body["entries"][0]["detail"] == {"returned": 7}


async def test_filters_narrow_and_the_cursor_pages_without_gaps(api: Api) -> None:
    status, body = await api.read("auditor", actor="agent-1", allowed="false")
    assert status == 200 and [e["resource"] for e in body["entries"]] == ["recordings/3"]
    status, body = await api.read("auditor", resource="recordings/", role="agent", allowed="true")
    assert [e["detail"]["n"] for e in body["entries"]] == [6, 5, 4, 2, 1, 0]
    assert (await api.read("auditor", resource="recordings/%"))[1]["entries"] == [], "% is no wildcard"
    now = datetime.now(UTC)
    assert len((await api.read("auditor", action="recordings.listen",
                                **{"from": (now - timedelta(minutes=5)).isoformat()}))[1]["entries"]) == 7
    assert (await api.read("auditor", action="recordings.listen", until=(now - timedelta(minutes=5)).isoformat())
            )[1]["entries"] == []

    seen: list[int] = []
    cursor: dict[str, Any] = {}
    while True:
        status, page = await api.read("auditor", action="recordings.listen", limit=3, **cursor)
        assert status == 200 and len(page["entries"]) <= 3
        seen += [e["detail"]["n"] for e in page["entries"]]
        await api.audit.record(actor="agent-9", role="agent", action="recordings.listen", resource="recordings/9",
                               allowed=True, remote=None)  # arrives meanwhile: not on the pages being read
        if page["next"] is None:
            break
        cursor = {"before": page["next"]}
    assert seen == [6, 5, 4, 3, 2, 1, 0]


@pytest.mark.parametrize("query", [{"limit": PAGE_MAX + 1}, {"limit": 0}, {"before": "x"}, {"before": 0},
                                   {"from": "2026-11-27T10:00:00"}, {"until": "yesterday"}, {"allowed": "maybe"},
                                   {"actor": "x" * 65}])
async def test_bad_parameters_are_a_400_naming_them(api: Api, query: dict[str, Any]) -> None:
    status, body = await api.read("auditor", **query)
    assert status == 400 and body["error"]["id"] == "bad_param"
    assert body["error"]["fields"][0]["field"] == next(iter(query))


def test_the_route_is_in_the_openapi_document() -> None:
    operation = api_document([])["paths"]["/api/audit"]["get"]  # type: ignore[index]
    assert operation["x-access-action"] == "audit.read"
    assert {p["name"] for p in operation["parameters"]} == {"actor", "role", "action", "resource", "allowed", "from",
                                                            "until", "before", "limit"}
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
