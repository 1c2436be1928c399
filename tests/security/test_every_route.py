"""Threat: a role reaching what the access table keeps from it, or a request that breaks the service.

Every route of every domain, called by every role and scope (an agent, an agent of the other team, a team
supervisor, a whole-centre supervisor, an engineer, an auditor, an admin, with bearer tokens; an agent and a
team supervisor signed in with a session cookie and CSRF token) with the ids of the other team's objects and
with ids that do not exist: 401 without a valid token or session, 403 exactly where the access table refuses
the role or the object is out of the principal's reach, never a 5xx, each refusal audited. Then schemathesis
generates requests (valid and not) for every operation and sends each as every principal the table lets in
(and one it refuses, and none; and a freshly signed-in session): no 5xx.
Runs on a real SQLite database (tests/security/whole_app.py); the ACD is scripted.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, settings
from sqlalchemy import select

from acd import http as acd_http
from acd.directory import http as directory_http
from callback import http as callback_http
from desk import http as desk_http
from dialplans import http as dialplans_http
from hotline.app.access import POLICY
from hotline.app.web import api_document
from hotline.calls import http as calls_http
from hotline.core.accounts.build import sign_in
from hotline.core.accounts.passwords import Passwords
from hotline.core.accounts.users import Users
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.models import AuditEntry
from hotline.core.web.pages import Pages
from hotline.core.web.pages import routes as page_routes
from hotline.core.web.policy import Scope
from hotline.core.web.routes import Route
from hotline.core.web.tokens import ApiTokens
from integration.world import http as world_http
from ivr.announcements import http as announcements_http
from knowledge import http as knowledge_http
from recordings import http as recordings_http
from recordings.quality import http as quality_http
from tests.app.test_access_table import all_routes
from tests.core.accounts.serving import CHEAP, redis_server
from tests.security.whole_app import (
    PRINCIPALS,
    SESSION_PASSWORD,
    SESSION_PRINCIPALS,
    SESSION_USERS,
    SPARE_TOKEN,
    USER_8003,
    WALK_ACCOUNTS,
    Principal,
    whole_app,
)
from tests.webapp import ThreadedServer
from tickets import http as tickets_http

_PARAM = re.compile(r"\{(\w+)(?::[^}]+)?\}")
OTHER_TEAMS = {"call_id": "c3", "agent": "8003", "ticket_id": "3", "recording_id": "3", "number": "13800000003",
               "kind": "vip", "message_id": "1", "campaign_id": "1", "token_id": str(SPARE_TOKEN),
               "user_id": str(USER_8003), "callback_id": "1", "sha256": "0" * 64, "announcement_id": "1",
               "entry_id": "1", "gap_id": "1"}
MISSING = {"call_id": "c404", "agent": "8999", "ticket_id": "999", "recording_id": "999", "number": "13900000404",
           "kind": "vip", "message_id": "999", "campaign_id": "999", "token_id": "999", "user_id": "999",
           "callback_id": "999", "sha256": "f" * 64, "announcement_id": "999", "entry_id": "999", "gap_id": "999"}
OBJECTS = {"call_id", "agent", "ticket_id", "recording_id", "number", "user_id"}  # naming someone's object
BODIES: dict[tuple[str, str], Any] = {  # a valid body, so that a refusal is about who asks, not what is sent
    ("POST", "/api/caller-lists"): {"number": "13800000009", "kind": "vip"},
    ("POST", "/api/caller-measures"): {"number": "13800000009", "measure": "warning", "reason": "辱骂话务员"},
    ("POST", "/api/caller-measures/{number}/lift"): {"reason": "已道歉"},
    ("POST", "/api/agents/{agent}/state"): {"state": "paused", "reason": "培训"},
    ("POST", "/api/agents/{agent}/wrap-up"): {"extend_s": 30},
    ("POST", "/api/agents/{agent}/spy"): {"mode": "listen", "phone": "9001"},
    ("POST", "/api/calls/{call_id}/transfer"): {"skill": "general"},
    ("POST", "/api/calls/{call_id}/three-way"): {"agent": "8002"},
    ("POST", "/api/calls/{call_id}/consult"): {"agent": "8002"},
    ("POST", "/api/tickets"): {"channel": "网站", "request_type": "咨询", "category": "010101", "title": "护照",
                               "content": {"description": "如何办理护照"},
                               "petitioner": {"name": "李", "phone": "13800000001", "revisit_consent": True}},
    ("PATCH", "/api/tickets/{ticket_id}"): {"title": "护照"},
    ("POST", "/api/tickets/{ticket_id}/calls"): {"call_id": "c3"},
    ("PUT", "/api/tickets/{ticket_id}/legal-hold"): {"hold": True, "reason": "行政复议证据"},
    ("POST", "/api/tickets/{ticket_id}/duty-call"): {},
    ("POST", "/api/revisits/campaigns"): {"name": "x", "tasks": [{"number": "13900000001"}]},
    ("POST", "/api/revisits/tasks"): [{"number": "13900000001"}],
    ("POST", "/api/session"): {"username": "nobody.here", "password": "not-a-password"},
    ("POST", "/api/session/password"): {"old": "not-the-password", "new": "a-new-password-42"},
    ("POST", "/api/users"): {"username": "walk.new", "role": "agent", "agent_id": "8002"},
    ("POST", "/api/callbacks/{callback_id}/outcome"): {"outcome": "reached"},
    ("POST", "/api/directory/agents"): {"id": "8555", "name": "新人", "seat": "general", "team": "一组",
                                        "skills": {"general": 2}},
    ("POST", "/api/directory/agents/bulk"): {"agents": [{"id": "8556", "name": "新人", "seat": "general",
                                                         "team": "一组", "skills": {"general": 2}}]},
    ("PATCH", "/api/directory/agents/{agent}"): {"name": "改名"},
    ("POST", "/api/directory/teams"): {"name": "三组"},
    ("PUT", "/api/quality/calls/{call_id}/score"): {"items": {"greeting": 10, "recording_notice": 5, "listening": 15,
                                                              "accuracy": 20, "policy": 10, "ticket": 15,
                                                              "closing": 10, "manner": 15}},
    ("POST", "/api/quality/calls/{call_id}/comments"): {"text": "问候规范"},
    ("POST", "/api/dialplan/check"): {"text": "numbers: [\n"},
    ("POST", "/api/dialplan/diff"): {"text": "numbers: [\n"},
    ("POST", "/api/dialplan/apply"): {"text": "numbers: [\n", "sha256": "0" * 64},
    ("POST", "/api/test-calls"): {"number": "12345", "from": "13800138000"},
    ("POST", "/api/announcements"): {"text": "东城区停水。", "lines": ["12345"],
                                     "ends_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
    ("POST", "/api/announcements/preview"): {"text": "东城区停水。"},
    ("POST", "/api/knowledge/entries"): {"title": "医保转移", "questions": ["医保怎么转"], "answer": "线上办理。",
                                         "department": "市医保局"},
    ("PATCH", "/api/knowledge/entries/{entry_id}"): {"keywords": ["医保"]},
    ("POST", "/api/knowledge/entries/{entry_id}/withdraw"): {"reason": "政策废止"},
    ("POST", "/api/knowledge/uses"): {"call_id": "c3", "entry_id": 1},  # out of reach: 404, as if none
    ("POST", "/api/knowledge/gaps"): {"call_id": "c3", "question": "电动车上牌"},
    ("POST", "/api/knowledge/gaps/{gap_id}/close"): {"note": "已转交"},
}
ENDS_SESSION = {("DELETE", "/api/session"), ("POST", "/api/session/everywhere")}


def _path(route: Route, ids: dict[str, str]) -> str:
    return _PARAM.sub(lambda m: ids[m.group(1)], route.path)


def _scope(route: Route, who: Principal) -> Scope | None:
    """The principal's scope for the route's action; None: the table refuses the role."""
    return POLICY[route.action].grants.get(who.role) if route.action else Scope.ALL


def _narrow(route: Route, who: Principal) -> bool:
    """Whether the principal reaches only some of the objects the route's path can name (own or a team's)."""
    scope = _scope(route, who)
    narrow = scope is Scope.OWN or (scope is Scope.TEAM and who.group is not None)
    return narrow and bool(OBJECTS & set(_PARAM.findall(route.path)))


def session_headers(cookie: str, csrf: str) -> dict[str, str]:
    return {"Cookie": f"hotline_session={cookie}", "X-CSRF-Token": csrf}


class Walk:
    def __init__(self, client: TestClient[web.Request, web.Application], bearer: dict[str, str]) -> None:
        self.client, self.bearer, self.refused = client, bearer, 0
        self.sessions: dict[str, dict[str, str]] = {}

    async def sign_in(self, who: Principal) -> None:
        """A session for a session principal (its cookie kept here, not in the client's jar)."""
        async with self.client.post("/api/session", json={"username": who.name, "password": SESSION_PASSWORD}) as r:
            assert r.status == 200, await r.text()
            self.sessions[who.name] = session_headers(r.cookies["hotline_session"].value,
                                                      (await r.json())["csrf_token"])
        self.client.session.cookie_jar.clear()

    async def status_as(self, route: Route, path: str, who: Principal) -> int:
        if not who.session:
            return await self.status(route, path, {"Authorization": self.bearer[who.name]})
        status = await self.status(route, path, self.sessions[who.name])
        if (route.method, route.path) in ENDS_SESSION and status == 204:
            await self.sign_in(who)
        return status

    async def status(self, route: Route, path: str, headers: dict[str, str] | None) -> int:
        async with self.client.request(route.method, path, headers=headers or {},
                                       json=BODIES.get((route.method, route.path))) as r:
            await r.read()
            if r.status == 403:
                self.refused += 1
            return r.status


@pytest.fixture
async def walk(sqlite_sessions: SessionFactory, tmp_path: Path) -> AsyncIterator[tuple[Walk, SessionFactory]]:
    async with redis_server(tmp_path) as redis:
        accounts = sign_in(Users(sqlite_sessions, Passwords(CHEAP)), redis, WALK_ACCOUNTS)
        app, _, bearer = await whole_app(sqlite_sessions, ApiTokens(sqlite_sessions), AuditLog(sqlite_sessions),
                                         tmp_path, accounts)
        async with TestClient(TestServer(app)) as client:
            walk = Walk(client, bearer)
            for who in SESSION_PRINCIPALS:
                await walk.sign_in(who)
            yield walk, sqlite_sessions


async def _audit_rows(sessions: SessionFactory) -> tuple[int, int]:
    """Audit rows of requests (not the case system's webhook, not a token's own issue or rotation, not the
    accounts' own rows: sign-ins, account changes): all, and the refusals."""
    async with sessions() as s:
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.role != "integration"))).all()
    requests = [r for r in rows if "token_role" not in r.detail and not r.action.startswith("accounts.")]
    return len(requests), sum(1 for r in requests if not r.allowed)


