"""Threats to quality review over HTTP: an agent reaching another agent's call, a team supervisor another team's,
an auditor or an agent scoring; bad scorings refused naming the item; every access audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from dialplans.model import RATING_LABELS
from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry
from hotline.core.web.tokens import ApiTokens
from recordings.quality import http as quality_http
from recordings.quality.flags import FlagRules
from recordings.quality.service import QualityReview
from recordings.quality.sheet import load_sheet
from recordings.settings import RecordingSettings
from tests.recordings.quality.test_service import FULL, seed
from tests.webapp import web_app

DAY = "from=2026-11-27&to=2026-11-27"


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    sessions: SessionFactory
    tokens: ApiTokens

    async def as_(self, role: str, agent: str | None = None, group: str | None = None) -> dict[str, str]:
        token = await self.tokens.create(name=f"{role}-{agent or group or 'all'}", role=role, agent_id=agent,
                                         group=group)
        return {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, who: dict[str, str], body: object = None) -> tuple[int, Any]:
        async with self.client.request(method, path, headers=who, json=body) as r:
            return r.status, await r.json()


@pytest.fixture
async def api(sqlite_sessions: SessionFactory) -> AsyncIterator[Api]:
    await seed(sqlite_sessions)
    review = QualityReview(sqlite_sessions, load_sheet(), FlagRules.of(RecordingSettings(), RATING_LABELS),
                           RATING_LABELS)
    tokens = ApiTokens(sqlite_sessions)
    app = web_app(sqlite_sessions, tokens, quality_http.routes(review),
                  teams={"8001": "一组", "8002": "一组", "8003": "二组"})
    async with TestClient(TestServer(app)) as client:
        yield Api(client, sqlite_sessions, tokens)


async def test_an_agent_sees_and_answers_only_their_own_calls_and_never_scores(api: Api) -> None:
    agent = await api.as_("agent", agent="8002")
    status, listed = await api.call("GET", f"/api/quality/calls?{DAY}&flag=all", agent)
    assert status == 200 and [c["call_id"] for c in listed["calls"]] == ["q-short"]
    status, _ = await api.call("GET", f"/api/quality/calls?{DAY}&flag=all&agent=8001", agent)
    assert status == 200 and _["calls"] == []  # asking for another agent gives nothing
    assert (await api.call("GET", "/api/quality/calls/q-short", agent))[0] == 200
    assert (await api.call("GET", "/api/quality/calls/q-silence", agent))[0] == 403  # 8001's
    assert (await api.call("GET", "/api/quality/calls/no-such-call", agent))[0] == 403  # unknown looks the same
    assert (await api.call("PUT", "/api/quality/calls/q-short/score", agent, {"items": FULL}))[0] == 403
    status, thread = await api.call("POST", "/api/quality/calls/q-short/comments", agent, {"text": "收到"})
    assert status == 201 and thread["comments"][0]["role"] == "agent"
    assert (await api.call("POST", "/api/quality/calls/q-silence/comments", agent, {"text": "x"}))[0] == 403
    status, sheet = await api.call("GET", "/api/quality/sheet", agent)
    assert status == 200 and sheet["max"] == 100 and sheet["items"][0]["key"] == "greeting"


async def test_a_team_supervisor_reaches_their_team_only(api: Api) -> None:
    sup = await api.as_("supervisor", group="一组")
    status, listed = await api.call("GET", f"/api/quality/calls?{DAY}&flag=silence", sup)
    assert status == 200 and [c["call_id"] for c in listed["calls"]] == ["q-secret", "q-silence"]
    assert (await api.call("GET", "/api/quality/calls/q-other", sup))[0] == 403  # 二组's
    assert (await api.call("PUT", "/api/quality/calls/q-other/score", sup, {"items": FULL}))[0] == 403
    status, stored = await api.call("PUT", "/api/quality/calls/q-short/score", sup, {"items": FULL, "comment": "好"})
    assert status == 200 and stored["total"] == 100 and stored["version"] == 1
    status, scores = await api.call("GET", f"/api/quality/scores?{DAY}", sup)
    assert status == 200 and [a["agent"] for a in scores["agents"]] == ["8002"]
    other = await api.as_("supervisor", group="二组")
    status, scores = await api.call("GET", f"/api/quality/scores?{DAY}", other)
    assert status == 200 and scores == {"agents": [], "scores": []}


async def test_auditors_read_all_but_score_nothing(api: Api) -> None:
    auditor = await api.as_("auditor")
    status, listed = await api.call("GET", f"/api/quality/calls?{DAY}&flag=all", auditor)
    assert status == 200 and "q-other" in [c["call_id"] for c in listed["calls"]]
    assert "q-secret" not in [c["call_id"] for c in listed["calls"]], "confidential tickets' calls: not theirs"
    assert (await api.call("GET", "/api/quality/calls/q-secret", auditor))[0] == 403
    assert (await api.call("PUT", "/api/quality/calls/q-other/score", auditor, {"items": FULL}))[0] == 403
    assert (await api.call("POST", "/api/quality/calls/q-other/comments", auditor, {"text": "x"}))[0] == 403
    admin = await api.as_("admin")
    assert (await api.call("GET", "/api/quality/calls/q-secret", admin))[0] == 200


async def test_bad_input_gets_a_clear_4xx_and_loses_nothing(api: Api) -> None:
    admin = await api.as_("admin")
    await api.call("PUT", "/api/quality/calls/q-over/score", admin, {"items": FULL})
    for body, field in (({"items": {**FULL, "closing": 12}}, "items.closing"),
                        ({"items": {**FULL, "accuracy": 7.5}}, "items.accuracy"),
                        ({"items": {**FULL, "smile": 1}}, "items.smile"),
                        ({"items": FULL, "extra": 1}, "extra")):
        status, refused = await api.call("PUT", "/api/quality/calls/q-over/score", admin, body)
        assert status == 422 and field in [f["field"] for f in refused["error"]["fields"]], refused
    status, detail = await api.call("GET", "/api/quality/calls/q-over", admin)
    assert status == 200 and detail["score"]["total"] == 100 and len(detail["history"]) == 1
    assert (await api.call("PUT", "/api/quality/calls/q-nope/score", admin, {"items": FULL}))[0] == 404
    assert (await api.call("POST", "/api/quality/calls/q-over/comments", admin, {"text": ""}))[0] == 422
    for query in ("from=2026-11-28&to=2026-11-27", "from=2024-01-01&to=2026-11-27", "flag=loud", "limit=0",
                  "before=yesterday", "scored=2", "from=11/27"):
        status, _ = await api.call("GET", f"/api/quality/calls?{query}", admin)
        assert status == 400, query


async def test_every_access_is_audited_refusals_too(api: Api) -> None:
    agent = await api.as_("agent", agent="8001")
    await api.call("GET", "/api/quality/calls/q-over", agent)
    await api.call("GET", "/api/quality/calls/q-short", agent)
    async with api.sessions() as s:
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "quality.read")
                                .order_by(AuditEntry.id))).all()
    assert [(r.resource, r.allowed) for r in rows] == [("quality/calls/q-over", True),
                                                       ("quality/calls/q-short", False)]
