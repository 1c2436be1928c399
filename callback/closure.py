"""Revisits of closed tickets (R-REV-1): the tickets domain calls `plan_for_closed` in the transaction that
closes a ticket; the task, or why there is none, goes on the ticket's timeline.

Never revisited: praise and invalid tickets, grid reports, confidential tickets, petitioners without
consent or a phone (Tangshan 7.7.1; Beijing 5.5.2: only with consent); enterprises are revisited by a
person, everyone else by the robot.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callback.models import RevisitTask
from hotline.core.clock import now
from tickets.models import Ticket
from tickets.timeline import add_event

REASON = "ticket_closed"
NO_REVISIT_TYPES = frozenset({"表扬", "无效"})


def why_not(ticket: Ticket) -> str | None:
    """Why a closed ticket is not revisited, or None if it is."""
    if ticket.confidential:
        return "confidential"
    if not ticket.revisit_consent:
        return "no_consent"
    if ticket.channel == "网格":
        return "grid_report"
    if ticket.request_type in NO_REVISIT_TYPES:
        return f"type {ticket.request_type}"
    return None if ticket.petitioner_phone else "no_phone"


async def plan_for_closed(s: AsyncSession, ticket: Ticket) -> None:
    """A revisit task for a ticket just closed, unless the rules leave it out or it has one already (a
    ticket closed again after reopening)."""
    skip = why_not(ticket)
    if skip is None and await s.scalar(select(RevisitTask.id).where(RevisitTask.ticket_id == ticket.id,
                                                                    RevisitTask.reason == REASON)):
        skip = "already_planned"
    if skip is not None:
        add_event(s, ticket.id, "revisit_skipped", "rules", reason=skip)
        return
    mode = "human" if ticket.petitioner_enterprise else "robot"
    s.add(RevisitTask(ticket_id=ticket.id, number=ticket.petitioner_phone, reason=REASON, mode=mode,
                      created_at=now(), salutation=ticket.petitioner_name[:64], topic=ticket.title[:100]))
    add_event(s, ticket.id, "revisit_planned", "rules", reason=REASON, mode=mode)