def _installed(app: web.Application) -> set[tuple[str, str]]:
    """The API's routes the app installs (not the pages' files: hotline/core/web/pages.py, public, no data)."""
    files = {("GET", re.sub(r"\{(\w+):[^}]+\}", r"{\1}", path)) for path, _ in page_routes(Pages())}
    return {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource is not None
            and r.method != "HEAD"} - files


async def test_the_walk_covers_every_route(walk: tuple[Walk, SessionFactory]) -> None:
    """Whatever a domain adds is walked: the app of these tests installs every route there is."""
    every = {(r.method, re.sub(r"\{(\w+):[^}]+\}", r"{\1}", r.path)) for r in all_routes()}
    installed = {(m, re.sub(r"\{(\w+):[^}]+\}", r"{\1}", p)) for m, p in _installed(walk[0].client.app)}
    assert every == installed


async def test_every_route_as_every_role_answers_as_the_access_table_says(walk: tuple[Walk, SessionFactory]) -> None:
    api, sessions = walk
    before = await _audit_rows(sessions)  # the tokens' issue
    wrong: list[str] = []
    guarded_calls = 0
    for route in all_routes():
        for ids in (OTHER_TEAMS, MISSING):
            path = _path(route, ids)
            status = await api.status(route, path, None)
            if route.public:
                if status >= 500:
                    wrong.append(f"{route.method} {path} without a token: {status}")
                continue
            if status != 401 or await api.status(route, path, {"Authorization": "Bearer hl_not-a-token"}) != 401 \
                    or await api.status(route, path, session_headers("not-a-session", "x")) != 401:
                wrong.append(f"{route.method} {path} without a valid token or session: {status}")
            for who in (*PRINCIPALS, *SESSION_PRINCIPALS):
                status = await api.status_as(route, path, who)
                guarded_calls += 1
                if _scope(route, who) is None:
                    expected = "403"
                    ok = status == 403
                elif ids is OTHER_TEAMS and _narrow(route, who) and not who.reaches_8003:
                    expected, ok = "403 (out of reach)", status == 403
                elif ids is MISSING and _narrow(route, who):
                    expected, ok = "403 or 404 (nothing to reach)", status in (403, 404)
                else:
                    expected, ok = "not 403, not 5xx", status != 403 and status < 500
                if status == 401:
                    expected, ok = "signed in (not 401)", False
                if not ok:
                    wrong.append(f"{route.method} {path} as {who.name}: {status}, expected {expected}")
    assert wrong == [], "\n".join(wrong)
    rows, refused = (a - b for a, b in zip(await _audit_rows(sessions), before, strict=True))
    assert (rows, refused) == (guarded_calls, api.refused), "one audit row per request, each refusal one of them"


