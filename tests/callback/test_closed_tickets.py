"""Closed tickets and the revisit robot on a real SQLite database: which closures plan a revisit (Tangshan
7.7.1, Beijing 5.5.2), once per ticket; a finished revisit goes onto the ticket and to the case system."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from callback.closure import plan_for_closed
from callback.models import RevisitTask
from callback.tasks import RevisitTasks
from dialplans.calendar import WorkCalendar
from dialplans.model import RevisitSettings
from hotline.core.db.engine import SessionFactory
from integration.casesystem.models import OutboxMessage
from tickets.catalogue import Catalogue
from tickets.form import read_form
from tickets.service import Tickets, TicketView
from tickets.timelimits import TimeLimits


@pytest.fixture
def tickets(sqlite_sessions: SessionFactory) -> Tickets:
    tickets = Tickets(sqlite_sessions, Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))
    tickets.on_closed.append(plan_for_closed)
    return tickets


async def closed(tickets: Tickets, event: str = "e1", **petitioner: Any) -> TicketView:
    form = {"channel": petitioner.pop("channel", "网站"), "request_type": petitioner.pop("request_type", "咨询"),
            "category": "010101", "title": "护照", "content": {"description": "如何办理护照", "subject": "出入境窗口",
                                                              "occurred_at": "昨天", "location": "出入境大厅"},
            "petitioner": {"name": "李女士", "phone": "13800138000", "revisit_consent": True, **petitioner}}
    draft = await tickets.create(read_form(form, tickets.catalogue), "8001")
    await tickets.submit(draft.id, "8001")
    await tickets.case_event(event, draft.row.number, "closed", datetime.now(UTC), {"note": "办结"})
    return draft


async def skipped(tickets: Tickets, ticket_id: int) -> list[str]:
    return [e["detail"]["reason"] for e in await tickets.timeline(ticket_id) if e["kind"] == "revisit_skipped"]


@pytest.mark.parametrize(("petitioner", "planned", "skip"), [
    ({}, "robot", None),
    ({"enterprise": True}, "human", None),
    ({"confidential": True}, None, "confidential"),
    ({"revisit_consent": False}, None, "no_consent"),
    ({"channel": "网格"}, None, "grid_report"),
    ({"request_type": "表扬"}, None, "type 表扬"),  # Tangshan: praise is not revisited
    ({"request_type": "无效"}, None, "type 无效"),
    ({"request_type": "投诉"}, "robot", None),
])
async def test_which_closures_plan_a_revisit(tickets: Tickets, petitioner: dict[str, Any], planned: str | None,
                                             skip: str | None) -> None:
    ticket = await closed(tickets, **petitioner)
    async with tickets.sessions() as s:
        modes = (await s.scalars(select(RevisitTask.mode))).all()
    assert modes == ([planned] if planned else [])
    assert await skipped(tickets, ticket.id) == ([skip] if skip else [])


async def test_a_ticket_closed_again_is_not_revisited_twice(tickets: Tickets) -> None:
    ticket = await closed(tickets)
    await tickets.case_event("e2", ticket.row.number, "feedback", datetime.now(UTC), {})
    await tickets.case_event("e3", ticket.row.number, "closed", datetime.now(UTC), {})
    async with tickets.sessions() as s:
        assert len((await s.scalars(select(RevisitTask))).all()) == 1
    assert await skipped(tickets, ticket.id) == ["already_planned"]


async def test_a_finished_revisit_goes_onto_the_ticket_and_to_the_case_system(tickets: Tickets) -> None:
    ticket = await closed(tickets)
    tasks = RevisitTasks(tickets.sessions, RevisitSettings(quiet_s=0))
    tickets.revisits_of = tasks.of_ticket
    [due] = await tasks.due(datetime.now(UTC), 10)
    assert (due.salutation, due.topic) == ("李女士", "护照")
    assert await tasks.begin(due.id, "rv-1")
    await tasks.answer("rv-1", "satisfaction", {"level": 2})
    assert await tasks.ended("rv-1", "completed") == "done"
    line = await tickets.timeline(ticket.id)
    revisited = next(e for e in line if e["kind"] == "revisited")
    assert revisited["detail"]["result"] == "completed" and revisited["source"] == "revisit-robot"
    assert [(r["status"], r["reason"]) for r in await tickets.revisits(ticket.id)] == [("done", "ticket_closed")]
    async with tickets.sessions() as s:
        message = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "revisit.result"))
    assert message is not None and message.payload["calls"] == ["rv-1"]
    assert message.payload["answers"] == {"satisfaction": {"level": 2}}
