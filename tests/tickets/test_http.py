"""The ticket routes on a real SQLite database: who may read and change which ticket, the form's errors
naming each field, the audit of every access, the case-system outbox and its signed webhook."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dialplans.calendar import WorkCalendar
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.tokens import ApiTokens
from integration.casesystem.client import CaseSystemClient
from integration.casesystem.mapping import CaseMapping
from integration.casesystem.outbox import OutboxWorker
from integration.casesystem.signing import sign
from tests.webapp import web_app
from tickets import http as tickets_http
from tickets.catalogue import Catalogue
from tickets.service import Tickets
from tickets.timelimits import TimeLimits

SECRET = "webhook-secret"


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    tokens: ApiTokens
    audit: AuditLog
    sessions: SessionFactory

    async def as_(self, role: str, agent: str | None = None) -> dict[str, str]:
        token = await self.tokens.create(name=f"{role}-{agent}", role=role, agent_id=agent)
        return {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, who: dict[str, str], body: Any = None) -> tuple[int, Any]:
        async with self.client.request(method, path, headers=who, json=body) as r:
            return r.status, await r.json()


@pytest.fixture
async def api(sqlite_sessions: SessionFactory) -> AsyncIterator[Api]:
    sessions = sqlite_sessions
    tokens, audit, mapping = ApiTokens(sessions), AuditLog(sessions), CaseMapping.load()
    tickets = Tickets(sessions, Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))
    outbox = OutboxWorker(sessions, CaseSystemClient("http://127.0.0.1:9", "s", mapping))  # never started
    app = web_app(sessions, tokens, tickets_http.routes(tickets, tickets_http.CaseLink(outbox, mapping, SECRET)),
                  audit=audit)
    async with TestClient(TestServer(app)) as client:
        yield Api(client, tokens, audit, sessions)


def web_ticket(**petitioner: Any) -> dict[str, Any]:
    return {"channel": "网站", "request_type": "咨询", "category": "010101", "title": "护照",
            "content": {"description": "如何办理护照"},
            "petitioner": {"name": "李", "phone": "13800138000", "revisit_consent": True, **petitioner}}


async def test_agents_have_their_own_tickets_and_confidential_ones_stay_close(api: Api) -> None:
    owner, other = await api.as_("agent", "8001"), await api.as_("agent", "8002")
    auditor, supervisor = await api.as_("auditor"), await api.as_("supervisor")
    status, plain = await api.call("POST", "/api/tickets", owner, web_ticket())
    assert status == 201 and plain["created_by"] == "8001" and plain["status"] == "draft"
    status, secret = await api.call("POST", "/api/tickets", owner, web_ticket(confidential=True))
    assert status == 201
    for who, plain_read, secret_read in ((owner, 200, 200), (other, 403, 403), (auditor, 200, 403),
                                         (supervisor, 200, 200)):
        assert (await api.call("GET", f"/api/tickets/{plain['id']}", who))[0] == plain_read
        assert (await api.call("GET", f"/api/tickets/{secret['id']}/timeline", who))[0] == secret_read
    assert (await api.call("PATCH", f"/api/tickets/{plain['id']}", other, {"title": "x"}))[0] == 403
    assert (await api.call("PATCH", f"/api/tickets/{plain['id']}", auditor, {"title": "x"}))[0] == 403
    assert (await api.call("POST", "/api/tickets", auditor, web_ticket()))[0] == 403
    assert (await api.call("GET", "/api/callers/13800138000/history", other))[0] == 403, "a caller 8002 never took"
    await CallRecords(api.sessions).start("c-8002", sip_call_id=None, caller="13800138000", dialled="12345",
                                          started_at=datetime.now(UTC))
    await CallRecords(api.sessions).assign_agent("c-8002", "8002", datetime.now(UTC))
    status, history = await api.call("GET", "/api/callers/13800138000/history", other)
    assert status == 200 and [t["id"] for t in history["tickets"]] == [plain["id"]], "confidential: hidden"
    status, history = await api.call("GET", "/api/callers/13800138000/history", supervisor)
    assert {t["id"] for t in history["tickets"]} == {plain["id"], secret["id"]}

    seen = {(e["role"], e["action"], e["resource"], e["allowed"]) for e in await api.audit.recent()}
    assert {("agent", "tickets.create", f"tickets/{plain['id']}", True),
            ("agent", "tickets.get", f"tickets/{plain['id']}", False),
            ("auditor", "tickets.timeline", f"tickets/{secret['id']}", False),
            ("agent", "tickets.update", f"tickets/{plain['id']}", False),
            ("auditor", "tickets.write", f"tickets/{plain['id']}", False),
            ("auditor", "tickets.create", "tickets", False),
            ("supervisor", "callers.history", "callers/13800138000", True)} <= seen


async def test_every_bad_field_is_named_and_only_a_draft_changes(api: Api) -> None:
    owner = await api.as_("agent", "8001")
    status, refused = await api.call("POST", "/api/tickets", owner, {**web_ticket(), "category": "99", "urgency": "急",
                                                                     "colour": "red"})
    assert status == 422 and refused["error"]["id"] == "bad_ticket"
    assert {f["field"] for f in refused["error"]["fields"]} == {"category", "urgency", "colour"}
    assert (await api.call("POST", "/api/tickets", owner, [1]))[1]["error"]["id"] == "bad_json"
    status, draft = await api.call("POST", "/api/tickets", owner, {**web_ticket(), "title": ""})
    status, refused = await api.call("POST", f"/api/tickets/{draft['id']}/submit", owner)
    assert status == 422 and [f["field"] for f in refused["error"]["fields"]] == ["title"]
    status, changed = await api.call("PATCH", f"/api/tickets/{draft['id']}", owner, {"title": "  护照  "})
    assert status == 200 and changed["title"] == "护照"
    status, done = await api.call("POST", f"/api/tickets/{draft['id']}/submit", owner)
    assert status == 200 and done["status"] == "submitted" and done["deadlines"]
    status, locked = await api.call("PATCH", f"/api/tickets/{draft['id']}", owner, {"title": "x"})
    assert status == 409 and locked["error"]["id"] == "not_a_draft"
    status, linked = await api.call("POST", f"/api/tickets/{draft['id']}/calls", owner, {"call_id": "nope"})
    assert status == 403 and "nope" in linked["error"]["message"], "an unknown call: the answer of another's"
    assert (await api.call("POST", f"/api/tickets/{draft['id']}/calls", owner, {}))[1]["error"]["id"] == "bad_json"
    assert (await api.call("GET", "/api/tickets/abc", owner))[1]["error"]["id"] == "bad_param"
    assert (await api.call("GET", "/api/tickets/99", owner))[1]["error"]["id"] == "not_found"
    assert (await api.call("GET", "/api/callers/12a/history", owner))[1]["error"]["id"] == "bad_param"


async def test_operators_follow_the_outbox(api: Api) -> None:
    owner, supervisor = await api.as_("agent", "8001"), await api.as_("supervisor")
    _, draft = await api.call("POST", "/api/tickets", owner, web_ticket())
    await api.call("POST", f"/api/tickets/{draft['id']}/submit", owner)
    assert (await api.call("GET", "/api/case-system/outbox", owner))[0] == 403
    status, pending = await api.call("GET", "/api/case-system/outbox", supervisor)
    assert status == 200 and pending["backlog"] == {"pending": 1, "dead": 0}
    [message] = pending["messages"]
    assert (message["ticket"], message["kind"], message["attempts"]) == (draft["number"], "ticket.submitted", 0)
    assert (await api.call("GET", "/api/case-system/outbox?state=lost", supervisor))[1]["error"]["id"] == "bad_param"
    status, refused = await api.call("POST", f"/api/case-system/outbox/{message['id']}/replay", supervisor)
    assert status == 404 and refused["error"]["id"] == "not_dead"
    seen = {(e["action"], e["resource"], e["allowed"]) for e in await api.audit.recent()}
    assert {("case.outbox", "case-system/outbox?state=pending", True), ("case.outbox", "case-system/outbox", False),
            ("case.replay", f"case-system/outbox/{message['id']}", True)} <= seen


async def webhook(api: Api, body: Any, secret: str = SECRET, *, skew_s: float = 0) -> tuple[int, Any]:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    headers = {"Content-Type": "application/json", **sign(secret, raw, time.time() + skew_s)}
    async with api.client.post(tickets_http.WEBHOOK_PATH, data=raw, headers=headers) as r:
        return r.status, await r.json()


async def test_the_webhook_is_signed_once_per_event_and_its_refusals_audited(api: Api) -> None:
    owner = await api.as_("agent", "8001")
    _, draft = await api.call("POST", "/api/tickets", owner, web_ticket())
    await api.call("POST", f"/api/tickets/{draft['id']}/submit", owner)
    event = {"eventId": "ev-1", "externalId": draft["number"], "status": "dispatched",
             "changedAt": "2026-11-23T10:00:00+08:00"}
    assert await webhook(api, event, "forged") == (401, {"error": {"id": "bad_signature",
                                                                  "message": "signature does not match"}})
    assert (await webhook(api, event, skew_s=-3600))[0] == 401
    assert await webhook(api, event) == (200, {"ticket": draft["number"], "status": "dispatched"})
    status, again = await webhook(api, event)
    assert status == 409 and again["error"]["id"] == "stale_event"
    assert (await webhook(api, b"{no"))[1]["error"]["id"] == "bad_json"
    assert (await webhook(api, {**event, "eventId": "ev-2", "status": "lost"}))[1]["error"]["id"] == "bad_event"
    assert (await webhook(api, {**event, "eventId": "ev-3", "changedAt": "2026-11-23T10:00"}))[0] == 400
    refused = [e for e in await api.audit.recent() if e["action"] == "case.webhook"]
    assert all(not e["allowed"] and e["actor"] == "case-system" for e in refused)
    reasons = " | ".join(str(e["detail"]["reason"]) for e in refused)
    assert "signature does not match" in reasons and "away from now" in reasons and "already received" in reasons
