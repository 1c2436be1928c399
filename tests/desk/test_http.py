"""The desk's routes on a real SQLite database with the ACD's live view of calls in memory: the screen pop
(number, line, keys, wait, flags with the warning, earlier calls with ratings and tickets) for the call's agent
only, the reference data every desk reads, and one audit row per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from acd.directory.secrets import PhoneSecrets
from acd.directory.service import AgentDirectory, Rules
from desk import http as desk_http
from desk.form import ticket_form
from desk.lines import Lines
from desk.phrases import phrases
from desk.pop import PopWords, ScreenPop
from dialplans.calendar import WorkCalendar
from dialplans.loader import load_dialplan
from hotline.app.settings import Settings
from hotline.calls.records import CallRecords
from hotline.core.db.engine import SessionFactory
from hotline.core.web.audit import AuditLog
from hotline.core.web.tokens import ApiTokens
from tests.webapp import web_app
from tickets.catalogue import Catalogue
from tickets.form import read_form
from tickets.service import Tickets
from tickets.timelimits import TimeLimits

PLAN = load_dialplan(Settings().core.dialplan_file)
TEAMS = {"8001": "一组", "8002": "一组", "8003": "二组"}
CALLER = "13900139000"


@dataclass
class MemoryLive:
    """The ACD's live call hashes (acd:call:<id>) in memory."""

    calls: dict[str, dict[str, str]] = field(default_factory=dict)

    async def call(self, call_id: str) -> dict[str, str]:
        return dict(self.calls.get(call_id, {}))


@dataclass
class Api:
    client: TestClient[web.Request, web.Application]
    tokens: ApiTokens
    audit: AuditLog
    sessions: SessionFactory
    live: MemoryLive

    async def as_(self, role: str, agent: str | None = None, group: str | None = None) -> dict[str, str]:
        token = await self.tokens.create(name=f"{role}-{agent}-{group}", role=role, agent_id=agent, group=group)
        return {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, who: dict[str, str]) -> tuple[int, Any]:
        async with self.client.get(path, headers=who) as r:
            return r.status, await r.json()


@pytest.fixture
async def api(sqlite_sessions: SessionFactory, tmp_path: Path) -> AsyncIterator[Api]:
    tokens, audit, live = ApiTokens(sqlite_sessions), AuditLog(sqlite_sessions), MemoryLive()
    words = PopWords(tuple(PLAN.rating.labels), PLAN.prompts["watch_warning"])
    pop = ScreenPop(sqlite_sessions, live, Lines(PLAN), words)
    directory = AgentDirectory(sqlite_sessions, Rules.of(PLAN), PhoneSecrets(tmp_path / "secrets.json", {}))
    await directory.seed(PLAN.agents)  # as the service does on its first start
    parts = desk_http.DeskParts(pop, PLAN, ticket_form(PLAN, Catalogue.shipped()), directory)
    app = web_app(sqlite_sessions, tokens, desk_http.routes(parts), teams=TEAMS, audit=audit)
    async with TestClient(TestServer(app)) as client:
        yield Api(client, tokens, audit, sqlite_sessions, live)


async def earlier_call(sessions: SessionFactory, call_id: str, *, agent: str, rating: int | None,
                       days_ago: int) -> None:
    calls, at = CallRecords(sessions), datetime.now(UTC) - timedelta(days=days_ago)
    await calls.start(call_id, sip_call_id=None, caller=CALLER, dialled="12345", started_at=at)
    await calls.assign_agent(call_id, agent, at)
    if rating is not None:
        await calls.rate(call_id, rating, PLAN.rating.labels[rating - 1], at)
    await calls.end(call_id, "ended", at + timedelta(minutes=3))


