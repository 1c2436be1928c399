"""The reports' routes on a real SQLite database: who sees what (a team supervisor: the centre's figures, but
only their own team's agents), clear 400s naming the field, exports that open in Excel, every access audited."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openpyxl import load_workbook
from sqlalchemy import select

from console.reports.http import routes
from console.reports.service import Reports
from hotline.core.db.engine import SessionFactory
from hotline.core.web.models import AuditEntry
from hotline.core.web.tokens import ApiTokens
from tests.console.reports.test_kpis import seed, seeded_day
from tests.webapp import web_app

DAY = "from=2026-11-27&to=2026-11-27"


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    tokens: ApiTokens
    sessions: SessionFactory

    async def as_(self, role: str, group: str | None = None, agent: str | None = None) -> dict[str, str]:
        token = await self.tokens.create(name=f"{role}-{group or agent or 'all'}", role=role, group=group,
                                         agent_id=agent)
        return {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, who: dict[str, str]) -> tuple[int, Any]:
        r = await self.client.get(path, headers=who)
        return r.status, await r.json()


@pytest.fixture
async def api(sqlite_sessions: SessionFactory) -> AsyncIterator[Api]:
    await seed(sqlite_sessions, seeded_day())
    tokens = ApiTokens(sqlite_sessions)
    app = web_app(sqlite_sessions, tokens, routes(Reports(sqlite_sessions)), teams={"8001": "一组", "8002": "二组"})
    async with TestClient(TestServer(app)) as client:
        yield Api(client, tokens, sqlite_sessions)


async def test_a_team_supervisor_sees_the_centre_but_only_their_own_team(api: Api) -> None:
    one = await api.as_("supervisor", group="一组")
    status, body = await api.get(f"/api/reports/kpis?{DAY}", one)
    assert status == 200 and body["totals"]["offered"] == 7 and body["filters"]["team"] is None
    status, body = await api.get(f"/api/reports/kpis?{DAY}&team=一组", one)
    assert status == 200 and body["totals"]["answered"] == 2
    for path in (f"/api/reports/kpis?{DAY}&team=二组", f"/api/reports/kpis?{DAY}&agent=8002",
                 f"/api/reports/agents?{DAY}&team=二组", f"/api/reports/teams?{DAY}&team=二组"):
        assert (await api.get(path, one))[0] == 403, path
    status, body = await api.get(f"/api/reports/agents?{DAY}", one)
    assert [r["agent"] for r in body["rows"]] == ["8001"]
    status, body = await api.get(f"/api/reports/teams?{DAY}", one)
    assert [r["team"] for r in body["rows"]] == ["一组"]
    auditor = await api.as_("auditor")
    status, body = await api.get(f"/api/reports/agents?{DAY}", auditor)
    assert {r["agent"] for r in body["rows"]} == {"8001", "8002"}
    for role in ("agent", "engineer"):
        assert (await api.get(f"/api/reports/kpis?{DAY}", await api.as_(role, agent="8001")))[0] == 403


@pytest.mark.parametrize(("query", "field"), [
    ("to=2026-11-27", "from"), ("from=2026-11-27", "to"), ("from=2026-11-28&to=2026-11-27", "to"),
    ("from=2025-01-01&to=2026-11-27", "to"), ("from=2026-02-30&to=2026-03-01", "from"),
    (f"{DAY}&by=year", "by"), (f"{DAY}&short_abandon_s=-1", "short_abandon_s"),
    ("from=0001-01-01&to=0001-01-02", "from"), ("from=9999-12-30&to=9999-12-31", "from"),
    (f"{DAY}&short_abandon_s=nan", "short_abandon_s"),
])
async def test_bad_parameters_are_400_naming_the_field(api: Api, query: str, field: str) -> None:
    status, body = await api.get(f"/api/reports/kpis?{query}", await api.as_("admin"))
    assert status == 400
    assert field in body["error"]["message"]


async def test_other_bad_parameters(api: Api) -> None:
    admin = await api.as_("admin")
    assert (await api.get(f"/api/reports/volumes?{DAY}&dimension=colour", admin))[0] == 400
    assert (await api.get("/api/reports/monthly?month=2026-13", admin))[0] == 400
    assert (await api.get("/api/reports/monthly?month=0001-01", admin))[0] == 400
    assert (await api.get("/api/reports/export?report=nope&format=csv", admin))[0] == 400
    assert (await api.get("/api/reports/export?report=kpis&format=xlsx", admin))[0] == 400  # no from/to


async def test_volumes_and_the_monthly_report(api: Api) -> None:
    admin = await api.as_("admin")
    status, body = await api.get(f"/api/reports/volumes?{DAY}&dimension=line", admin)
    assert status == 200 and {r["key"]: r["offered"] for r in body["rows"]} == {"12345": 6, "12366": 1}
    status, body = await api.get(f"/api/reports/volumes?{DAY}&dimension=region", admin)
    assert status == 200 and [(r["key"], r["tickets"]) for r in body["rows"]] == [("东城区", 1)], body
    status, body = await api.get("/api/reports/monthly?month=2026-11", admin)
    assert status == 200 and body["totals"]["answered"] == 5 and len(body["daily"]) == 30
    assert body["previous"]["from"] == "2026-10-01" and body["last_year"]["from"] == "2025-11-01"
    assert body["request_types"][0]["key"] == "投诉" and body["teams"]
    assert [(r["label"], r["tickets"]) for r in body["regions"]] == [("东城区", 1)], body["regions"]


async def test_exports_open_in_excel_with_the_same_figures_and_are_audited(api: Api) -> None:
    admin = await api.as_("admin")
    r = await api.client.get(f"/api/reports/export?report=kpis&format=xlsx&{DAY}&by=day", headers=admin)
    assert r.status == 200 and "attachment" in r.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(await r.read())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    head = rows[0]
    day = dict(zip(head, rows[1], strict=True))
    assert day["期间"] == "2026-11-27" and day["呼入量"] == 7 and day["接通率"] == round(5 / 7, 4)
    assert day["平均等待(秒)"] == 15.0 and day["非常满意"] == 1
    rate_cell = sheet.cell(row=2, column=head.index("接通率") + 1)
    assert rate_cell.number_format == "0.00%"
    r = await api.client.get(f"/api/reports/export?report=agents&format=csv&{DAY}", headers=admin)
    raw = await r.read()
    assert raw.startswith("\ufeff".encode()) and "工号".encode() in raw
    monthly = await api.client.get("/api/reports/export?report=monthly&format=xlsx&month=2026-11", headers=admin)
    book = load_workbook(io.BytesIO(await monthly.read()))
    assert book.sheetnames == ["总体", "每日", "热线号码", "诉求类型", "问题分类", "班组"]
    async with api.sessions() as s:
        audits = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "reports.export"))).all()
    assert len(audits) == 3 and all(a.allowed for a in audits)
    assert audits[0].detail["params"]["from"] == "2026-11-27" and audits[0].detail["format"] == "xlsx"
