"""The ticket service on a real SQLite database: no partial writes, the outbox with the submission,
case-system events once each, closure listeners in the closing transaction, and what other domains report
onto a ticket (a delivery, a revisit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dialplans.calendar import WorkCalendar
from hotline.core.db.engine import SessionFactory
from integration.casesystem.models import OutboxMessage
from integration.casesystem.outbox import Delivery
from tickets.catalogue import Catalogue
from tickets.form import BadTicket, read_form
from tickets.models import Ticket
from tickets.service import StaleEvent, TicketLocked, Tickets, TicketView
from tickets.timelimits import TimeLimits
from tickets.timeline import RevisitResult, record_delivery, record_revisit


@pytest.fixture
def tickets(sqlite_sessions: SessionFactory) -> Tickets:
    return Tickets(sqlite_sessions, Catalogue.shipped(), TimeLimits.load("beijing", WorkCalendar()))


def web_ticket(**petitioner: Any) -> dict[str, Any]:
    return {"channel": petitioner.pop("channel", "网站"), "request_type": "咨询", "category": "010101",
            "title": "护照", "content": {"description": "如何办理护照"},
            "petitioner": {"name": "李", "phone": "13800138000", "revisit_consent": True, **petitioner}}


async def count(tickets: Tickets, model: Any) -> int:
    async with tickets.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def submitted(tickets: Tickets, **petitioner: Any) -> TicketView:
    draft = await tickets.create(read_form(web_ticket(**petitioner), tickets.catalogue), "8001")
    return await tickets.submit(draft.id, "8001")


async def test_a_ticket_linking_an_unknown_call_writes_nothing(tickets: Tickets) -> None:
    with pytest.raises(BadTicket, match="no call nope") as refused:
        await tickets.create(read_form({**web_ticket(), "calls": ["nope"]}, tickets.catalogue), "8001")
    assert refused.value.body()["error"] == {"id": "bad_ticket", "message": "calls: no call nope",
                                             "fields": [{"field": "calls", "message": "no call nope"}]}
    assert await count(tickets, Ticket) == 0


async def test_submission_writes_the_outbox_message_once(tickets: Tickets) -> None:
    ticket = await submitted(tickets)
    assert ticket.row.status == "submitted" and set(ticket.row.deadlines) >= {"dispatch", "sign"}
    assert await count(tickets, OutboxMessage) == 1
    with pytest.raises(TicketLocked, match="already submitted"):
        await tickets.submit(ticket.id, "8001")
    assert await count(tickets, OutboxMessage) == 1


async def test_case_events_are_taken_once_each(tickets: Tickets) -> None:
    ticket = await submitted(tickets)
    at = datetime.now(UTC)
    await tickets.case_event("e1", ticket.row.number, "dispatched", at, {"note": "派单"})
    with pytest.raises(StaleEvent, match="already received"):
        await tickets.case_event("e1", ticket.row.number, "signed", at, {})
    with pytest.raises(StaleEvent, match="no ticket"):
        await tickets.case_event("e2", "404", "closed", at, {})
    await tickets.case_event("e2", ticket.row.number, "signed", at, {})  # a refused event leaves no receipt
    assert [e["status"] for e in await tickets.timeline(ticket.id) if e["kind"] == "status"] == ["dispatched", "signed"]


async def test_a_closure_runs_the_listeners_in_the_closing_transaction(tickets: Tickets) -> None:
    ticket = await submitted(tickets)
    heard: list[str] = []

    async def listener(s: AsyncSession, row: Ticket) -> None:
        heard.append(row.status)
        if len(heard) == 1:
            raise RuntimeError("the listener failed")

    tickets.on_closed.append(listener)
    at = datetime.now(UTC)
    with pytest.raises(RuntimeError):
        await tickets.case_event("c1", ticket.row.number, "closed", at, {})
    assert (await tickets.get(ticket.id)).row.status == "submitted", "nothing of the closure was kept"
    await tickets.case_event("c1", ticket.row.number, "closed", at, {})
    assert heard == ["closed", "closed"] and (await tickets.get(ticket.id)).row.status == "closed"
    assert await tickets.revisits(ticket.id) == [], "no revisit robot, no revisits"


async def test_a_late_older_status_goes_on_the_timeline_but_does_not_turn_the_ticket_back(tickets: Tickets) -> None:
    ticket = await submitted(tickets)
    later = datetime.now(UTC)
    await tickets.case_event("s1", ticket.row.number, "signed", later, {})
    shown = await tickets.case_event("s0", ticket.row.number, "dispatched", later - timedelta(minutes=5), {})
    assert shown.row.status == "signed"
    assert [e["status"] for e in await tickets.timeline(ticket.id) if e["kind"] == "status"] == ["dispatched", "signed"]


async def test_a_delivery_and_a_revisit_are_reported_onto_the_ticket(tickets: Tickets) -> None:
    ticket = await submitted(tickets)
    async with tickets.sessions.begin() as s:
        await record_delivery(s, Delivery(ticket.id, "ticket.submitted", "BJ-1", 2, 201))
        await record_delivery(s, Delivery(ticket.id, "revisit.result", "BJ-2", 1, 200))
    assert (await tickets.get(ticket.id)).row.case_number == "BJ-1", "the first case number stays"
    at = datetime.now(UTC)
    async with tickets.sessions.begin() as s:
        await record_revisit(s, ticket.id, RevisitResult(7, "completed", {"satisfaction": {"level": 2}}, 1,
                                                         "ticket_closed", at, ["rv-1"]))
    line = await tickets.timeline(ticket.id)
    assert [(e["kind"], e["detail"].get("attempts")) for e in line if e["kind"] in ("delivered", "revisited")] \
        == [("delivered", 2), ("delivered", 1), ("revisited", 1)]
    async with tickets.sessions() as s:
        message = await s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "revisit.result"))
    assert message is not None and message.idempotency_key == "revisit-7"
    assert (message.payload["ticket"], message.payload["case_number"], message.payload["calls"]) \
        == (ticket.row.number, "BJ-1", ["rv-1"])
    assert await tickets.numbers([ticket.id, 99]) == {ticket.id: ticket.row.number}
