"""The knowledge routes on a real SQLite database: each role's reach (a department's editor: their department;
checking and publishing: the knowledge staff, never one's own), the bulk import checked as a whole, a call
answered from an entry (on the call's ticket and in the figures), gaps, the public search; all audited."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import Workbook
from sqlalchemy import func, select

from hotline.calls.models import CallRecord
from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry
from hotline.core.web.tokens import ApiTokens
from knowledge.http import routes
from knowledge.importer import XLSX
from knowledge.models import KnowledgeEntry
from tests.knowledge.parts import knowledge_parts
from tests.webapp import web_app
from tickets.models import Ticket, TicketCall, TicketEvent

TEAMS = {"8001": "一组", "8003": "二组"}
WHO = {"8001": ("agent", "8001", None), "8003": ("agent", "8003", None), "sup1": ("supervisor", None, "一组"),
       "staff": ("supervisor", None, None), "auditor": ("auditor", None, None), "admin": ("admin", None, None),
       "rs": ("editor", None, "市人社局"), "yb": ("editor", None, "市医保局"), "nodept": ("editor", None, None),
       "engineer": ("engineer", None, None)}
AT = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
ENTRY = {"title": "灵活就业人员参加职工医保", "questions": ["灵活就业怎么交医保", "个体户能参加职工医保吗"],
         "answer": "灵活就业人员可在户籍地或居住地医保经办机构办理职工医保参保登记。", "department": "市医保局",
         "category": "", "keywords": ["灵活就业", "医保"], "source": "市医保局通知", "phone": True}


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    bearer: dict[str, str]
    sessions: SessionFactory

    async def call(self, method: str, path: str, who: str, body: Any = None, *, data: bytes | None = None,
                   content_type: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.bearer[who]}"}
        if content_type:
            headers["Content-Type"] = content_type
        async with self.client.request(method, path, json=body if data is None else None, data=data,
                                       headers=headers) as r:
            return r.status, await r.json()

    async def published(self, who: str = "yb", **over: Any) -> int:
        status, entry = await self.call("POST", "/api/knowledge/entries", who, {**ENTRY, **over})
        assert status == 201, entry
        assert (await self.call("POST", f"/api/knowledge/entries/{entry['id']}/check", "staff"))[0] == 200
        assert (await self.call("POST", f"/api/knowledge/entries/{entry['id']}/publish", "staff"))[0] == 200
        return int(entry["id"])


@pytest.fixture
async def api(sqlite_sessions: SessionFactory) -> AsyncIterator[Api]:
    tokens = ApiTokens(sqlite_sessions)
    async with sqlite_sessions.begin() as s:
        for call_id, agent in (("c1", "8001"), ("c3", "8003")):
            s.add(CallRecord(call_id=call_id, caller="13800000001", dialled="12345", started_at=AT, answered_at=AT,
                             agent=agent, steps=[]))
        s.add(Ticket(id=1, number="T1", status="submitted", channel="电话", urgency="一般", created_by="8001",
                     petitioner_phone="13800000001", created_at=AT, updated_at=AT))
        await s.flush()
        s.add(TicketCall(ticket_id=1, call_id="c1", linked_at=AT))
    app = web_app(sqlite_sessions, tokens, routes(knowledge_parts(sqlite_sessions)), teams=TEAMS)
    bearer = {name: await tokens.create(name=name, role=role, agent_id=agent, group=group)
              for name, (role, agent, group) in WHO.items()}
    async with TestClient(TestServer(app)) as client:
        yield Api(client, bearer, sqlite_sessions)


async def test_the_life_cycle_by_role(api: Api) -> None:
    status, body = await api.call("POST", "/api/knowledge/entries", "rs", ENTRY)
    assert (status, body["error"]["id"]) == (403, "other_department")
    assert (await api.call("POST", "/api/knowledge/entries", "nodept", ENTRY))[0] == 403
    assert (await api.call("POST", "/api/knowledge/entries", "8001", ENTRY))[0] == 403
    status, entry = await api.call("POST", "/api/knowledge/entries", "yb", ENTRY)
    assert status == 201 and entry["state"] == "draft" and entry["author"] == "yb"
    one = f"/api/knowledge/entries/{entry['id']}"
    assert (await api.call("GET", one, "rs"))[0] == 404  # another department's entry looks like none
    assert (await api.call("PATCH", one, "rs", {"title": "改"}))[0] == 404
    assert (await api.call("POST", one + "/check", "yb"))[0] == 403  # editors do not check
    status, body = await api.call("POST", one + "/publish", "staff")
    assert (status, body["error"]["id"]) == (409, "not_checked")
    assert (await api.call("PATCH", one, "staff", {"keywords": ["灵活就业", "医保", "职工医保"]}))[0] == 200
    status, body = await api.call("POST", one + "/check", "staff")  # staff edited it last: their own now
    assert (status, body["error"]["id"]) == (409, "own_entry")
    assert (await api.call("POST", one + "/check", "admin"))[1]["state"] == "checked"
    assert (await api.call("POST", one + "/publish", "staff"))[1]["state"] == "published"
    status, found = await api.call("GET", "/api/knowledge/search?q=个体户能不能参加医保&line=12345", "8001")
    assert status == 200 and found["results"][0]["id"] == entry["id"]
    assert found["results"][0]["question"] == "个体户能参加职工医保吗" and found["took_ms"] >= 0
    assert {"id", "title", "question", "answer", "department", "category", "category_label", "region",
            "keywords", "valid_until", "score", "uses"} <= set(found["results"][0])
    status, detail = await api.call("GET", one, "auditor")
    assert status == 200 and [v["action"] for v in detail["versions"]][:2] == ["published", "checked"]
    status, body = await api.call("POST", one + "/withdraw", "rs", {"reason": "不是我的"})
    assert status == 404
    status, body = await api.call("POST", one + "/withdraw", "yb", {"reason": "政策调整"})
    assert status == 200 and body["state"] == "withdrawn"
    assert (await api.call("GET", "/api/knowledge/search?q=个体户怎么交医保", "8001"))[1]["results"] == []


async def test_bad_fields_are_named(api: Api) -> None:
    status, body = await api.call("POST", "/api/knowledge/entries", "yb",
                                  {**ENTRY, "questions": [], "valid_until": "2000-01-01", "category": "x"})
    assert status == 422
    assert {f["field"] for f in body["error"]["fields"]} == {"questions", "valid_until"}
    status, body = await api.call("POST", "/api/knowledge/entries", "yb", {**ENTRY, "category": "999999"})
    assert (status, body["error"]["fields"][0]["field"]) == (422, "category")


def _csv(*rows: str) -> bytes:
    return ("\ufeff" + "标题,问题,答复口径,部门,分类,区域,关键词,生效日期,失效日期,来源\n" + "\n".join(rows)).encode()


async def test_the_import_is_checked_as_a_whole(api: Api) -> None:
    bad = _csv("退休金认证,退休金怎么认证；养老金认证在哪里,通过手机APP人脸识别认证。,市人社局,,,养老金,"
               "2026-01-01,,通知",
               ",没有标题,答复,市人社局,,,,,,",
               "医保报销,医保怎么报销,答复,市医保局,,,,,,",
               "失业金,失业金怎么领,答复,市人社局,不存在的分类,,,2026-13-01,,")
    status, body = await api.call("POST", "/api/knowledge/import", "rs", data=bad, content_type="text/csv")
    assert status == 422
    assert [(r["row"], r["field"]) for r in body["rows"]] == [(3, "标题"), (4, "部门"), (5, "分类"), (5, "生效日期")]
    said = [r["message"] for r in body["rows"]]  # in the editors' words, not pydantic's English
    assert said[0] in ("必填", "不能为空") and said[3].startswith("日期格式应为"), said
    async with api.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(KnowledgeEntry)) == 0
    good = _csv("退休金认证,退休金怎么认证；养老金认证在哪里,通过手机APP人脸识别认证。,市人社局,养老机构,,养老金,"
                "2026-01-01,,通知")
    status, body = await api.call("POST", "/api/knowledge/import", "rs", data=good, content_type="text/csv")
    assert (status, body["imported"]) == (201, 1), body
    status, entry = await api.call("GET", f"/api/knowledge/entries/{body['ids'][0]}", "rs")
    assert entry["questions"] == ["退休金怎么认证", "养老金认证在哪里"] and entry["state"] == "draft"
    assert entry["versions"][0]["action"] == "imported"


async def test_an_xlsx_import(api: Api) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["标题", "问题", "答复口径", "部门", "分类", "区域", "关键词", "生效日期", "失效日期", "来源"])
    sheet.append(["门诊慢特病申请", "慢性病怎么申请\n门特怎么办", "到定点医院申请。", "市医保局", "", "和平区",
                  "慢特病", datetime(2026, 1, 1), None, "办法"])
    data = io.BytesIO()
    book.save(data)
    status, body = await api.call("POST", "/api/knowledge/import", "yb", data=data.getvalue(), content_type=XLSX)
    assert (status, body["imported"]) == (201, 1), body
    status, body = await api.call("POST", "/api/knowledge/import", "rs", data=data.getvalue(), content_type=XLSX)
    assert status == 422 and body["rows"] == [{"row": 2, "field": "部门", "message": "只能导入本部门的知识"}]
    status, body = await api.call("POST", "/api/knowledge/import", "yb", data=b"PK\x03\x04junk", content_type=XLSX)
    assert status == 400


async def test_a_call_answered_from_an_entry_and_a_gap(api: Api) -> None:
    entry_id = await api.published()
    assert (await api.call("POST", "/api/knowledge/uses", "8003", {"call_id": "c1", "entry_id": entry_id}))[0] == 404
    status, used = await api.call("POST", "/api/knowledge/uses", "8001", {"call_id": "c1", "entry_id": entry_id})
    assert status == 201 and used["tickets"] == [1] and used["uses"] == 1
    status, body = await api.call("POST", "/api/knowledge/uses", "8001", {"call_id": "c1", "entry_id": entry_id})
    assert (status, body["error"]["id"]) == (409, "already_used")
    async with api.sessions() as s:
        event = await s.scalar(select(TicketEvent).where(TicketEvent.kind == "knowledge_used"))
    assert event is not None and event.detail["entry_id"] == entry_id
    status, gap = await api.call("POST", "/api/knowledge/gaps", "8001", {"call_id": "c1", "question": "电动车上牌"})
    assert status == 201 and gap["state"] == "open" and gap["agent"] == "8001"
    assert (await api.call("POST", "/api/knowledge/gaps", "sup1", {"call_id": "c3", "question": "x"}))[0] == 404
    assert [g["id"] for g in (await api.call("GET", "/api/knowledge/gaps?state=open", "rs"))[1]["gaps"]] == [gap["id"]]
    assert (await api.call("POST", f"/api/knowledge/gaps/{gap['id']}/close", "staff", {}))[0] == 422
    status, closed = await api.call("POST", f"/api/knowledge/gaps/{gap['id']}/close", "staff", {"note": "已转交"})
    assert status == 200 and closed["state"] == "closed"
    await api.call("GET", "/api/knowledge/search?q=电动车上牌", "8001")
    status, figures = await api.call("GET", "/api/knowledge/figures?from=2026-11-01", "staff")
    assert status == 200 and figures["gaps_open"] == 0
    assert figures["most_used"][0]["id"] == entry_id and figures["most_used"][0]["uses"] == 1
    assert {"q": "电动车上牌", "count": 1} in figures["no_result_searches"]
    assert figures["by_department"] == [{"department": "市医保局", "draft": 0, "checked": 0, "published": 1,
                                         "expired": 0, "withdrawn": 0, "past_review": 0, "expiring": 0,
                                         "update_days_avg": None}]
    assert figures["direct_answer"]["by_agent"] == [{"agent": "8001", "calls": 1, "direct": 1, "rate": 1.0},
                                                    {"agent": "8003", "calls": 1, "direct": 0, "rate": 0.0}]
    assert figures["direct_answer"]["by_line"] == [{"line": "12345", "calls": 2, "direct": 1, "rate": 0.5}]
    status, theirs = await api.call("GET", "/api/knowledge/figures", "rs")
    assert status == 200 and theirs["by_department"] == [] and theirs["direct_answer"]["by_agent"] == []


async def test_suggestions_from_the_line_and_the_public_search(api: Api) -> None:
    entry_id = await api.published("admin", department="市人力资源社会保障局", title="社保卡补办",
                                   questions=["社保卡丢了怎么办"], keywords=["社保卡"])
    status, body = await api.call("GET", "/api/knowledge/suggest?line=12333", "8001")
    assert status == 200 and body["department"] == "市人力资源社会保障局" and body["results"][0]["id"] == entry_id
    assert (await api.call("GET", "/api/knowledge/suggest?line=12345", "8001"))[1] == {"department": None,
                                                                                       "results": []}
    assert (await api.call("GET", "/api/public/knowledge?q=社保卡丢了", "8001"))[0] == 403
    status, body = await api.call("GET", "/api/public/knowledge?q=社保卡丢了", "auditor")
    assert status == 200 and body["results"][0]["id"] == entry_id
    assert "department" not in body["results"][0] and "uses" not in body["results"][0]
    assert (await api.call("GET", "/api/knowledge/search?q=x", "engineer"))[0] == 403
    async with api.sessions() as s:
        refused = await s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.allowed.is_(False)))
    assert refused == 2