async def offered_call(api: Api) -> str:
    """A call on 12329 (keys a menu), a watched repeat caller, waiting 12 s and now ringing at 8001."""
    calls, started = CallRecords(api.sessions), datetime.now(UTC) - timedelta(seconds=15)
    await calls.start("now-1", sip_call_id=None, caller=CALLER, dialled="12329", started_at=started,
                      route_mode="dual", route_skill="housing_fund")
    await calls.step("now-1", "menu_key", {"key": "1", "valid": True})
    await calls.step("now-1", "caller_lists", {"labels": ["elderly", "repeat_caller", "watch"]})
    await calls.step("now-1", "queued", {"skill": "housing_fund", "priority": 2})
    entered = int((datetime.now(UTC) - timedelta(seconds=12)).timestamp() * 1000)
    api.live.calls["now-1"] = {"state": "offered", "agent": "8001", "caller": CALLER, "skill": "housing_fund",
                               "entered": str(entered), "flags": "elderly,repeat_caller,watch"}
    return "now-1"


async def test_the_pop_shows_the_caller_line_keys_wait_flags_and_history(api: Api) -> None:
    await earlier_call(api.sessions, "old-1", agent="8002", rating=4, days_ago=3)
    await earlier_call(api.sessions, "old-2", agent="8003", rating=None, days_ago=1)
    tickets = Tickets(api.sessions, Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))
    form = read_form({"channel": "电话", "request_type": "投诉", "title": "噪音扰民", "calls": ["old-1"],
                      "petitioner": {"phone": CALLER}}, Catalogue.shipped())
    linked = await tickets.create(form, "8002")
    loose = await tickets.create(read_form({"channel": "网站", "title": "网上留言", "petitioner": {"phone": CALLER}},
                                           Catalogue.shipped()), "8003")
    call_id = await offered_call(api)

    status, pop = await api.get(f"/api/desk/pop/{call_id}", await api.as_("agent", "8001"))

    assert status == 200, pop
    assert pop["caller"] == CALLER and pop["state"] == "offered" and pop["agent"] == "8001"
    assert pop["line"]["number"] == "12329" and pop["line"]["mode_label"] == "双号并行"
    assert pop["line"]["department"] == "市住房公积金中心" and "12345" in pop["line"]["label"]
    assert pop["route"]["skill_label"] == "住房公积金（12329）"
    assert [k["key"] for k in pop["keys"]] == ["1"]
    assert 11_000 <= pop["waited_ms"] <= 20_000
    assert [f["label"] for f in pop["flags"]["labels"]] == ["老年人", "重复来电", "重点关注"]
    assert pop["flags"]["watch"] and pop["flags"]["warning"] == PLAN.prompts["watch_warning"]
    history = {c["call_id"]: c for c in pop["history"]}
    assert list(history) == ["old-2", "old-1"], "newest first, not the call itself"
    assert history["old-1"]["agent_name"] == "李强" and history["old-1"]["rating_label"] == "不满意"
    assert [(t["number"], t["status_label"]) for t in history["old-1"]["tickets"]] == [(linked.row.number, "草稿")]
    assert history["old-2"]["rating"] is None and history["old-2"]["tickets"] == []
    assert [t["id"] for t in pop["tickets"]] == [loose.id], "the caller's tickets linked to no earlier call"


async def test_only_the_calls_agent_their_supervisor_and_admins_see_the_pop(api: Api) -> None:
    call_id = await offered_call(api)
    path = f"/api/desk/pop/{call_id}"
    for who, expected in (((await api.as_("agent", "8001")), 200), ((await api.as_("agent", "8002")), 403),
                          ((await api.as_("supervisor", group="一组")), 200),
                          ((await api.as_("supervisor", group="二组")), 403),
                          ((await api.as_("admin")), 200), ((await api.as_("auditor")), 403)):
        assert (await api.get(path, who))[0] == expected
    other = await api.as_("agent", "8002")
    assert (await api.get("/api/desk/pop/no-such-call", other))[0] == 403, "unknown looks like someone else's"
    assert (await api.get("/api/desk/pop/no-such-call", await api.as_("admin")))[0] == 404
    status, body = await api.get("/api/desk/pop/bad%20id", other)
    assert status == 400 and body["error"]["id"] == "bad_param"
    async with api.client.get(path) as r:
        assert r.status == 401
    rows = [(e["actor"], e["action"], e["resource"], e["allowed"]) for e in await api.audit.recent()]
    assert ("agent-8002-None", "desk.pop", f"calls/{call_id}", False) in rows
    assert ("agent-8001-None", "desk.pop", f"calls/{call_id}", True) in rows


