"""Revisits of tickets (R-REV-1): planned when a ticket is closed (the tickets domain calls the listener of
`closed_listener` in the closing transaction) and when its time limit expires unclosed (`callback.expiry`);
the task, or why there is none, goes on the ticket's timeline.

Beijing 5.5.1: "12345 热线电话的诉求，办理时限期满后，应全部或抽样联系诉求人进行回访。" Closed tickets are
revisited all or by the dialplan's `revisit.tickets_sample_rate` (decided by the ticket's number, so the same
ticket gets the same verdict); Tangshan 7.7.1 asks for 100 % (the default, 1.0).
Never revisited: praise and invalid tickets, grid reports, confidential tickets, petitioners without
consent or a phone (Tangshan 7.7.1; Beijing 5.5.2: only with consent); enterprises are revisited by a
person, everyone else by the robot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callback.models import RevisitTask
from callback.planner import sampled
from hotline.core.clock import now
from tickets.models import Ticket
from tickets.timeline import add_event

REASON = "ticket_closed"
NO_REVISIT_TYPES = frozenset({"表扬", "无效"})


def why_not(ticket: Ticket) -> str | None:
    """Why a ticket is not revisited, or None if it is."""
    if ticket.confidential:
        return "confidential"
    if not ticket.revisit_consent:
        return "no_consent"
    if ticket.channel == "网格":
        return "grid_report"
    if ticket.request_type in NO_REVISIT_TYPES:
        return f"type {ticket.request_type}"
    return None if ticket.petitioner_phone else "no_phone"


async def plan_revisit(s: AsyncSession, ticket: Ticket, reason: str, sample_rate: float = 1.0) -> bool:
    """A revisit task for `ticket` for `reason`, unless the rules leave it out, it is outside the sample or it
    has one for that reason already (a ticket closed again after reopening). True if one was planned."""
    skip = why_not(ticket)
    if skip is None and sample_rate < 1 and not sampled(ticket.number, sample_rate):
        skip = "not_sampled"
    if skip is None and await s.scalar(select(RevisitTask.id).where(RevisitTask.ticket_id == ticket.id,
                                                                    RevisitTask.reason == reason)):
        skip = "already_planned"
    if skip is not None:
        add_event(s, ticket.id, "revisit_skipped", "rules", reason=skip, trigger=reason)
        return False
    mode = "human" if ticket.petitioner_enterprise else "robot"
    s.add(RevisitTask(ticket_id=ticket.id, number=ticket.petitioner_phone, reason=reason, mode=mode,
                      created_at=now(), salutation=ticket.petitioner_name[:64], topic=ticket.title[:100]))
    add_event(s, ticket.id, "revisit_planned", "rules", reason=reason, mode=mode)
    return True


async def plan_for_closed(s: AsyncSession, ticket: Ticket) -> None:
    """Every closed ticket the rules allow (the listener with the whole share)."""
    await plan_revisit(s, ticket, REASON)


def closed_listener(sample_rate: float) -> Callable[[AsyncSession, Ticket], Awaitable[None]]:
    """The tickets domain's `on_closed` listener that revisits this share of the closed tickets."""
    async def on_closed(s: AsyncSession, ticket: Ticket) -> None:
        await plan_revisit(s, ticket, REASON, sample_rate)
    return on_closed
