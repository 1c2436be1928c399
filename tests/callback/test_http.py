"""The revisit campaign routes on a real SQLite database: uploads all or nothing (JSON and CSV), progress per
campaign, pause / resume one campaign beside the dialer's master switch, export, roles and the audit log;
and schemathesis against the OpenAPI document generated from the revisit routes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, settings
from schemathesis import checks

from callback import http as callback_http
from callback.dialer import Dialer, RevisitPrompts
from callback.http import RevisitOps
from callback.pressure import Pressure
from callback.tasks import RevisitTasks
from dialplans.loader import load_dialplan
from dialplans.model import RevisitSettings
from hotline.app.settings import Settings
from hotline.app.web import api_document
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.tokens import ApiTokens
from tests.callback.desk import callback_desk
from tests.dialplans.unlimited import unlimited_guard
from tests.webapp import ThreadedServer, web_app

ROWS = [{"number": "13900000001", "salutation": "王先生", "topic": "路灯不亮"}, {"number": "13900000002"}]
CSV = "\ufeffnumber,salutation,topic,reason\n13900000003,李女士,噪音,\n13900000004,,,\n"


async def calm() -> Pressure:
    return Pressure()


def revisit_app(sessions: SessionFactory, tokens: ApiTokens) -> tuple[web.Application, RevisitOps]:
    """The web app with the revisit routes; the dialer is never started."""
    tasks = RevisitTasks(sessions, RevisitSettings(quiet_s=0))
    plan = load_dialplan(Settings().core.dialplan_file)
    dialer = Dialer(tasks, None, None, None, plan, RevisitPrompts(Path("/nonexistent"), "/x"),  # type: ignore[arg-type]
                    calm, dialout=unlimited_guard(plan))
    ops = RevisitOps(tasks, dialer)
    desk = callback_desk(sessions, CallRecords(sessions), plan)
    return web_app(sessions, tokens, callback_http.routes(ops, desk)), ops


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    ops: RevisitOps
    tokens: ApiTokens
    audit: AuditLog

    async def as_(self, role: str) -> dict[str, str]:
        made = await self.tokens.create(name=f"{role}-rv", role=role, agent_id="8001" if role == "agent" else None)
        return {"Authorization": f"Bearer {made}"}

    async def call(self, method: str, path: str, who: dict[str, str], body: Any = None,
                   csv: str | None = None) -> tuple[int, Any]:
        headers = {**who, "Content-Type": "text/csv"} if csv is not None else who
        async with self.client.request(method, path, headers=headers, json=body,
                                       data=csv.encode() if csv is not None else None) as r:
            return r.status, await r.json()


@pytest.fixture
async def api(sqlite_sessions: SessionFactory) -> AsyncIterator[Api]:
    tokens = ApiTokens(sqlite_sessions)
    app, ops = revisit_app(sqlite_sessions, tokens)
    async with TestClient(TestServer(app)) as client:
        yield Api(client, ops, tokens, AuditLog(sqlite_sessions))


async def test_a_campaign_is_made_from_an_upload_all_or_nothing(api: Api) -> None:
    sup = await api.as_("supervisor")
    status, made = await api.call("POST", "/api/revisits/campaigns", sup, {"name": " 春节回访 ", "tasks": ROWS})
    assert status == 201 and made["imported"] == 2, made
    assert {k: made["campaign"][k] for k in ("name", "source", "state", "created_by")} == {
        "name": "春节回访", "source": "upload", "state": "active", "created_by": "supervisor-rv"}
    status, from_csv = await api.call("POST", "/api/revisits/campaigns?name=噪音回访", sup, csv=CSV)
    assert status == 201 and from_csv["imported"] == 2 and from_csv["campaign"]["name"] == "噪音回访", from_csv

    with_bad = {"name": "坏的", "tasks": [*ROWS, {"number": "1"}]}
    status, bad = await api.call("POST", "/api/revisits/campaigns", sup, with_bad)
    assert status == 422 and [r["row"] for r in bad["error"]["rows"]] == [3]
    too_long = CSV + "13900000005,a,b,c,extra\n"
    status, bad = await api.call("POST", "/api/revisits/campaigns?name=坏的", sup, csv=too_long)
    assert status == 422 and bad["error"]["rows"] == [{"row": 3, "error": "more values than the header has columns"}]
    for body in ({"tasks": ROWS}, {"name": "  ", "tasks": ROWS}, {"name": "长" * 101, "tasks": ROWS}):
        assert (await api.call("POST", "/api/revisits/campaigns", sup, body))[0] == 400
    assert (await api.call("POST", "/api/revisits/campaigns", sup, csv=CSV))[0] == 400, "a CSV names it in ?name="
    assert (await api.call("POST", "/api/revisits/campaigns", sup, {"name": "x", "tasks": "no"}))[0] == 400

    status, unnamed = await api.call("POST", "/api/revisits/tasks", sup, {"tasks": ROWS[:1]})
    assert status == 201 and unnamed["campaign"]["name"].startswith("上传 ") and unnamed["imported"] == 1
    status, listed = await api.call("GET", "/api/revisits/campaigns", sup)
    assert status == 200
    assert [(c["name"], c["progress"]["total"]) for c in listed["campaigns"]] == [
        (unnamed["campaign"]["name"], 1), ("噪音回访", 2), ("春节回访", 2), ("规则回访", 0)], "nothing half-imported"
    status, whole = await api.call("GET", "/api/revisits", sup)
    assert (whole["total"], whole["pending"]) == (5, 5) and whole["dialer"]["pressure"]["waiting"] == 0


async def test_an_unreadable_csv_upload_is_a_400_and_imports_nothing(api: Api) -> None:
    sup = await api.as_("supervisor")
    huge = "number,salutation,topic,reason\n13800138000,李女士," + "很" * 200_000 + ",upload\n"
    status, body = await api.call("POST", "/api/revisits/tasks", sup, csv=huge)
    assert status == 400 and body["error"]["id"] == "bad_request" and "field larger" in body["error"]["message"]
    async with api.client.post("/api/revisits/tasks", data=b"number\n13800138000\n",
                               headers={**sup, "Content-Type": "text/csv; charset=x-unknown"}) as r:
        assert r.status == 400
    assert (await api.ops.tasks.progress())["total"] == 0


async def test_one_campaign_is_paused_resumed_and_exported_beside_the_master_switch(api: Api) -> None:
    sup = await api.as_("supervisor")
    _, spring = await api.call("POST", "/api/revisits/campaigns", sup, {"name": "春节回访", "tasks": ROWS})
    _, other = await api.call("POST", "/api/revisits/campaigns", sup,
                              {"name": "其他", "tasks": [{"number": "13900000009"}]})
    base = f"/api/revisits/campaigns/{spring['campaign']['id']}"
    status, paused = await api.call("POST", base + "/pause", sup)
    assert status == 200 and paused["state"] == "paused"
    assert [t.id for t in await api.ops.tasks.due(datetime.now(UTC), 10)] == other["ids"]
    assert (await api.call("POST", "/api/revisits/pause", sup))[1]["paused"] is True  # the dialer's master switch
    assert (await api.call("POST", "/api/revisits/resume", sup))[1]["paused"] is False
    assert (await api.call("GET", base, sup))[1]["state"] == "paused", "the master switch leaves campaigns alone"
    status, resumed = await api.call("POST", base + "/resume", sup)
    assert status == 200 and resumed["state"] == "active"
    assert len(await api.ops.tasks.due(datetime.now(UTC), 10)) == 3

    first = spring["ids"][0]
    assert await api.ops.tasks.begin(first, "c-1") and await api.ops.tasks.ended("c-1", "completed") == "done"
    status, one = await api.call("GET", base, sup)
    assert status == 200 and (one["progress"]["done"], one["progress"]["pending"]) == (1, 1)
    status, export = await api.call("GET", base + "/tasks?status=done", sup)
    assert status == 200 and [(t["id"], t["campaign_id"]) for t in export["tasks"]] == [(first, one["id"])]
    assert len((await api.call("GET", base + "/tasks", sup))[1]["tasks"]) == 2
    assert (await api.call("GET", base + "/tasks?status=lost", sup))[0] == 400
    assert (await api.call("GET", base + "/tasks?limit=0", sup))[0] == 400
    for missing in ("/api/revisits/campaigns/99", "/api/revisits/campaigns/abc/pause"):
        status, body = await api.call("GET" if missing.endswith("99") else "POST", missing, sup)
        assert status == 404 and body["error"]["id"] == "not_found"

    second = spring["ids"][1]
    assert await api.ops.tasks.begin(second, "c-2") and await api.ops.tasks.ended("c-2", "refused") == "done"
    assert (await api.call("GET", base, sup))[1]["state"] == "finished"
    status, refused = await api.call("POST", base + "/pause", sup)
    assert status == 409 and refused["error"]["id"] == "finished"
    assert [c["name"] for c in (await api.call("GET", "/api/revisits/campaigns?state=finished", sup))[1]["campaigns"]] \
        == ["春节回访"]
    assert (await api.call("GET", "/api/revisits/campaigns?state=over", sup))[0] == 400


async def test_campaigns_keep_to_roles_and_every_access_is_audited(api: Api) -> None:
    agent, auditor = await api.as_("agent"), await api.as_("auditor")
    for method, path in (("GET", "/api/revisits/campaigns"), ("POST", "/api/revisits/campaigns"),
                         ("GET", "/api/revisits/campaigns/1"), ("POST", "/api/revisits/campaigns/1/pause"),
                         ("GET", "/api/revisits/campaigns/1/tasks")):
        assert (await api.call(method, path, agent, {"name": "x", "tasks": ROWS}))[0] == 403, path
    for path in ("/api/revisits/campaigns", "/api/revisits/campaigns/1", "/api/revisits/campaigns/1/tasks"):
        assert (await api.call("GET", path, auditor))[0] == 200, path
    for path in ("/api/revisits/campaigns", "/api/revisits/campaigns/1/pause", "/api/revisits/campaigns/1/resume"):
        assert (await api.call("POST", path, auditor, {"name": "x", "tasks": ROWS}))[0] == 403, path
    seen = {(e["role"], e["action"], e["resource"], e["allowed"]) for e in await api.audit.recent()}
    assert {("agent", "revisits.campaigns.create", "revisits/campaigns", False),
            ("agent", "revisits.campaigns.pause", "revisits/campaigns/1", False),
            ("auditor", "revisits.campaigns.list", "revisits/campaigns", True),
            ("auditor", "revisits.campaigns.get", "revisits/campaigns/1", True),
            ("auditor", "revisits.campaigns.tasks", "revisits/campaigns/1", True),
            ("auditor", "revisits.campaigns.resume", "revisits/campaigns/1", False)} <= seen


schema = schemathesis.openapi.from_dict(api_document([callback_http.table])).include(path_regex=r"^/api/revisits")


class RevisitServer(ThreadedServer):
    """The web app with the revisit routes, in its own thread; a supervisor's token."""

    async def app(self, sessions: SessionFactory, tokens: ApiTokens) -> web.Application:
        self.token = await tokens.create(name="sup-st", role="supervisor")
        return revisit_app(sessions, tokens)[0]


@pytest.fixture(scope="module")
def revisit_server() -> Iterator[RevisitServer]:
    with RevisitServer.running("hotline-rv-st-") as running:
        yield running


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_revisit_api_holds_to_its_document(case: schemathesis.Case[Any], revisit_server: RevisitServer) -> None:
    # Schema-valid uploads may still be refused for what the schema cannot say (a CSV's content, no ?name=), and
    # unknown query parameters are ignored, as everywhere in the API; the answers must match the document.
    case.call_and_validate(base_url=f"http://127.0.0.1:{revisit_server.port}",
                           headers={"Authorization": f"Bearer {revisit_server.token}"},
                           excluded_checks=[checks.positive_data_acceptance, checks.negative_data_rejection])
