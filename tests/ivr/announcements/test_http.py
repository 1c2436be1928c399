"""The announcements' routes on a real database: publishing answers 201 or 422 naming each field, a recording
is taken as WebM/Ogg/WAV bytes (415 another type, 413 past 2 MiB), the audio is served as WAV, ending is 409
the second time; auditors read the log, agents and engineers are refused; every request is audited."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from dialplans.loader import load_dialplan
from hotline.app.settings import Settings
from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry
from hotline.core.web.tokens import ApiTokens
from ivr.announcements import http
from ivr.announcements.audio import AnnouncementAudio
from ivr.announcements.service import Announcements
from ivr.plugin import inbound_lines
from tests.ivr.announcements.fakes import CountingSynthesiser, opus
from tests.webapp import web_app

SOON = datetime.now(UTC) + timedelta(hours=4)


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    tokens: ApiTokens
    sessions: SessionFactory

    async def as_(self, role: str) -> dict[str, str]:
        made = await self.tokens.create(name=f"{role}-ann", role=role, agent_id="8001" if role == "agent" else None)
        return {"Authorization": f"Bearer {made}"}

    async def call(self, method: str, path: str, who: dict[str, str], body: Any = None,
                   audio: tuple[bytes, str] | None = None) -> tuple[int, Any]:
        headers = {**who, "Content-Type": audio[1]} if audio else who
        async with self.client.request(method, path, headers=headers, json=body,
                                       data=io.BytesIO(audio[0]) if audio else None) as r:
            return r.status, (await r.json() if r.content_type == "application/json" else await r.read())


@pytest.fixture
async def api(sqlite_sessions: SessionFactory, tmp_path: Path) -> AsyncIterator[Api]:
    tokens = ApiTokens(sqlite_sessions)
    service = Announcements(sqlite_sessions, AnnouncementAudio(CountingSynthesiser(), tmp_path / "a", "/a"),
                            inbound_lines(load_dialplan(Settings().core.dialplan_file)))
    async with TestClient(TestServer(web_app(sqlite_sessions, tokens, http.routes(service)))) as client:
        yield Api(client, tokens, sqlite_sessions)


async def test_a_supervisor_publishes_records_listens_and_ends(api: Api) -> None:
    sup = await api.as_("supervisor")
    status, made = await api.call("POST", "/api/announcements", sup, {
        "title": "停水", "text": "东城区今天停水。", "lines": ["12345", "12319"], "ends_at": SOON.isoformat()})
    assert status == 201 and made["state"] == "playing" and made["created_by"] == "supervisor-ann", made
    assert made["line_names"] == ["12345政务服务便民热线", "市城市管理局"]
    one = f"/api/announcements/{made['id']}"
    status, recorded = await api.call("PUT", one + "/recording", sup, audio=(opus(1.5, "webm"), "audio/webm"))
    assert status == 200 and recorded["audio"] == "recorded", recorded
    status, wav = await api.call("GET", one + "/audio", sup)
    assert status == 200 and wav[:4] == b"RIFF"
    status, listed = await api.call("GET", "/api/announcements?state=playing", await api.as_("auditor"))
    assert status == 200 and [a["id"] for a in listed["announcements"]] == [made["id"]]
    assert {"number": "12319", "name": "市城市管理局"} in listed["lines"]
    assert (await api.call("POST", one + "/end", sup))[1]["state"] == "ended"
    status, again = await api.call("POST", one + "/end", sup)
    assert (status, again["error"]["id"]) == (409, "announcement_ended")
    async with api.sessions() as s:
        rows = (await s.scalars(select(AuditEntry).where(AuditEntry.action.like("announcements.%"))
                                .order_by(AuditEntry.id))).all()
    assert [(r.action, r.allowed) for r in rows] == [
        ("announcements.create", True), ("announcements.audio", True), ("announcements.audio", True),
        ("announcements.list", True), ("announcements.end", True), ("announcements.end", True)]
    assert rows[0].detail["lines"] == ["12345", "12319"] and rows[1].detail["seconds"] > 1
    assert rows[-1].detail["refused"] == "announcement_ended"  # allowed, but the state said no


async def test_bad_input_is_a_clear_4xx(api: Api) -> None:
    sup = await api.as_("supervisor")
    status, bad = await api.call("POST", "/api/announcements", sup, {
        "text": "停" * 301, "lines": ["99999"], "ends_at": "tomorrow"})
    assert status == 422 and {f["field"] for f in bad["error"]["fields"]} == {"text", "ends_at"}, bad
    status, bad = await api.call("POST", "/api/announcements", sup, {
        "text": "停水", "lines": ["99999"], "ends_at": "2026-12-01T10:00:00"})  # no time zone
    assert status == 422 and [f["field"] for f in bad["error"]["fields"]] == ["ends_at"], bad
    status, bad = await api.call("POST", "/api/announcements", sup, {
        "text": "停水", "lines": ["99999"], "ends_at": SOON.isoformat()})
    assert status == 422 and [f["field"] for f in bad["error"]["fields"]] == ["lines"], bad
    status, made = await api.call("POST", "/api/announcements", sup, {"text": "停水", "ends_at": SOON.isoformat()})
    assert status == 201 and made["lines"] == [] and made["title"] == "停水"
    one = f"/api/announcements/{made['id']}"
    assert (await api.call("PUT", one + "/recording", sup, audio=(b"%PDF-1.4", "application/pdf")))[0] == 415
    assert (await api.call("PUT", one + "/recording", sup, audio=(b"OggS" + bytes(100), "audio/ogg")))[0] == 422
    assert (await api.call("PUT", one + "/recording", sup, audio=(bytes(3 << 20), "audio/wav")))[0] == 413
    assert (await api.call("PUT", "/api/announcements/999/recording", sup, audio=(opus(1), "audio/ogg")))[0] == 404
    assert (await api.call("GET", "/api/announcements/999/audio", sup))[0] == 404
    assert (await api.call("GET", "/api/announcements?state=old", sup))[0] == 400


@pytest.mark.parametrize("role", ["agent", "engineer"])
async def test_agents_and_engineers_are_refused(api: Api, role: str) -> None:
    who = await api.as_(role)
    for method, path in (("GET", "/api/announcements"), ("POST", "/api/announcements"),
                         ("GET", "/api/announcements/1/audio"), ("POST", "/api/announcements/1/end")):
        assert (await api.call(method, path, who, {"text": "x"} if method == "POST" else None))[0] == 403


async def test_auditors_read_but_do_not_publish(api: Api) -> None:
    auditor = await api.as_("auditor")
    assert (await api.call("POST", "/api/announcements", auditor, {"text": "x", "ends_at": SOON.isoformat()}))[0] \
        == 403
    assert (await api.call("POST", "/api/announcements/preview", auditor, {"text": "x"}))[0] == 403
