"""A ticket's timeline, and what other domains report onto a ticket, each inside the caller's transaction:
the case system took a message (`record_delivery`, the outbox's listener), a revisit ended
(`record_revisit`, called by the revisit robot). Only the tickets domain writes its tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.clock import now
from integration.casesystem.outbox import Delivery, enqueue
from tickets.models import Ticket, TicketCall, TicketEvent


def add_event(s: AsyncSession, ticket_id: int, kind: str, source: str, status: str | None = None,
              at: datetime | None = None, **detail: Any) -> None:
    """One line on the ticket's timeline."""
    s.add(TicketEvent(ticket_id=ticket_id, at=at or now(), kind=kind, status=status, source=source, detail=detail))


async def events(s: AsyncSession, ticket_id: int) -> list[dict[str, Any]]:
    """The ticket's timeline, oldest first."""
    rows = (await s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                            .order_by(TicketEvent.at, TicketEvent.id))).all()
    return [{"at": e.at.isoformat(), "kind": e.kind, "status": e.status, "source": e.source, "detail": e.detail}
            for e in rows]


async def record_delivery(s: AsyncSession, delivery: Delivery) -> None:
    """The case system took a message about a ticket: its case number (the first one given) and a line."""
    row = await s.get(Ticket, delivery.ticket_id, with_for_update=True)
    if row is None:
        return
    if delivery.case_number and row.case_number is None:
        row.case_number = delivery.case_number
    add_event(s, row.id, "delivered", "case-system", message=delivery.kind, case_number=delivery.case_number,
              attempts=delivery.attempts, http_status=delivery.http_status)


@dataclass(frozen=True)
class RevisitResult:
    """A finished revisit of a ticket, as the revisit robot reports it (R-REV-3)."""

    task_id: int
    result: str | None  # completed | refused | human | exhausted …
    answers: dict[str, Any]
    attempts: int
    reason: str
    finished_at: datetime
    calls: list[str] = field(default_factory=list)


async def record_revisit(s: AsyncSession, ticket_id: int, revisit: RevisitResult) -> None:
    """On the ticket's timeline, and to the case system through the outbox (answers go back to it)."""
    ticket = await s.get(Ticket, ticket_id)
    if ticket is None:
        return
    payload = {"ticket": ticket.number, "case_number": ticket.case_number, "result": revisit.result,
               "answers": revisit.answers, "attempts": revisit.attempts,
               "finished_at": revisit.finished_at.isoformat(), "calls": revisit.calls, "reason": revisit.reason}
    add_event(s, ticket.id, "revisited", "revisit-robot", None, revisit.finished_at, result=revisit.result,
              answers=revisit.answers, attempts=revisit.attempts)
    enqueue(s, ticket.id, "revisit.result", payload, f"revisit-{revisit.task_id}", revisit.finished_at)


async def note_call(s: AsyncSession, call_id: str, kind: str, source: str, **detail: Any) -> list[int]:
    """A line on the timeline of every ticket of the call (e.g. answered from a knowledge entry); their ids."""
    ids = list((await s.scalars(select(TicketCall.ticket_id).where(TicketCall.call_id == call_id))).all())
    for ticket_id in ids:
        add_event(s, ticket_id, kind, source, **detail)
    return ids