# --- generated requests: no 5xx for any role ---

document = api_document([calls_http.table, acd_http.table, directory_http.table, tickets_http.table,
                         callback_http.table, recordings_http.table, quality_http.table, desk_http.table,
                         dialplans_http.table, world_http.table, announcements_http.table, knowledge_http.table])
# (rotating tokens is left out: a generated id would revoke the principals' own tokens halfway)
schema = schemathesis.openapi.from_dict(document).exclude(path_regex=r"^/api/tokens/")


class WholeServer(ThreadedServer):
    """The whole app in a thread of its own, for schemathesis; a token per principal, and people's sign-in on
    a redis-server of its own."""

    bearer: dict[str, str]

    async def app(self, sessions: SessionFactory, tokens: ApiTokens) -> web.Application:
        redis = contextlib.AsyncExitStack()
        accounts = sign_in(Users(sessions, Passwords(CHEAP)), await redis.enter_async_context(
            redis_server(self._folder)), WALK_ACCOUNTS)
        app, _, self.bearer = await whole_app(sessions, tokens, AuditLog(sessions), self._folder, accounts)

        async def stop_redis(_: web.Application) -> None:
            await redis.aclose()

        app.on_cleanup.append(stop_redis)
        return app

    def signed_in(self, who: Principal) -> dict[str, str]:
        """A fresh session's cookie and CSRF token (a generated request may have ended the last one)."""
        r = requests.post(f"http://127.0.0.1:{self.port}/api/session",
                          json={"username": who.name, "password": SESSION_PASSWORD}, timeout=10)
        assert r.status_code == 200, r.text
        return session_headers(r.cookies["hotline_session"] or "", r.json()["csrf_token"])


