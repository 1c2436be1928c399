"""The dialplan routes on a real SQLite database (reloads scripted): who may read, check and apply; problems with
their lines; 409 when the file changed; a refused reload rolled back; every access audited with the sha256s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from dialplans import http as dialplans_http
from dialplans.editor import DialplanEditor
from hotline.app.web import WebParts, build_app
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.health import HealthRegistry
from hotline.core.web.models import AuditEntry
from hotline.core.web.tokens import ApiTokens
from tests.dialplans.editing import ScriptedReloader, scripted_editor
from tests.dialplans.test_editor import greeting_changed


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    tokens: ApiTokens
    editor: DialplanEditor
    reloader: ScriptedReloader

    async def as_(self, role: str) -> dict[str, str]:
        token = await self.tokens.create(name=f"{role}.li", role=role, agent_id="8001" if role == "agent" else None)
        return {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, who: dict[str, str], body: Any = None) -> tuple[int, Any]:
        r = await self.client.request(method, path, headers=who, json=body)
        return r.status, await r.json()


@pytest.fixture
async def api(sqlite_sessions: SessionFactory, tmp_path: Path) -> AsyncIterator[Api]:
    editor, reloader = scripted_editor(tmp_path)
    tokens = ApiTokens(sqlite_sessions)
    app = build_app(WebParts([dialplans_http.routes(editor)], tokens, AuditLog(sqlite_sessions), HealthRegistry(),
                             CollectorRegistry()))
    async with TestClient(TestServer(app)) as client:
        yield Api(client, tokens, editor, reloader)


async def test_only_engineers_and_admins_check_and_apply_auditors_read(api: Api) -> None:
    text = api.editor.text()
    for role in ("agent", "supervisor"):
        who = await api.as_(role)
        for method, path, body in (("GET", "/api/dialplan", None), ("GET", "/api/dialplan/history", None),
                                   ("POST", "/api/dialplan/check", {"text": text}),
                                   ("POST", "/api/dialplan/diff", {"text": text}),
                                   ("POST", "/api/dialplan/apply", {"text": text, "sha256": "0" * 64})):
            assert (await api.call(method, path, who, body))[0] == 403, f"{role} {method} {path}"
    auditor = await api.as_("auditor")
    status, found = await api.call("GET", "/api/dialplan", auditor)
    assert status == 200 and found["text"] == text and found["running_sha256"] == found["sha256"]
    assert (await api.call("GET", "/api/dialplan/history", auditor))[0] == 200
    assert (await api.call("POST", "/api/dialplan/check", auditor, {"text": text}))[0] == 403
    assert (await api.call("POST", "/api/dialplan/apply", auditor, {"text": text, "sha256": found["sha256"]}))[0] \
        == 403
    for role in ("engineer", "admin"):
        assert (await api.call("POST", "/api/dialplan/check", await api.as_(role), {"text": text})) == \
            (200, {"ok": True, "problems": []})


async def test_problems_come_with_their_lines_never_a_5xx(api: Api) -> None:
    engineer = await api.as_("engineer")
    status, checked = await api.call("POST", "/api/dialplan/check", engineer, {"text": "centre:\n  name: [\n"})
    assert status == 200 and checked["ok"] is False
    assert checked["problems"][0]["line"] == 3 and checked["problems"][0]["level"] == "error"
    status, checked = await api.call("POST", "/api/dialplan/check", engineer,
                                     {"text": api.editor.text().replace("mode: sub_centre", "mode: subcentre", 1)})
    assert status == 200 and "sub_centre" in checked["problems"][0]["fix"]
    status, refused = await api.call("POST", "/api/dialplan/diff", engineer, {"text": "numbers: ["})
    assert status == 422 and refused["error"]["id"] == "dialplan_invalid" and refused["error"]["problems"]
    assert (await api.call("POST", "/api/dialplan/check", engineer, {"txt": "x"}))[0] == 422
    assert (await api.call("POST", "/api/dialplan/check", engineer, {"text": "x" * 600_000}))[0] in (413, 422)


async def test_apply_guards_the_file_rolls_back_and_audits_the_versions(api: Api, sqlite_sessions: SessionFactory) \
        -> None:
    engineer = await api.as_("engineer")
    _, found = await api.call("GET", "/api/dialplan", engineer)
    text = greeting_changed(found["text"], "您好，测试热线")
    text = text.replace('  - {number: "12305",', '  - {number: "12304",', 1)
    status, diff = await api.call("POST", "/api/dialplan/diff", engineer, {"text": text})
    assert status == 200 and [f["name"] for f in diff["files"]] == ["hotline.yaml", "extensions.conf"]
    assert diff["changed"] == 2
    status, refused = await api.call("POST", "/api/dialplan/apply", engineer, {"text": "numbers: [", "sha256":
                                                                                 found["sha256"]})
    assert status == 422 and refused["error"]["problems"][0]["line"] in (1, 2)
    api.reloader.refuse = 1
    status, rolled = await api.call("POST", "/api/dialplan/apply", engineer, {"text": text, "sha256": found["sha256"]})
    assert status == 200 and (rolled["applied"], rolled["rolled_back"]) == (False, True)
    assert api.editor.text() == found["text"]
    status, applied = await api.call("POST", "/api/dialplan/apply", engineer, {"text": text, "sha256": found["sha256"]})
    assert status == 200 and applied["applied"] is True and applied["prompts"] == ["greeting"]
    status, stale = await api.call("POST", "/api/dialplan/apply", engineer, {"text": text, "sha256": found["sha256"]})
    assert status == 409 and stale["error"]["id"] == "dialplan_changed"
    _, history = await api.call("GET", "/api/dialplan/history", engineer)
    assert [(v["sha256"], v["running"], v["saved_by"]) for v in history["versions"]] == \
        [(applied["sha256"], True, "engineer.li"), (found["sha256"], False, "hotline run")]
    status, old = await api.call("GET", f"/api/dialplan/history/{found['sha256']}", engineer)
    assert status == 200 and old["text"] == found["text"]
    assert (await api.call("GET", f"/api/dialplan/history/{'e' * 64}", engineer))[0] == 404
    async with sqlite_sessions() as s:
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "dialplan.apply")
                                .order_by(AuditEntry.id))).all()
    assert [(r.allowed, r.detail.get("applied"), r.detail.get("rolled_back")) for r in rows] == \
        [(True, None, None), (True, False, True), (True, True, False), (True, None, None)]
    assert rows[2].detail["from_sha256"] == found["sha256"] and rows[2].detail["sha256"] == applied["sha256"]
    assert rows[3].detail["refused"] == "dialplan_changed"