async def test_after_the_call_its_agent_still_sees_the_pop_while_writing_tickets(api: Api) -> None:
    call_id = await offered_call(api)
    await CallRecords(api.sessions).assign_agent(call_id, "8001", datetime.now(UTC))
    del api.live.calls[call_id]  # the ACD forgot the call when it ended
    status, pop = await api.get(f"/api/desk/pop/{call_id}", await api.as_("agent", "8001"))
    assert status == 200 and pop["agent"] == "8001" and pop["state"] == "connected"
    assert 0 <= pop["waited_ms"] < 5_000, "from the queued step to the answer (both just written)"
    assert (await api.get(f"/api/desk/pop/{call_id}", await api.as_("agent", "8002")))[0] == 403


async def test_every_desk_reads_phrases_targets_and_the_ticket_form(api: Api) -> None:
    agent = await api.as_("agent", "8001")
    status, said = await api.get("/api/desk/phrases", agent)
    assert status == 200
    every = [p for g in said["groups"] for p in g["phrases"]]
    assert every[0]["greeting"] and PLAN.centre.name in every[0]["text"]
    closing = [p for p in every if p.get("closing")]
    assert closing and "评价" in closing[0]["text"], "the closing invites the rating (000 D.1.5)"
    assert "不知道" in said["forbidden"]
    status, targets = await api.get("/api/desk/transfer-targets", agent)
    assert status == 200 and [t["number"] for t in targets["linkage"]] == ["110", "119", "120", "122"]
    assert {"tax", "social_security"} <= {s["id"] for s in targets["skills"]}
    assert {s["agent"] for s in targets["seats"]} == {"8003", "8004"}, "expert and sub-centre seats"
    status, form = await api.get("/api/desk/ticket-form", agent)
    assert status == 200 and form["required_content"]["投诉"] == ["description", "occurred_at", "location", "subject"]
    first = form["categories"][0]
    assert first["value"] == "01" and first["children"][0]["children"][0] == {"value": "010101", "label": "普通护照"}
    assert form["field_labels"]["petitioner.phone"] == "联系电话"
    assert (await api.get("/api/desk/phrases", await api.as_("auditor")))[0] == 403


def test_the_greeting_follows_the_holiday_calendar() -> None:
    new_year = next(h for h in PLAN.holidays if h.greeting == "new_year").period.start
    first = phrases(PLAN, new_year)["groups"][0]["phrases"][0]
    assert first["text"].startswith("新年好") and "（" in first["title"]
    qingming = next(h for h in PLAN.holidays if h.name == "清明节").period.start
    assert phrases(PLAN, qingming)["groups"][0]["phrases"][0]["text"].startswith("您好")


async def test_a_callbacks_pop_says_it_was_placed_from_the_display_number(api: Api) -> None:
    calls = CallRecords(api.sessions)
    await calls.start("callback-1", sip_call_id=None, caller=CALLER, dialled="12345", started_at=datetime.now(UTC),
                      route_mode="callback")
    await calls.assign_agent("callback-1", "8002", datetime.now(UTC))
    status, pop = await api.get("/api/desk/pop/callback-1", await api.as_("agent", "8002"))
    assert status == 200 and pop["direction"] == "outbound" and pop["line"]["number"] == "12345"
    status, pop = await api.get("/api/desk/pop/now-0", await api.as_("agent", "8002"))
    assert status == 403