@pytest.fixture(scope="module")
def server() -> Iterator[WholeServer]:
    with WholeServer.running("hotline-every-route-") as running:
        yield running


def _senders(case: schemathesis.Case[Any], server: WholeServer) -> list[dict[str, str]]:
    """Every principal the table lets take the operation, one it refuses (refused before anything is read),
    no token, and a session principal the table lets in (signed in afresh)."""
    action = case.operation.definition.raw.get("x-access-action")
    grants = POLICY[action].grants if action else {}
    allowed = [{"Authorization": server.bearer[p.name]} for p in PRINCIPALS if p.role in grants]
    refused = [{"Authorization": server.bearer[p.name]} for p in PRINCIPALS if p.role not in grants][:1]
    people = [server.signed_in(p) for p in SESSION_PRINCIPALS if p.role in grants][:1]
    return [*allowed, *refused, {}, *people]


@schema.parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_never_break_the_service_for_any_role(case: schemathesis.Case[Any],
                                                                 server: WholeServer) -> None:
    if str((case.path_parameters or {}).get("user_id")) in {str(u) for u in SESSION_USERS}:
        case.path_parameters = {**(case.path_parameters or {}), "user_id": str(USER_8003)}  # theirs stay usable
    for headers in _senders(case, server):
        response = case.call(base_url=f"http://127.0.0.1:{server.port}", headers=headers)
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} " \
                                           f"{response.text[:300]}"
