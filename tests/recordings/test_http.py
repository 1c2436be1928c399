"""The recording routes on a real database and local store: byte ranges, the waveform, expired audio, legal holds."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dialplans.calendar import WorkCalendar
from hotline.calls.models import CallRecord, Recording
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.tokens import ApiTokens
from recordings import http as recordings_http
from recordings.catalog import RecordingCatalog
from recordings.keyring import Keyring
from recordings.sealed_store import SealedStore
from recordings.sealing import seal
from recordings.store import LocalStore
from tests.webapp import web_app
from tickets import http as tickets_http
from tickets.catalogue import Catalogue
from tickets.models import Ticket, TicketCall
from tickets.service import Tickets
from tickets.timelimits import TimeLimits

AUDIO = bytes(range(256)) * 4  # 1024 bytes standing in for an Ogg file
AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    sessions: SessionFactory
    tokens: ApiTokens

    async def as_(self, role: str, agent: str | None = None, group: str | None = None) -> dict[str, str]:
        token = await self.tokens.create(name=f"{role}-r", role=role, agent_id=agent, group=group)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(tmp_path: Path, sqlite_sessions: SessionFactory) -> AsyncIterator[Api]:
    sessions = sqlite_sessions
    store = SealedStore(LocalStore(tmp_path / "store"), Keyring.plain())  # as the service opens it, without keys
    paths = {}
    for key, data in (("a.opus", AUDIO), ("a.png", b"\x89PNG\r\n\x1a\n"), ("b.opus", AUDIO)):
        scratch = store.scratch(key)
        scratch.write_bytes(data)
        paths[key] = await store.put(scratch, key, "")
    async with sessions.begin() as s:
        for call_id in ("c1", "c2"):
            s.add(CallRecord(call_id=call_id, caller="13800138000", dialled="12345", started_at=AT, agent="8001",
                             steps=[]))
        await s.flush()
        s.add(Recording(id=1, call_id="c1", path=paths["a.opus"], format="opus", started_at=AT, status="stored",
                        waveform_path=paths["a.png"], review=True))
        s.add(Recording(id=2, call_id="c2", path=paths["b.opus"], format="opus", started_at=AT, status="expired",
                        expired_at=AT))
        s.add(Ticket(id=7, number="T7", status="submitted", channel="phone", urgency="一般", created_by="8001",
                     created_at=AT, updated_at=AT))
        await s.flush()
        s.add(TicketCall(ticket_id=7, call_id="c1", linked_at=AT))
    tokens = ApiTokens(sessions)
    tickets = Tickets(sessions, Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))
    app = web_app(sessions, tokens, tickets_http.routes(tickets, None),
                  recordings_http.routes(RecordingCatalog(sessions, store)), teams={"8001": "一组"})
    async with TestClient(TestServer(app)) as client:
        yield Api(client, sessions, tokens)


async def test_byte_ranges_are_served_exactly(api: Api) -> None:
    sup = await api.as_("supervisor")
    for asked, status, body, content_range in (
            (None, 200, AUDIO, None), ("bytes=0-9", 206, AUDIO[:10], "bytes 0-9/1024"),
            ("bytes=1000-", 206, AUDIO[1000:], "bytes 1000-1023/1024"),
            ("bytes=-4", 206, AUDIO[-4:], "bytes 1020-1023/1024"),
            ("bytes=1000-5000", 206, AUDIO[1000:], "bytes 1000-1023/1024")):
        headers = {**sup, "Range": asked} if asked else sup
        async with api.client.get("/api/recordings/1/audio", headers=headers) as r:
            assert r.status == status, asked
            assert await r.read() == body and r.headers.get("Content-Range") == content_range
            assert r.headers["Accept-Ranges"] == "bytes" and r.headers["Content-Type"] == "audio/ogg"
            assert r.headers["Content-Length"] == str(len(body)) and "Transfer-Encoding" not in r.headers
    async with api.client.get("/api/recordings/1/audio", headers={**sup, "Range": "bytes=2000-"}) as r:
        assert r.status == 416 and r.headers["Content-Range"] == "bytes */1024"
    async with api.client.get("/api/recordings/1/audio", headers={**sup, "Range": "pages=1-2"}) as r:
        assert r.status == 416


async def test_a_recording_sealed_with_a_key_not_given_is_refused_plainly(api: Api) -> None:
    async with api.sessions() as s:
        stored = Path((await s.get_one(Recording, 1)).path)
    stored.chmod(0o644)
    with io.BytesIO(AUDIO) as plain, stored.open("wb") as out:
        seal(plain, out, os.urandom(32))
    auditor = await api.as_("auditor")
    async with api.client.get("/api/recordings/1/audio", headers=auditor) as r:
        body = await r.json()
        assert r.status == 503 and body["error"]["id"] == "recording_key_missing", body
        assert "HOTLINE_RECORDINGS_KEY" in body["error"]["message"]
    stored.write_bytes(stored.read_bytes()[:30])  # not even a whole record: cut short
    async with api.client.get("/api/recordings/1/audio", headers=auditor) as r:
        assert r.status == 503 and (await r.json())["error"]["id"] == "audio_altered"


async def test_waveform_review_filter_and_expired_audio(api: Api) -> None:
    sup = await api.as_("supervisor")
    async with api.client.get("/api/recordings/1/waveform", headers=sup) as r:
        assert r.status == 200 and (await r.read()).startswith(b"\x89PNG")
    async with api.client.get("/api/recordings/2/audio", headers=sup) as r:
        assert r.status == 410
    async with api.client.get("/api/recordings?review=1", headers=sup) as r:
        listed = (await r.json())["recordings"]
    assert [x["id"] for x in listed] == [1] and listed[0]["tickets"] == ["T7"] and listed[0]["waveform"]
    async with api.client.get("/api/recordings/1/waveform", headers=await api.as_("agent", "8002")) as r:
        assert r.status == 403


async def test_legal_hold_needs_the_right_role_and_a_reason(api: Api) -> None:
    body = {"hold": True, "reason": "行政复议证据"}
    async with api.client.put("/api/tickets/7/legal-hold", json=body, headers=await api.as_("agent", "8001")) as r:
        assert r.status == 403
    auditor = await api.as_("auditor")
    async with api.client.put("/api/tickets/7/legal-hold", json={"hold": True}, headers=auditor) as r:
        assert r.status == 400
    async with api.client.put("/api/tickets/99/legal-hold", json=body, headers=auditor) as r:
        assert r.status == 404
    async with api.client.put("/api/tickets/7/legal-hold", json=body, headers=auditor) as r:
        assert r.status == 200 and await r.json() == {"ticket": "T7", "legal_hold": True, "reason": "行政复议证据"}
    async with api.sessions() as s:
        ticket = await s.get_one(Ticket, 7)
    assert ticket.legal_hold and ticket.legal_hold_reason == "行政复议证据"
    async with api.client.put("/api/tickets/7/legal-hold", json={"hold": False}, headers=auditor) as r:
        assert r.status == 403, "auditors place holds, they do not release them"
    async with api.client.put("/api/tickets/7/legal-hold", json={"hold": False}, headers=await api.as_("admin")) as r:
        assert r.status == 200 and (await r.json())["legal_hold"] is False


async def test_a_team_supervisor_hears_only_their_team(api: Api) -> None:
    async with api.client.get("/api/recordings/1/audio", headers=await api.as_("supervisor", group="一组")) as r:
        assert r.status == 200
    other = await api.as_("supervisor", group="二组")
    async with api.client.get("/api/recordings/1/audio", headers=other) as r:
        assert r.status == 403
    async with api.client.get("/api/recordings", headers=other) as r:
        assert (await r.json())["recordings"] == []
    async with api.client.get("/api/recordings/1/audio", headers=await api.as_("auditor")) as r:
        assert r.status == 200


async def test_a_confidential_tickets_call_is_heard_only_by_roles_that_read_such_tickets(api: Api) -> None:
    async with api.sessions.begin() as s:
        (await s.get_one(Ticket, 7)).confidential = True
    own, auditor = await api.as_("agent", "8001"), await api.as_("auditor")
    for who in (own, auditor):
        async with api.client.get("/api/recordings/1/audio", headers=who) as r:
            assert r.status == 403
        async with api.client.get("/api/recordings?call_id=c1", headers=who) as r:
            assert (await r.json())["recordings"] == []
    async with api.client.get("/api/recordings?call_id=c1", headers=await api.as_("admin")) as r:
        assert [x["id"] for x in (await r.json())["recordings"]] == [1]
    async with api.client.get("/api/recordings/1/audio", headers=await api.as_("supervisor", group="一组")) as r:
        assert r.status == 200


async def test_every_access_is_audited_under_the_recording(api: Api) -> None:
    own, stranger = await api.as_("agent", "8001"), await api.as_("agent", "8002")
    for path, who in (("/api/recordings/1/audio?download=1", own), ("/api/recordings/1/audio", stranger),
                      ("/api/recordings/1/waveform", own), ("/api/recordings/9/audio", own)):
        async with api.client.get(path, headers={**who, "Range": "bytes=0-9"}):
            pass
    async with api.client.get("/api/recordings?call_id=c1", headers=own) as r:
        listed = (await r.json())["recordings"]
    assert [(x["id"], x["agent"], x["group"]) for x in listed] == [(1, "8001", "一组")]
    seen = [(e["actor"], e["action"], e["resource"], e["allowed"], e["detail"].get("range"))
            for e in reversed(await AuditLog(api.sessions).recent()) if not e["action"].startswith("tokens.")]
    assert seen == [("agent-r", "recordings.download", "recordings/1", True, "bytes=0-9"),
                    ("agent-r", "recordings.listen", "recordings/1", False, "bytes=0-9"),
                    ("agent-r", "recordings.waveform", "recordings/1", True, "bytes=0-9"),
                    ("agent-r", "recordings.listen", "recordings/9", True, "bytes=0-9"),
                    ("agent-r", "recordings.search", "recordings?call_id=c1", True, None)]
